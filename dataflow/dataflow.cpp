#include "dataflow/dataflow.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <sstream>

#include "common/input_error.hpp"
#include "common/saturating.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

bool is_valid_dim(Dim dim) {
  return dim_index(dim) >= 0 && dim_index(dim) < kNumDims;
}

std::string dim_text(Dim dim) {
  return std::string(1, dim_letter(dim));
}

std::string all_dims_text() {
  std::string text;
  for (Dim dim : kAllDims) text += (text.empty() ? "" : ", ") + dim_text(dim);
  return text;
}

std::string level_field(int level, const std::string& field) {
  return "levels[" + std::to_string(level) + "]." + field;
}

std::string violation(const std::string& field, const std::string& problem,
                      const std::string& allowed) {
  return field + ": " + problem + " (allowed: " + allowed + ")";
}

std::string range_text(int64_t max_value) {
  return "1.." + std::to_string(max_value);
}

void check_tiles(const Layer& layer, const Dataflow& dataflow, int level,
                 std::vector<std::string>& violations) {
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    const int64_t tile = dataflow.levels[level].tile[d];
    const int64_t parent =
        level == 0 ? layer.dims()[d] : std::max<int64_t>(1, dataflow.levels[level - 1].tile[d]);
    const std::string field = level_field(level, "tile." + dim_text(dim));
    if (tile < 1) {
      violations.push_back(
          violation(field, std::to_string(tile) + " is below 1", range_text(parent)));
    } else if (tile > parent) {
      const std::string parent_name = level == 0
                                          ? "the layer's " + dim_text(dim)
                                          : std::string("the ") + level_name(level - 1) + " tile";
      violations.push_back(violation(
          field, std::to_string(tile) + " exceeds " + parent_name + " " + std::to_string(parent),
          range_text(parent)));
    }
  }
}

void check_order(const Dataflow& dataflow, int level, std::vector<std::string>& violations) {
  const auto& order = dataflow.levels[level].order;
  std::array<int, kNumDims> occurrences{};
  for (int position = 0; position < kNumDims; ++position) {
    if (!is_valid_dim(order[position])) {
      violations.push_back(violation(
          level_field(level, "order[" + std::to_string(position) + "]"),
          "invalid dim value " + std::to_string(dim_index(order[position])), all_dims_text()));
      return;
    }
    ++occurrences[dim_index(order[position])];
  }
  std::string problems;
  for (Dim dim : kAllDims) {
    const int count = occurrences[dim_index(dim)];
    if (count == 1) continue;
    problems += (problems.empty() ? "" : ", ") + dim_text(dim) +
                (count == 0 ? " is missing" : " appears " + std::to_string(count) + " times");
  }
  if (!problems.empty()) {
    violations.push_back(
        violation(level_field(level, "order"), problems, "a permutation of " + all_dims_text()));
  }
}

void check_fanout(const ArchSpec& arch, const Dataflow& dataflow, int level,
                  std::vector<std::string>& violations) {
  const LevelMapping& mapping = dataflow.levels[level];
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    const std::string field = level_field(level, "spatial." + dim_text(dim));
    const int64_t fanout = mapping.fanout[d];
    const int64_t available = available_fanout(dataflow, level, dim);
    if (fanout < 1) {
      violations.push_back(
          violation(field, std::to_string(fanout) + " is below 1", range_text(available)));
      continue;
    }
    if (fanout > available) {
      const std::string what =
          level == kNumLevels - 1
              ? "the L0 tile's " + std::to_string(available) + " elements along " + dim_text(dim)
              : "the " + std::to_string(available) + " " + level_name(level + 1) + " tiles along " +
                    dim_text(dim) + " in the " + level_name(level) + " tile";
      violations.push_back(
          violation(field, std::to_string(fanout) + " exceeds " + what, range_text(available)));
    }
    const Axis axis = mapping.axis[d];
    if (axis != Axis::Any && (level == kNumLevels - 1 || arch.array_rows * arch.array_cols <= 1)) {
      violations.push_back(
          violation(field,
                    std::string("bound to ") + axis_name(axis) +
                        (level == kNumLevels - 1 ? " at L0, whose units are a PE's MAC lanes"
                                                 : ", but the arch has no array: {rows, cols}"),
                    "a fan-out without rows/cols"));
    }
  }
  const int64_t units = mapping.units();
  if (level == kNumLevels - 1 && units > arch.macs_per_pe) {
    violations.push_back(violation(level_field(level, "spatial"),
                                   "uses " + std::to_string(units) + " MAC lanes, the arch has " +
                                       std::to_string(arch.macs_per_pe) + " per PE",
                                   "product <= " + std::to_string(arch.macs_per_pe)));
  }
}

// Where a dataflow names rows and columns, what it puts on each must fit the array's.
void check_array_axes(const ArchSpec& arch, const Dataflow& dataflow,
                      std::vector<std::string>& violations) {
  if (!binds_array_axes(dataflow)) return;
  const std::array<std::pair<Axis, int64_t>, 2> axes = {
      {{Axis::Rows, arch.array_rows}, {Axis::Cols, arch.array_cols}}};
  for (const auto& [axis, size] : axes) {
    const int64_t used = array_units_on(dataflow, axis);
    if (used > size) {
      violations.push_back(violation(std::string("levels[0..1].spatial.") + axis_name(axis),
                                     "puts " + std::to_string(used) + " units on " +
                                         axis_name(axis) + ", the array has " +
                                         std::to_string(size),
                                     "product <= " + std::to_string(size)));
    }
  }
}

void check_footprint(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow, int level,
                     std::vector<std::string>& violations) {
  if (overflow_bytes(layer, arch, dataflow, level) == 0) return;
  const DimArray& tile = dataflow.levels[level].tile;
  const KOrigin origin = k_origin(dataflow, level);
  const auto copies_text = [&arch](Tensor tensor) {
    return std::string(buffer_copies(arch, tensor) == 2 ? " x2 double-buffered" : "");
  };
  if (level == kNumLevels - 1 && l0_partitioned(arch)) {
    for (Tensor tensor : kAllTensors) {
      const int64_t needed = tensor_footprint_bytes(layer, arch, tile, tensor, level, origin);
      const int64_t capacity = arch.l0_partition_bytes[static_cast<int>(tensor)];
      if (needed <= capacity) continue;
      violations.push_back(violation(
          level_field(level, "tile"),
          std::string("L0 ") + tensor_name(tensor) + " footprint " + std::to_string(needed) +
              " B (" + std::to_string(footprint_elements(layer, tile, tensor, origin)) +
              " words x " + std::to_string(arch.word_bytes) + " B" + copies_text(tensor) +
              ") exceeds its " + std::to_string(capacity) + " B scratchpad",
          std::string(tensor_name(tensor)) + " footprint <= " + std::to_string(capacity) + " B"));
    }
    return;
  }
  // Only a mix of double- and single-buffered tensors needs the copies named per tensor.
  const bool mixed = arch.double_buffered != TensorFlags{true, true, true} &&
                     arch.double_buffered != TensorFlags{};
  std::string breakdown;
  for (Tensor tensor : kAllTensors) {
    if (bypasses_level(arch, tensor, level)) continue;
    breakdown += std::string(breakdown.empty() ? "" : " + ") + tensor_name(tensor) + " " +
                 std::to_string(footprint_elements(layer, tile, tensor, origin)) +
                 (mixed ? copies_text(tensor) : "");
  }
  breakdown += " words x " + std::to_string(arch.word_bytes) + " B";
  if (!mixed && flag_of(arch.double_buffered, Tensor::Input)) breakdown += ", x2 double-buffered";
  const int64_t footprint = footprint_bytes(layer, arch, dataflow, level);
  const int64_t capacity = level_capacity_bytes(arch, level);
  violations.push_back(violation(level_field(level, "tile"),
                                 std::string(level_name(level)) + " footprint " +
                                     std::to_string(footprint) + " B (" + breakdown +
                                     ") exceeds the " + std::to_string(capacity) + " B buffer",
                                 "footprint <= " + std::to_string(capacity) + " B"));
}

// An operand that bypasses L1 arrives in the PEs once per step, so each PE's L0 tile holds its
// whole share of the L1 tile along every dim that operand depends on.
void check_l1_bypass(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                     std::vector<std::string>& violations) {
  for (Dim dim : kAllDims) {
    if (!tied_to_l1_share(layer, arch, dim)) continue;
    const int d = dim_index(dim);
    const int64_t share = l1_bypass_share(dataflow, d);
    const int64_t tile = dataflow.levels[2].tile[d];
    if (tile == share) continue;
    violations.push_back(violation(level_field(2, "tile") + "." + dim_text(dim),
                                   "is " + std::to_string(tile) +
                                       ", but an operand that depends on " + dim_text(dim) +
                                       " bypasses L1, so a PE holds its whole share of the L1 tile",
                                   "exactly " + std::to_string(share)));
  }
}

bool tiles_positive(const LevelMapping& mapping) {
  return std::all_of(mapping.tile.begin(), mapping.tile.end(),
                     [](int64_t tile) { return tile >= 1; });
}

// ---- YAML ----

const std::vector<std::string>& dim_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> letters;
    for (Dim dim : kAllDims) letters.push_back(dim_text(dim));
    return letters;
  }();
  return names;
}

// A required map or sequence field (the read_* helpers cover scalars); `where` is its path.
YAML::Node required_node(const YAML::Node& parent, const std::string& key, const FieldPath& where,
                         const std::string& allowed = "") {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) where.fail("missing required field", allowed);
  return node;
}

// A required nested map holding only the schema's keys.
YAML::Node read_section(const YAML::Node& parent, const std::string& key, const FieldPath& where,
                        const std::vector<std::string>& known_keys) {
  const YAML::Node section = required_node(parent, key, where);
  require_known_keys(section, where, known_keys);
  return section;
}

Dim read_dim(const YAML::Node& map, const std::string& key, const FieldPath& where) {
  Dim dim = Dim::K;
  parse_dim(read_choice(map, key, where, dim_names()), dim);
  return dim;
}

std::array<Dim, kNumDims> read_order(const YAML::Node& level_node, const FieldPath& where) {
  const YAML::Node order_node =
      required_node(level_node, "order", where, "a permutation of " + all_dims_text());
  require_sequence(order_node, where);
  // A file written before the batch dim lists six dims; N then runs outermost.
  const bool without_batch = order_node.size() == static_cast<std::size_t>(kNumDims - 1);
  if (order_node.size() != static_cast<std::size_t>(kNumDims) && !without_batch) {
    where.fail("has " + std::to_string(order_node.size()) + " dims",
               "a permutation of " + all_dims_text());
  }
  std::array<Dim, kNumDims> order{};
  std::array<bool, kNumDims> seen{};
  std::size_t filled = 0;
  if (without_batch) {
    order[filled++] = Dim::N;
    seen[dim_index(Dim::N)] = true;
  }
  for (std::size_t position = 0; position < order_node.size(); ++position) {
    const YAML::Node item = order_node[position];
    const FieldPath item_where = where.index(position);
    Dim dim = Dim::K;
    if (!item.IsScalar() || !parse_dim(item.Scalar(), dim)) {
      item_where.fail("unknown dim '" + (item.IsScalar() ? item.Scalar() : std::string("?")) + "'",
                      all_dims_text());
    }
    if (seen[dim_index(dim)]) {
      item_where.fail(dim_text(dim) + " appears twice", "a permutation of " + all_dims_text());
    }
    seen[dim_index(dim)] = true;
    order[filled++] = dim;
  }
  return order;
}

// Fan-outs of one spatial map, `{K: 4, C: 3}`, bound to `axis`.
void read_fanouts(const YAML::Node& map, const FieldPath& where, Axis axis, LevelMapping& mapping) {
  require_map(map, where);
  for (const auto& entry : map) {
    const std::string key = entry.first.as<std::string>();
    Dim dim = Dim::K;
    if (!parse_dim(key, dim)) where.child(key).fail("unknown dim '" + key + "'", all_dims_text());
    const int d = dim_index(dim);
    if (mapping.fanout[d] != 1 || mapping.axis[d] != Axis::Any) {
      where.child(key).fail(key + " is unrolled twice", "each dim once per level");
    }
    mapping.fanout[d] = read_int(map, key, where, 1, kMaxInt64);
    mapping.axis[d] = mapping.fanout[d] > 1 ? axis : Axis::Any;
  }
}

// `spatial:` as a fan-out per dim, optionally under `rows:` and `cols:`, or the one-dim form
// `{dim: K, fanout: 4}` of files written before several dims could be unrolled.
void read_spatial(const YAML::Node& level_node, const FieldPath& where, LevelMapping& mapping) {
  const YAML::Node spatial = required_node(level_node, "spatial", where);
  require_map(spatial, where);
  if (spatial["dim"] || spatial["fanout"]) {
    require_known_keys(spatial, where, {"dim", "fanout"});
    mapping.set_single_spatial(read_dim(spatial, "dim", where),
                               read_int(spatial, "fanout", where, 1, kMaxInt64));
    return;
  }
  std::vector<std::string> known = dim_names();
  known.insert(known.end(), {"rows", "cols"});
  require_known_keys(spatial, where, known);
  YAML::Node unbound(YAML::NodeType::Map);
  for (const auto& entry : spatial) {
    const std::string key = entry.first.as<std::string>();
    if (key != "rows" && key != "cols") unbound[key] = entry.second;
  }
  read_fanouts(unbound, where, Axis::Any, mapping);
  if (spatial["rows"]) read_fanouts(spatial["rows"], where.child("rows"), Axis::Rows, mapping);
  if (spatial["cols"]) read_fanouts(spatial["cols"], where.child("cols"), Axis::Cols, mapping);
}

LevelMapping read_level(const YAML::Node& node, const FieldPath& where, int level) {
  require_known_keys(node, where, {"level", "spatial", "order", "tile"});
  read_choice(node, "level", where, {level_name(level)});

  LevelMapping mapping;
  read_spatial(node, where.child("spatial"), mapping);
  mapping.order = read_order(node, where.child("order"));

  const FieldPath tile_where = where.child("tile");
  const YAML::Node tile = read_section(node, "tile", tile_where, dim_names());
  for (Dim dim : kAllDims) {
    // N may be absent (files written before the batch dim): one sample per tile.
    const std::optional<int64_t> absent = dim == Dim::N ? std::optional<int64_t>(1) : std::nullopt;
    mapping.tile[dim_index(dim)] = read_int(tile, dim_text(dim), tile_where, 1, kMaxInt64, absent);
  }
  return mapping;
}

// ---- MAESTRO ----

}  // namespace

// MAESTRO maps output rows/cols as Y'/X' (Y/X are input coordinates), and its depthwise layer
// (DSCONV) names the channels C with K = 1, the opposite of our K = channels, C = 1.
std::string maestro_dim(Dim dim, const Layer& layer) {
  const bool depthwise = layer.type == LayerType::DepthwiseConv;
  switch (dim) {
    case Dim::K:
      return depthwise ? "C" : "K";
    case Dim::C:
      return depthwise ? "K" : "C";
    case Dim::Y:
      return "Y'";
    case Dim::X:
      return "X'";
    default:
      return dim_text(dim);
  }
}

namespace {

std::string maestro_identifier(const std::string& name) {
  std::string identifier = name.empty() ? "layer" : name;
  for (char& c : identifier) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return identifier;
}

// One block of directives: each unit below receives a `tile` chunk per step, walked in `order`,
// with `spatial_dim` spread over the units.
void write_maestro_block(std::ostream& out, const Layer& layer, const std::string& comment,
                         const std::array<Dim, kNumDims>& order, const DimArray& tile,
                         const Dim* spatial_dim) {
  out << "      // " << comment << "\n";
  for (Dim dim : order) {
    const int64_t size = tile[dim_index(dim)];
    const bool spatial = spatial_dim != nullptr && *spatial_dim == dim;
    out << "      " << (spatial ? "SpatialMap(" : "TemporalMap(") << size << "," << size << ") "
        << maestro_dim(dim, layer) << ";\n";
  }
}

// The units `level` fans out over and what each of them holds per step, for block comments.
struct MaestroUnits {
  const char* block;     // the level whose tiles the units hold
  const char* units;     // "clusters"
  const char* per_step;  // "one cluster's tile"
};
constexpr std::array<MaestroUnits, kNumLevels> kMaestroUnits = {{
    {"L1", "clusters", "one cluster's tile"},
    {"L0", "PEs per cluster", "one PE's tile"},
    {"MAC lanes", "lanes per PE", "one element"},
}};

// `level`'s fan-out. MAESTRO allows one SpatialMap per block, so each unrolled dim gets its own
// nested Cluster and block (a level unrolling nothing gets Cluster(1, P)). A block passes its
// parent's chunk down whole along the dims later blocks split and along the temporal ones, so
// only the last block walks the child tiles in `child_order`; a fold along one unrolled dim
// stays in its own block. The comment line before each Cluster names the dcp level and any
// axis binding, which load_maestro_dataflow reads to group nested Clusters into one level.
void write_maestro_fanout(std::ostream& out, const Layer& layer, int level,
                          const LevelMapping& mapping, const std::array<Dim, kNumDims>& child_order,
                          const DimArray& child_tile) {
  std::vector<Dim> unrolled = mapping.spatial_dims();
  if (unrolled.empty()) unrolled.push_back(mapping.main_spatial_dim());
  const MaestroUnits& units = kMaestroUnits[level];
  DimArray chunk = mapping.tile;
  for (std::size_t i = 0; i < unrolled.size(); ++i) {
    const Dim& dim = unrolled[i];
    const int d = dim_index(dim);
    const bool last = i + 1 == unrolled.size();
    chunk[d] = child_tile[d];
    out << "      // dcp: " << level_name(level) << " fan-out";
    if (mapping.axis[d] != Axis::Any) out << " on " << axis_name(mapping.axis[d]);
    out << "\n      Cluster(" << mapping.fanout[d] << ", P);\n";
    std::string comment =
        std::string(units.block) + ": " +
        (mapping.fanout[d] > 1 ? maestro_dim(dim, layer) + " spread over " +
                                     std::to_string(mapping.fanout[d]) + " " + units.units
                               : std::string("no fan-out"));
    if (last) comment += ", " + std::string(units.per_step) + " per step";
    write_maestro_block(out, layer, comment, child_order, last ? child_tile : chunk, &dim);
  }
}

}  // namespace

const char* level_name(int level) {
  static const char* const kNames[kNumLevels] = {"L2", "L1", "L0"};
  return kNames[level];
}

const char* axis_name(Axis axis) {
  static const char* const kNames[] = {"any", "rows", "cols"};
  return kNames[static_cast<int>(axis)];
}

int64_t product(const DimArray& values) {
  int64_t result = 1;
  for (const int64_t value : values) result = saturating_mul(result, value);
  return result;
}

int64_t LevelMapping::units() const {
  return product(fanout);
}

std::vector<Dim> LevelMapping::spatial_dims() const {
  std::vector<Dim> dims;
  for (Dim dim : kAllDims)
    if (fanout[dim_index(dim)] > 1) dims.push_back(dim);
  return dims;
}

Dim LevelMapping::main_spatial_dim() const {
  Dim best = Dim::K;
  for (Dim dim : kAllDims)
    if (fanout[dim_index(dim)] > fanout[dim_index(best)]) best = dim;
  return best;
}

void LevelMapping::set_single_spatial(Dim dim, int64_t ways) {
  fanout = kUnitDims;
  axis = {};
  fanout[dim_index(dim)] = ways;
}

Axis LevelMapping::resolved_axis(int level, Dim dim) const {
  const Axis bound = axis[dim_index(dim)];
  if (bound != Axis::Any) return bound;
  return level == 0 ? Axis::Rows : Axis::Cols;
}

bool Dataflow::operator==(const Dataflow& other) const {
  if (name != other.name) return false;
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& a = levels[level];
    const LevelMapping& b = other.levels[level];
    if (a.fanout != b.fanout || a.axis != b.axis || a.order != b.order || a.tile != b.tile) {
      return false;
    }
  }
  return true;
}

int64_t groups_spanned(const Layer& layer, int64_t tile_k, KOrigin origin) {
  if (layer.groups <= 1) return 1;
  const int64_t group_size = layer.output_channels_per_group();
  if (origin == KOrigin::MultipleOfSize && (group_size % tile_k == 0 || tile_k % group_size == 0))
    return std::min(layer.groups, std::max<int64_t>(1, tile_k / group_size));
  // Anywhere: the first channel may be a group's last, and the other tile_k - 1 run on.
  return std::min(layer.groups, ceil_div(tile_k - 1, group_size) + 1);
}

KOrigin k_origin(const Dataflow& dataflow, int level) {
  const int k = dim_index(Dim::K);
  const int64_t size = dataflow.levels[level].tile[k];
  if (size < 1) return KOrigin::Anywhere;
  for (int enclosing = 0; enclosing < level; ++enclosing)
    if (dataflow.levels[enclosing].tile[k] % size != 0) return KOrigin::Anywhere;
  return KOrigin::MultipleOfSize;
}

int64_t footprint_elements(const Layer& layer, const DimArray& tile, Tensor tensor,
                           KOrigin origin) {
  const auto size = [&tile](Dim dim) { return tile[dim_index(dim)]; };
  switch (tensor) {
    case Tensor::Input: {
      const int64_t rows =
          saturating_add(saturating_mul(size(Dim::Y) - 1, layer.stride), size(Dim::R));
      const int64_t cols =
          saturating_add(saturating_mul(size(Dim::X) - 1, layer.stride), size(Dim::S));
      const int64_t channels =
          saturating_mul(size(Dim::C), groups_spanned(layer, size(Dim::K), origin));
      return saturating_mul(saturating_mul(channels, rows), saturating_mul(cols, size(Dim::N)));
    }
    case Tensor::Weight: {
      // A matmul's second operand is an activation: one per sample.
      const int64_t samples = layer.type == LayerType::Matmul ? size(Dim::N) : 1;
      return saturating_mul(saturating_mul(size(Dim::K), size(Dim::C)),
                            saturating_mul(saturating_mul(size(Dim::R), size(Dim::S)), samples));
    }
    case Tensor::Output:
      return saturating_mul(saturating_mul(size(Dim::K), size(Dim::N)),
                            saturating_mul(size(Dim::Y), size(Dim::X)));
  }
  return 0;
}

bool bypasses_level(const ArchSpec& arch, Tensor tensor, int level) {
  if (level == 0) return flag_of(arch.l2_bypass, tensor);
  return level == 1 && flag_of(arch.l1_bypass, tensor);
}

int64_t l1_bypass_share(const Dataflow& dataflow, int d) {
  const LevelMapping& cluster = dataflow.levels[1];
  return (cluster.tile[d] + cluster.fanout[d] - 1) / cluster.fanout[d];
}

bool keeps_l1_bypass_ties(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow) {
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    if (tied_to_l1_share(layer, arch, dim) &&
        dataflow.levels[2].tile[d] != l1_bypass_share(dataflow, d))
      return false;
  }
  return true;
}

bool tied_to_l1_share(const Layer& layer, const ArchSpec& arch, Dim dim) {
  for (Tensor tensor : kAllTensors)
    if (flag_of(arch.l1_bypass, tensor) && tensor_uses_dim(layer, tensor, dim)) return true;
  return false;
}

int64_t tensor_footprint_bytes(const Layer& layer, const ArchSpec& arch, const DimArray& tile,
                               Tensor tensor, int level, KOrigin origin) {
  if (bypasses_level(arch, tensor, level)) return 0;
  return saturating_mul(
      saturating_mul(footprint_elements(layer, tile, tensor, origin), arch.word_bytes),
      buffer_copies(arch, tensor));
}

int64_t footprint_bytes(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                        int level) {
  int64_t bytes = 0;
  const KOrigin origin = k_origin(dataflow, level);
  for (Tensor tensor : kAllTensors) {
    bytes = saturating_add(bytes, tensor_footprint_bytes(layer, arch, dataflow.levels[level].tile,
                                                         tensor, level, origin));
  }
  return bytes;
}

int64_t overflow_bytes(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                       int level) {
  if (level == kNumLevels - 1 && l0_partitioned(arch)) {
    int64_t overflow = 0;
    const KOrigin origin = k_origin(dataflow, level);
    for (Tensor tensor : kAllTensors) {
      const int64_t needed =
          tensor_footprint_bytes(layer, arch, dataflow.levels[level].tile, tensor, level, origin);
      overflow = saturating_add(
          overflow,
          std::max<int64_t>(0, needed - arch.l0_partition_bytes[static_cast<int>(tensor)]));
    }
    return overflow;
  }
  return std::max<int64_t>(
      0, footprint_bytes(layer, arch, dataflow, level) - level_capacity_bytes(arch, level));
}

int64_t level_capacity_bytes(const ArchSpec& arch, int level) {
  switch (level) {
    case 0:
      return arch.l2_bytes;
    case 1:
      return arch.l1_bytes;
    default:
      return arch.l0_bytes;
  }
}

const DimArray& parent_tile(const Dataflow& dataflow, int level, const DimArray& layer_dims) {
  return level == 0 ? layer_dims : dataflow.levels[level - 1].tile;
}

int64_t units_at_level(const ArchSpec& arch, const Dataflow& dataflow, int level) {
  if (level == 0) return arch.num_pes;
  // At least one PE per cluster even while a generator's L2 fan-out overshoots the array (the
  // repair lowers it), so that every fan-out drawn from this stays at least 1.
  if (level == 1)
    return std::max<int64_t>(1, arch.num_pes / std::max<int64_t>(1, dataflow.levels[0].units()));
  return arch.macs_per_pe;
}

int64_t available_fanout(const Dataflow& dataflow, int level, Dim dim) {
  const int64_t tile = dataflow.levels[level].tile[dim_index(dim)];
  if (level == kNumLevels - 1) return tile;
  return ceil_div(tile, dataflow.levels[level + 1].tile[dim_index(dim)]);
}

int64_t pes_used(const Dataflow& dataflow) {
  return saturating_mul(dataflow.levels[0].units(), dataflow.levels[1].units());
}

int64_t array_units_on(const Dataflow& dataflow, Axis axis, const DimArray& l2_units,
                       const DimArray& l1_units) {
  int64_t units = 1;
  for (int level = 0; level < kNumLevels - 1; ++level) {
    const DimArray& per_dim = level == 0 ? l2_units : l1_units;
    for (Dim dim : kAllDims)
      if (dataflow.levels[level].resolved_axis(level, dim) == axis)
        units = saturating_mul(units, per_dim[dim_index(dim)]);
  }
  return units;
}

int64_t array_units_on(const Dataflow& dataflow, Axis axis) {
  return array_units_on(dataflow, axis, dataflow.levels[0].fanout, dataflow.levels[1].fanout);
}

bool binds_array_axes(const Dataflow& dataflow) {
  for (int level = 0; level < kNumLevels - 1; ++level)
    for (const Axis axis : dataflow.levels[level].axis)
      if (axis != Axis::Any) return true;
  return false;
}

std::vector<std::string> legality_violations(const Layer& layer, const ArchSpec& arch,
                                             const Dataflow& dataflow) {
  std::vector<std::string> violations;
  std::array<bool, kNumLevels> positive{};
  for (int level = 0; level < kNumLevels; ++level) {
    check_tiles(layer, dataflow, level, violations);
    check_order(dataflow, level, violations);
    positive[level] = tiles_positive(dataflow.levels[level]);
  }
  // Sub-tile counts need the tiles of this level and the next one to be positive.
  for (int level = 0; level < kNumLevels; ++level) {
    const bool next_positive = level == kNumLevels - 1 || positive[level + 1];
    if (positive[level] && next_positive) check_fanout(arch, dataflow, level, violations);
  }
  const int64_t pes = pes_used(dataflow);
  if (pes > arch.num_pes) {
    violations.push_back(violation(
        level_field(0, "spatial") + " x " + level_field(1, "spatial"),
        "uses " + std::to_string(pes) + " PEs, the arch has " + std::to_string(arch.num_pes),
        "product <= " + std::to_string(arch.num_pes)));
  }
  check_array_axes(arch, dataflow, violations);
  if (positive[1] && positive[2]) check_l1_bypass(layer, arch, dataflow, violations);
  for (int level = 0; level < kNumLevels; ++level) {
    if (positive[level]) check_footprint(layer, arch, dataflow, level, violations);
  }
  return violations;
}

void require_legal(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                   const std::string& source) {
  const std::vector<std::string> violations = legality_violations(layer, arch, dataflow);
  if (!violations.empty()) throw InputError(source, "", violations.front());
}

Dataflow load_dataflow(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath where{path, ""};
  require_known_keys(root, where, {"name", "levels"});

  Dataflow dataflow;
  dataflow.name = read_string(root, "name", where, std::filesystem::path(path).stem().string());
  const FieldPath levels_where = where.child("levels");
  const std::string levels_allowed = "exactly 3 levels: L2, L1, L0 in that order";
  const YAML::Node levels = required_node(root, "levels", levels_where, levels_allowed);
  require_sequence(levels, levels_where);
  if (levels.size() != static_cast<std::size_t>(kNumLevels)) {
    levels_where.fail("has " + std::to_string(levels.size()) + " levels", levels_allowed);
  }
  for (int level = 0; level < kNumLevels; ++level) {
    dataflow.levels[level] = read_level(levels[level], levels_where.index(level), level);
  }
  return dataflow;
}

namespace {
void write_fanouts(YAML::Emitter& out, const LevelMapping& mapping, Axis axis) {
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    if (mapping.fanout[d] > 1 && mapping.axis[d] == axis)
      out << YAML::Key << dim_text(dim) << YAML::Value << mapping.fanout[d];
  }
}
}  // namespace

std::string dataflow_to_yaml(const Dataflow& dataflow) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << dataflow.name;
  out << YAML::Key << "levels" << YAML::Value << YAML::BeginSeq;
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& mapping = dataflow.levels[level];
    out << YAML::BeginMap << YAML::Key << "level" << YAML::Value << level_name(level);
    out << YAML::Key << "spatial" << YAML::Value << YAML::Flow << YAML::BeginMap;
    write_fanouts(out, mapping, Axis::Any);
    for (const Axis axis : {Axis::Rows, Axis::Cols}) {
      if (std::find(mapping.axis.begin(), mapping.axis.end(), axis) == mapping.axis.end()) continue;
      out << YAML::Key << axis_name(axis) << YAML::Value << YAML::BeginMap;
      write_fanouts(out, mapping, axis);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
    out << YAML::Key << "order" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (Dim dim : mapping.order) out << dim_text(dim);
    out << YAML::EndSeq << YAML::Comment("outermost first");
    out << YAML::Key << "tile" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (Dim dim : kAllDims) {
      out << YAML::Key << dim_text(dim) << YAML::Value << mapping.tile[dim_index(dim)];
    }
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string dataflow_to_maestro(const Dataflow& dataflow, const Layer& layer) {
  const LevelMapping& l2 = dataflow.levels[0];
  const LevelMapping& l0 = dataflow.levels[2];
  const int64_t lanes = saturating_mul(pes_used(dataflow), l0.units());
  const int64_t input_rows = (layer.Y - 1) * layer.stride + layer.R;
  const int64_t input_cols = (layer.X - 1) * layer.stride + layer.S;
  const bool depthwise = layer.type == LayerType::DepthwiseConv;

  std::ostringstream out;
  out << "// dcp dataflow '" << dataflow.name << "' for layer '" << layer.name << "' ("
      << layer_type_name(layer.type) << ")\n";
  out << "// Blocks from outer to inner: L2 global-buffer tiles, L1 cluster tiles, L0 PE tiles, "
         "MAC lanes;\n// a level that unrolls several dims has one nested Cluster per dim.\n";
  out << "// Run MAESTRO with num_pes = " << lanes
      << " (clusters x PEs x lanes) so that the outermost block is the whole array.\n";
  if (layer.type == LayerType::Gemm || layer.type == LayerType::Matmul) {
    out << "// A " << layer_type_name(layer.type) << " written as a 1x1 convolution: Y = rows, "
        << "C = input features, K = output features.\n";
  }
  if (layer.groups > 1 && !depthwise) {
    out << "// Grouped convolution (" << layer.groups << " groups): MAESTRO sees C = " << layer.C
        << " input channels shared by all K, so its input counts are per group.\n";
  }
  if (layer.repeat > 1) {
    out << "// The layer runs " << layer.repeat << " independent times; MAESTRO models one.\n";
  }
  out << "Network dcp {\n";
  out << "  Layer " << maestro_identifier(layer.name) << " {\n";
  out << "    Type: " << (depthwise ? "DSCONV" : "CONV") << "\n";
  out << "    Stride { X: " << layer.stride << ", Y: " << layer.stride << " }\n";
  out << "    Dimensions { K: " << (depthwise ? 1 : layer.K)
      << ", C: " << (depthwise ? layer.K : layer.C) << ", Y: " << input_rows
      << ", X: " << input_cols << ", R: " << layer.R << ", S: " << layer.S << ", N: " << layer.N
      << " }\n";
  out << "    Dataflow {\n";
  write_maestro_block(out, layer, "L2: one global-buffer tile per step", l2.order, l2.tile,
                      nullptr);
  for (int level = 0; level < kNumLevels; ++level) {
    const bool innermost = level == kNumLevels - 1;
    const LevelMapping& child = dataflow.levels[innermost ? level : level + 1];
    write_maestro_fanout(out, layer, level, dataflow.levels[level], child.order,
                         innermost ? kUnitDims : child.tile);
  }
  out << "    }\n";
  out << "  }\n";
  out << "}\n";
  return out.str();
}

}  // namespace dcp
