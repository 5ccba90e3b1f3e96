#include "sim/dataflow.hpp"

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

// Written without `a + b - 1`, which overflows for tiles near the int64 limit.
int64_t ceil_div(int64_t numerator, int64_t denominator) {
  return numerator / denominator + (numerator % denominator != 0 ? 1 : 0);
}

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

// Groups of a grouped convolution whose output channels a K tile touches; each brings its own
// C input channels. Exact when tiles align with group boundaries, an upper bound otherwise.
int64_t groups_spanned(const Layer& layer, int64_t tile_k) {
  if (layer.groups <= 1) return 1;
  const int64_t group_size = layer.output_channels_per_group();
  const int64_t spanned = ceil_div(tile_k, group_size) + (tile_k % group_size != 0 ? 1 : 0);
  return std::min(layer.groups, spanned);
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
  if (!is_valid_dim(mapping.spatial_dim)) {
    violations.push_back(violation(
        level_field(level, "spatial.dim"),
        "invalid dim value " + std::to_string(dim_index(mapping.spatial_dim)), all_dims_text()));
    return;
  }
  const std::string field = level_field(level, "spatial.fanout");
  const int64_t available = available_fanout(dataflow, level, mapping.spatial_dim);
  const std::string dim = dim_text(mapping.spatial_dim);
  if (mapping.fanout < 1) {
    violations.push_back(
        violation(field, std::to_string(mapping.fanout) + " is below 1", range_text(available)));
    return;
  }
  if (mapping.fanout > available) {
    const std::string what =
        level == kNumLevels - 1
            ? "the L0 tile's " + std::to_string(available) + " elements along " + dim
            : "the " + std::to_string(available) + " " + level_name(level + 1) + " tiles along " +
                  dim + " in the " + level_name(level) + " tile";
    violations.push_back(violation(field, std::to_string(mapping.fanout) + " exceeds " + what,
                                   range_text(available)));
  }
  if (level == kNumLevels - 1 && mapping.fanout > arch.macs_per_pe) {
    violations.push_back(violation(field,
                                   std::to_string(mapping.fanout) + " exceeds the arch's " +
                                       std::to_string(arch.macs_per_pe) + " MAC lanes per PE",
                                   range_text(arch.macs_per_pe)));
  }
}

void check_footprint(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow, int level,
                     std::vector<std::string>& violations) {
  const int64_t footprint = footprint_bytes(layer, arch, dataflow, level);
  const int64_t capacity = level_capacity_bytes(arch, level);
  if (footprint <= capacity) return;
  const DimArray& tile = dataflow.levels[level].tile;
  std::string breakdown;
  for (Tensor tensor : {Tensor::Input, Tensor::Weight, Tensor::Output}) {
    breakdown += std::string(breakdown.empty() ? "" : " + ") + tensor_name(tensor) + " " +
                 std::to_string(footprint_elements(layer, tile, tensor));
  }
  breakdown += " words x " + std::to_string(arch.word_bytes) + " B";
  if (arch.double_buffered) breakdown += ", x2 double-buffered";
  violations.push_back(violation(level_field(level, "tile"),
                                 std::string(level_name(level)) + " footprint " +
                                     std::to_string(footprint) + " B (" + breakdown +
                                     ") exceeds the " + std::to_string(capacity) + " B buffer",
                                 "footprint <= " + std::to_string(capacity) + " B"));
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
  if (order_node.size() != static_cast<std::size_t>(kNumDims)) {
    where.fail("has " + std::to_string(order_node.size()) + " dims",
               "a permutation of " + all_dims_text());
  }
  std::array<Dim, kNumDims> order{};
  std::array<bool, kNumDims> seen{};
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
    order[position] = dim;
  }
  return order;
}

LevelMapping read_level(const YAML::Node& node, const FieldPath& where, int level) {
  require_known_keys(node, where, {"level", "spatial", "order", "tile"});
  read_choice(node, "level", where, {level_name(level)});

  LevelMapping mapping;
  const FieldPath spatial_where = where.child("spatial");
  const YAML::Node spatial = read_section(node, "spatial", spatial_where, {"dim", "fanout"});
  mapping.spatial_dim = read_dim(spatial, "dim", spatial_where);
  mapping.fanout = read_int(spatial, "fanout", spatial_where, 1, kMaxInt64);

  mapping.order = read_order(node, where.child("order"));

  const FieldPath tile_where = where.child("tile");
  const YAML::Node tile = read_section(node, "tile", tile_where, dim_names());
  for (Dim dim : kAllDims) {
    mapping.tile[dim_index(dim)] = read_int(tile, dim_text(dim), tile_where, 1, kMaxInt64);
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

// One cluster level of directives: each unit below receives a `tile` chunk per step, walked in
// `order`, with `spatial_dim` spread over the units.
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

}  // namespace

const char* level_name(int level) {
  static const char* const kNames[kNumLevels] = {"L2", "L1", "L0"};
  return kNames[level];
}

bool Dataflow::operator==(const Dataflow& other) const {
  if (name != other.name) return false;
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& a = levels[level];
    const LevelMapping& b = other.levels[level];
    if (a.spatial_dim != b.spatial_dim || a.fanout != b.fanout || a.order != b.order ||
        a.tile != b.tile) {
      return false;
    }
  }
  return true;
}

int64_t footprint_elements(const Layer& layer, const DimArray& tile, Tensor tensor) {
  const auto size = [&tile](Dim dim) { return tile[dim_index(dim)]; };
  switch (tensor) {
    case Tensor::Input: {
      const int64_t rows =
          saturating_add(saturating_mul(size(Dim::Y) - 1, layer.stride), size(Dim::R));
      const int64_t cols =
          saturating_add(saturating_mul(size(Dim::X) - 1, layer.stride), size(Dim::S));
      const int64_t channels = saturating_mul(size(Dim::C), groups_spanned(layer, size(Dim::K)));
      return saturating_mul(saturating_mul(channels, rows), cols);
    }
    case Tensor::Weight:
      return saturating_mul(saturating_mul(size(Dim::K), size(Dim::C)),
                            saturating_mul(size(Dim::R), size(Dim::S)));
    case Tensor::Output:
      return saturating_mul(size(Dim::K), saturating_mul(size(Dim::Y), size(Dim::X)));
  }
  return 0;
}

int64_t footprint_bytes(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                        int level) {
  const DimArray& tile = dataflow.levels[level].tile;
  int64_t words = 0;
  for (Tensor tensor : {Tensor::Input, Tensor::Weight, Tensor::Output}) {
    words = saturating_add(words, footprint_elements(layer, tile, tensor));
  }
  return saturating_mul(saturating_mul(words, arch.word_bytes), arch.double_buffered ? 2 : 1);
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
  if (level == 1) return arch.num_pes / dataflow.levels[0].fanout;
  return arch.macs_per_pe;
}

int64_t available_fanout(const Dataflow& dataflow, int level, Dim dim) {
  const int64_t tile = dataflow.levels[level].tile[dim_index(dim)];
  if (level == kNumLevels - 1) return tile;
  return ceil_div(tile, dataflow.levels[level + 1].tile[dim_index(dim)]);
}

int64_t pes_used(const Dataflow& dataflow) {
  return saturating_mul(dataflow.levels[0].fanout, dataflow.levels[1].fanout);
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
        level_field(0, "spatial.fanout") + " x " + level_field(1, "spatial.fanout"),
        "uses " + std::to_string(pes) + " PEs, the arch has " + std::to_string(arch.num_pes),
        "product <= " + std::to_string(arch.num_pes)));
  }
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

std::string dataflow_to_yaml(const Dataflow& dataflow) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << dataflow.name;
  out << YAML::Key << "levels" << YAML::Value << YAML::BeginSeq;
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& mapping = dataflow.levels[level];
    out << YAML::BeginMap << YAML::Key << "level" << YAML::Value << level_name(level);
    out << YAML::Key << "spatial" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "dim" << YAML::Value << dim_text(mapping.spatial_dim) << YAML::Key << "fanout"
        << YAML::Value << mapping.fanout << YAML::EndMap;
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
  const LevelMapping& l1 = dataflow.levels[1];
  const LevelMapping& l0 = dataflow.levels[2];
  const int64_t lanes = saturating_mul(pes_used(dataflow), l0.fanout);
  const int64_t input_rows = (layer.Y - 1) * layer.stride + layer.R;
  const int64_t input_cols = (layer.X - 1) * layer.stride + layer.S;
  const bool depthwise = layer.type == LayerType::DepthwiseConv;

  std::ostringstream out;
  out << "// dcp dataflow '" << dataflow.name << "' for layer '" << layer.name << "' ("
      << layer_type_name(layer.type) << ")\n";
  out << "// Blocks from outer to inner: L2 global-buffer tiles, L1 cluster tiles, L0 PE tiles, "
         "MAC lanes.\n";
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
      << ", X: " << input_cols << ", R: " << layer.R << ", S: " << layer.S << " }\n";
  out << "    Dataflow {\n";
  write_maestro_block(out, layer, "L2: one global-buffer tile per step", l2.order, l2.tile,
                      nullptr);
  out << "      Cluster(" << l2.fanout << ", P);\n";
  write_maestro_block(out, layer,
                      "L1: one cluster's tile per step, " + maestro_dim(l2.spatial_dim, layer) +
                          " spread over " + std::to_string(l2.fanout) + " clusters",
                      l1.order, l1.tile, &l2.spatial_dim);
  out << "      Cluster(" << l1.fanout << ", P);\n";
  write_maestro_block(out, layer,
                      "L0: one PE's tile per step, " + maestro_dim(l1.spatial_dim, layer) +
                          " spread over " + std::to_string(l1.fanout) + " PEs per cluster",
                      l0.order, l0.tile, &l1.spatial_dim);
  out << "      Cluster(" << l0.fanout << ", P);\n";
  write_maestro_block(out, layer,
                      "MAC lanes: one element per step, " + maestro_dim(l0.spatial_dim, layer) +
                          " spread over " + std::to_string(l0.fanout) + " lanes per PE",
                      l0.order, DimArray{1, 1, 1, 1, 1, 1}, &l0.spatial_dim);
  out << "    }\n";
  out << "  }\n";
  out << "}\n";
  return out.str();
}

}  // namespace dcp
