#include "dataflow/interchange.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/algorithm/string/trim.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <utility>

#include "common/input_error.hpp"
#include "common/saturating.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

// ---- Timeloop mapping ----

constexpr int kNumTargets = kNumLevels + 1;
constexpr std::array<const char*, kNumTargets> kTargets = {"DRAM", "GlobalBuffer", "Cluster-L1",
                                                           "PE-L0"};

std::string stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// "M=4 C=2 P=1 Q=1 R=1 S=1 N=1" in Timeloop's letters.
std::string factors_text(const DimArray& factors) {
  std::string text;
  for (Dim dim : kAllDims) {
    text += (text.empty() ? "" : " ") + std::string(1, timeloop_letter(dim)) + "=" +
            std::to_string(factors[dim_index(dim)]);
  }
  return text;
}

std::string letters_text(const std::vector<Dim>& dims) {
  std::string text;
  for (Dim dim : dims) text += timeloop_letter(dim);
  return text;
}

// Timeloop lists loops inner to outer, so dcp's order (outer first) is reversed.
std::string permutation_text(const std::array<Dim, kNumDims>& order) {
  return letters_text(std::vector<Dim>(order.rbegin(), order.rend()));
}

void write_directive(YAML::Emitter& out, int target, const char* type, const std::string& factors,
                     const std::string& permutation) {
  out << YAML::BeginMap;
  out << YAML::Key << "target" << YAML::Value << kTargets[target];
  out << YAML::Key << "type" << YAML::Value << type;
  out << YAML::Key << "factors" << YAML::Value << factors;
  out << YAML::Key << "permutation" << YAML::Value << permutation;
}

bool binds_axes(const LevelMapping& mapping) {
  for (Dim dim : mapping.spatial_dims())
    if (mapping.axis[dim_index(dim)] != Axis::Any) return true;
  return false;
}

// `level`'s fan-outs. Where the level binds a dim to rows or columns, the permutation lists the
// unrolled dims on columns (Timeloop's X), then those on rows (Y), then the rest, and `split`
// counts the column dims; unrolled dims left to the default axis are named in `dcp_unbound`.
void write_spatial(YAML::Emitter& out, const LevelMapping& mapping, int level) {
  const bool binds = binds_axes(mapping);
  std::vector<Dim> cols, rows, rest, unbound;
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    if (!binds || mapping.fanout[d] == 1) {
      rest.push_back(dim);
      continue;
    }
    (mapping.resolved_axis(level, dim) == Axis::Cols ? cols : rows).push_back(dim);
    if (mapping.axis[d] == Axis::Any) unbound.push_back(dim);
  }
  write_directive(out, level + 1, "spatial", factors_text(mapping.fanout),
                  letters_text(cols) + letters_text(rows) + letters_text(rest));
  if (binds) out << YAML::Key << "split" << YAML::Value << cols.size();
  if (!unbound.empty()) out << YAML::Key << "dcp_unbound" << YAML::Value << letters_text(unbound);
  out << YAML::EndMap;
}

// The directives of the target below `level`'s parent: `level`'s fan-out (spatial) and the
// loops over the next level's tiles inside `level`'s tile (temporal, in the next level's order).
void write_level(YAML::Emitter& out, const Dataflow& dataflow, int level) {
  const LevelMapping& mapping = dataflow.levels[level];
  const bool innermost = level == kNumLevels - 1;
  const DimArray& child_tile = innermost ? kUnitDims : dataflow.levels[level + 1].tile;
  const auto& child_order = dataflow.levels[innermost ? level : level + 1].order;
  write_spatial(out, mapping, level);

  DimArray temporal{};
  bool exact = true;
  for (int d = 0; d < kNumDims; ++d) {
    temporal[d] = ceil_div(ceil_div(mapping.tile[d], child_tile[d]), mapping.fanout[d]);
    exact = exact && saturating_mul(saturating_mul(child_tile[d], temporal[d]),
                                    mapping.fanout[d]) == mapping.tile[d];
  }
  write_directive(out, level + 1, "temporal", factors_text(temporal),
                  permutation_text(child_order));
  if (!exact) out << YAML::Key << "dcp_tile" << YAML::Value << factors_text(mapping.tile);
  out << YAML::EndMap;
}

struct Directive {
  FieldPath where;
  YAML::Node node;
};

const std::string kFactorsAllowed = "space-separated M=, C=, P=, Q=, R=, S=, N= with integers >= 1";

// Timeloop writes factors and permutations as one string or, in newer specs, as a list.
std::vector<std::string> string_items(const YAML::Node& node, const FieldPath& where,
                                      const std::string& allowed) {
  std::vector<std::string> items;
  if (node.IsScalar()) {
    std::istringstream words(node.Scalar());
    for (std::string word; words >> word;) items.push_back(word);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) where.fail("expected a string or a list of strings", allowed);
      items.push_back(item.Scalar());
    }
  } else {
    where.fail("expected a string or a list of strings", allowed);
  }
  return items;
}

struct Factors {
  DimArray dims = kUnitDims;  // absent dims are 1
  std::array<bool, kNumDims> given{};
};

Factors read_factors(const YAML::Node& node, const FieldPath& where) {
  Factors factors;
  if (!node) return factors;
  for (const std::string& item : string_items(node, where, kFactorsAllowed)) {
    const std::size_t equals = item.find('=');
    Dim dim = Dim::K;
    if (equals != 1 || !parse_timeloop_dim(item[0], dim)) {
      where.fail("unknown dim in '" + item + "'", kFactorsAllowed);
    }
    int64_t value = 0;
    const char* end = item.data() + item.size();
    const std::from_chars_result number = std::from_chars(item.data() + equals + 1, end, value);
    if (number.ec != std::errc() || number.ptr != end) {
      where.fail("cannot read '" + item + "'", kFactorsAllowed);
    }
    if (value < 1) where.fail("'" + item + "' is below 1", kFactorsAllowed);
    if (factors.given[dim_index(dim)]) where.fail(item.substr(0, 1) + " appears twice");
    factors.dims[dim_index(dim)] = value;
    factors.given[dim_index(dim)] = true;
  }
  return factors;
}

// Dims spelt as Timeloop letters ("SRQPCMN", or a list of letters), each at most once.
std::vector<Dim> read_letters(const YAML::Node& node, const FieldPath& where,
                              const std::string& allowed) {
  std::string letters;
  for (const std::string& item : string_items(node, where, allowed)) letters += item;
  std::vector<Dim> dims;
  for (char letter : letters) {
    Dim dim = Dim::K;
    if (!parse_timeloop_dim(letter, dim)) {
      where.fail("unknown dim '" + std::string(1, letter) + "'", allowed);
    }
    if (std::find(dims.begin(), dims.end(), dim) != dims.end()) {
      where.fail(std::string(1, letter) + " appears twice", allowed);
    }
    dims.push_back(dim);
  }
  return dims;
}

// A permutation, inner to outer as Timeloop lists it. Mappings written before the batch dim
// have six dims; N then runs outermost.
std::vector<Dim> read_permutation_inner_first(const YAML::Node& node, const FieldPath& where) {
  const std::string allowed = "a permutation of M, C, P, Q, R, S, N (inner to outer)";
  if (!node) where.fail("missing required field", allowed);
  std::vector<Dim> inner_to_outer = read_letters(node, where, allowed);
  const bool without_batch =
      inner_to_outer.size() == static_cast<std::size_t>(kNumDims - 1) &&
      std::find(inner_to_outer.begin(), inner_to_outer.end(), Dim::N) == inner_to_outer.end();
  if (without_batch) inner_to_outer.push_back(Dim::N);
  if (inner_to_outer.size() != static_cast<std::size_t>(kNumDims)) {
    where.fail("has " + std::to_string(inner_to_outer.size()) + " of the 7 dims", allowed);
  }
  return inner_to_outer;
}

// The permutation as dcp's order, outermost first.
std::array<Dim, kNumDims> read_order(const YAML::Node& node, const FieldPath& where) {
  const std::vector<Dim> inner_to_outer = read_permutation_inner_first(node, where);
  std::array<Dim, kNumDims> order{};
  std::copy(inner_to_outer.rbegin(), inner_to_outer.rend(), order.begin());
  return order;
}

// Directives by target and type ("temporal" / "spatial"); bypass directives choose which tensors
// a level keeps, which dcp does not model, so they are skipped.
using DirectiveTable = std::map<std::pair<int, std::string>, Directive>;

DirectiveTable read_directives(const YAML::Node& root, const FieldPath& root_where) {
  const FieldPath where = root_where.child("mapping");
  const YAML::Node list = root["mapping"];
  if (!list) where.fail("missing required field", "a list of Timeloop mapping directives");
  require_sequence(list, where);
  const std::vector<std::string> targets(kTargets.begin(), kTargets.end());
  DirectiveTable table;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const FieldPath item_where = where.index(i);
    const YAML::Node item = list[i];
    require_known_keys(item, item_where,
                       {"target", "type", "factors", "permutation", "split", "keep", "bypass",
                        "dcp_tile", "dcp_unbound"});
    const std::string type =
        read_choice(item, "type", item_where, {"temporal", "spatial", "bypass"});
    if (type == "bypass") continue;
    const std::string target = read_choice(item, "target", item_where, targets);
    const int index =
        static_cast<int>(std::find(targets.begin(), targets.end(), target) - targets.begin());
    if (index == 0 && type == "spatial") {
      item_where.child("type").fail("DRAM has no fan-out in dcp's convention", "temporal");
    }
    if (!table.emplace(std::make_pair(index, type), Directive{item_where, item}).second) {
      item_where.fail("a second " + type + " directive for " + target,
                      "one temporal and one spatial directive per target");
    }
  }
  return table;
}

// A spatial directive's fan-outs, and with `split` their rows/columns: dims listed before the
// split index run along columns (Timeloop's X), the rest along rows, except those in
// `dcp_unbound`, which keep dcp's default axis.
void read_spatial(const DirectiveTable& table, int target, LevelMapping& mapping) {
  const auto found = table.find({target, "spatial"});
  if (found == table.end()) return;
  const Directive& directive = found->second;
  mapping.fanout = read_factors(directive.node["factors"], directive.where.child("factors")).dims;
  const std::string unbound_allowed = "unrolled dims as letters of M, C, P, Q, R, S, N";
  if (!directive.node["split"]) {
    if (directive.node["dcp_unbound"]) {
      directive.where.child("dcp_unbound")
          .fail("given without `split`", "only on a directive with `split`");
    }
    return;
  }
  const std::vector<Dim> inner_to_outer = read_permutation_inner_first(
      directive.node["permutation"], directive.where.child("permutation"));
  const int64_t split = read_int(directive.node, "split", directive.where, 0, kNumDims);
  for (std::size_t position = 0; position < inner_to_outer.size(); ++position) {
    const int d = dim_index(inner_to_outer[position]);
    if (mapping.fanout[d] > 1) {
      mapping.axis[d] = static_cast<int64_t>(position) < split ? Axis::Cols : Axis::Rows;
    }
  }
  if (!directive.node["dcp_unbound"]) return;
  for (Dim dim : read_letters(directive.node["dcp_unbound"], directive.where.child("dcp_unbound"),
                              unbound_allowed)) {
    mapping.axis[dim_index(dim)] = Axis::Any;
  }
}

const Directive& temporal_directive(const DirectiveTable& table, int target,
                                    const FieldPath& root_where) {
  const auto found = table.find({target, "temporal"});
  if (found == table.end()) {
    root_where.child("mapping").fail(std::string("no temporal directive for ") + kTargets[target],
                                     "one for each of DRAM, GlobalBuffer, Cluster-L1, PE-L0");
  }
  return found->second;
}

// ---- MAESTRO ----

struct MaestroMap {
  int line = 0;
  bool spatial = false;
  std::string size;
  std::string offset;
  std::string dim;
};

// What the line "// dcp: L1 fan-out on rows" says of the Cluster on the next line.
struct ClusterTag {
  int level = 0;
  Axis axis = Axis::Any;
};

// The directives after one Cluster line (the first block: before any), and that Cluster's
// fan-out and dcp level.
struct MaestroBlock {
  int line = 0;  // of the Cluster
  int64_t ways = 1;
  std::optional<int> level;  // from the Cluster's tag, else from its position
  Axis axis = Axis::Any;     // from the Cluster's tag
  std::vector<MaestroMap> maps;
};

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

[[noreturn]] void fail_line(const std::string& path, int line, const std::string& problem,
                            const std::string& allowed = "") {
  throw InputError(path, "line " + std::to_string(line), problem, allowed);
}

int64_t read_maestro_size(const std::string& text, const std::string& path, int line) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  if (std::from_chars(text.data(), end, value).ptr != end || value < 1) {
    fail_line(path, line, "'" + text + "' is not a plain size", "integers >= 1");
  }
  return value;
}

// One block's maps as a level's order and tile; returns the dim of its SpatialMap, if any. A
// block written before the batch dim has no N map: N then has tile 1 and runs outermost.
std::optional<Dim> read_block(const MaestroBlock& block, const Layer& type_only,
                              const std::string& path, LevelMapping* mapping) {
  std::string names;
  std::map<std::string, Dim> dims_by_name;
  for (Dim dim : kAllDims) {
    dims_by_name[maestro_dim(dim, type_only)] = dim;
    names += (names.empty() ? "" : ", ") + maestro_dim(dim, type_only);
  }
  const bool without_batch =
      block.maps.size() == static_cast<std::size_t>(kNumDims - 1) &&
      std::none_of(block.maps.begin(), block.maps.end(), [&type_only](const MaestroMap& map) {
        return map.dim == maestro_dim(Dim::N, type_only);
      });
  if (block.maps.size() != static_cast<std::size_t>(kNumDims) && !without_batch) {
    fail_line(path, block.maps.empty() ? block.line : block.maps.front().line,
              "directive block has " + std::to_string(block.maps.size()) + " maps",
              "one map for each of " + names);
  }
  std::optional<Dim> spatial_dim;
  std::array<bool, kNumDims> seen{};
  std::size_t position = 0;
  if (without_batch && mapping != nullptr) {
    mapping->order[position++] = Dim::N;
    mapping->tile[dim_index(Dim::N)] = 1;
  }
  for (const MaestroMap& map : block.maps) {
    const auto found = dims_by_name.find(map.dim);
    if (found == dims_by_name.end())
      fail_line(path, map.line, "unknown dim '" + map.dim + "'", names);
    const Dim dim = found->second;
    if (seen[dim_index(dim)])
      fail_line(path, map.line, map.dim + " is mapped twice in the block", names);
    seen[dim_index(dim)] = true;
    const int64_t size = read_maestro_size(map.size, path, map.line);
    if (read_maestro_size(map.offset, path, map.line) != size) {
      fail_line(path, map.line, "offset " + map.offset + " differs from size " + map.size,
                "offset equal to size: dcp tiles do not overlap");
    }
    if (map.spatial) {
      if (spatial_dim) fail_line(path, map.line, "a second SpatialMap in the block", "one");
      spatial_dim = dim;
    }
    if (mapping != nullptr) {
      mapping->order[position++] = dim;
      mapping->tile[dim_index(dim)] = size;
    }
  }
  return spatial_dim;
}

// The dcp level whose fan-out each Cluster is: its tag, or in an untagged file (written before
// several dims could be unrolled) the Cluster's position, which must then be one of three.
// Levels must run L2, L1, L0 in order, each with at least one Cluster.
void assign_levels(std::vector<MaestroBlock>& blocks, const std::string& path) {
  const std::size_t clusters = blocks.size() - 1;
  const bool tagged = std::any_of(blocks.begin() + 1, blocks.end(),
                                  [](const MaestroBlock& block) { return block.level; });
  const std::string allowed =
      "3 between the L2, L1, L0 and MAC-lane blocks, or each after a '// dcp: L2 fan-out' line "
      "naming its level, L2's first, then L1's, then L0's";
  if (!tagged && clusters != static_cast<std::size_t>(kNumLevels)) {
    throw InputError(path, "Dataflow", "has " + std::to_string(clusters) + " Cluster directives",
                     allowed);
  }
  int previous = -1;
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    MaestroBlock& block = blocks[i];
    if (!tagged) block.level = static_cast<int>(i) - 1;
    if (!block.level) fail_line(path, block.line, "Cluster without a dcp tag", allowed);
    if (*block.level != std::max(previous, 0) && *block.level != previous + 1) {
      fail_line(path, block.line,
                std::string("Cluster for ") + level_name(*block.level) +
                    (previous < 0 ? " first" : std::string(" after ") + level_name(previous)),
                allowed);
    }
    previous = *block.level;
  }
  if (previous != kNumLevels - 1) {
    throw InputError(path, "Dataflow",
                     std::string("no Cluster for ") + level_name(previous + 1) + "'s fan-out",
                     allowed);
  }
}

}  // namespace

std::string dataflow_to_timeloop_mapping(const Dataflow& dataflow, const Layer& layer) {
  std::ostringstream text;
  text
      << "# dcp dataflow '" << dataflow.name << "' for layer '" << layer.name << "' ("
      << layer_type_name(layer.type) << ") as a Timeloop mapping.\n"
      << "# Targets, outer to inner: DRAM (L2 tiles), GlobalBuffer (L2 tile, fan-out over\n"
      << "# clusters), Cluster-L1 (L1 tile, fan-out over PEs), PE-L0 (L0 tile, fan-out over MAC\n"
      << "# lanes). Permutations are inner to outer; a spatial `split` puts the dims before it on\n"
      << "# the array's columns and the rest on its rows. `dcp_tile` gives a tile exactly where\n"
      << "# the factors cannot (edge tiles), `dcp_unbound` the unrolled dims dcp leaves on its\n"
      << "# default axis; Timeloop ignores both.\n";
  if (layer.repeat > 1) {
    text << "# The layer runs " << layer.repeat << " independent times; this maps one.\n";
  }
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "dcp_dataflow" << YAML::Value << dataflow.name;
  out << YAML::Key << "mapping" << YAML::Value << YAML::BeginSeq;
  DimArray l2_tiles{};
  const DimArray layer_dims = layer.dims();
  for (int d = 0; d < kNumDims; ++d) {
    l2_tiles[d] = ceil_div(layer_dims[d], dataflow.levels[0].tile[d]);
  }
  write_directive(out, 0, "temporal", factors_text(l2_tiles),
                  permutation_text(dataflow.levels[0].order));
  out << YAML::EndMap;
  for (int level = 0; level < kNumLevels; ++level) write_level(out, dataflow, level);
  out << YAML::EndSeq << YAML::EndMap;
  text << out.c_str() << "\n";
  return text.str();
}

Dataflow load_timeloop_mapping(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath root_where{path, ""};
  require_map(root, root_where);
  const DirectiveTable table = read_directives(root, root_where);

  Dataflow dataflow;
  dataflow.name = read_string(root, "dcp_dataflow", root_where, stem(path));
  const Directive& dram = temporal_directive(table, 0, root_where);
  dataflow.levels[0].order = read_order(dram.node["permutation"], dram.where.child("permutation"));
  // The layer, not the mapping, bounds the DRAM loops; its factors are only checked for syntax.
  read_factors(dram.node["factors"], dram.where.child("factors"));
  DimArray child_tile = kUnitDims;
  for (int level = kNumLevels - 1; level >= 0; --level) {
    LevelMapping& mapping = dataflow.levels[level];
    read_spatial(table, level + 1, mapping);
    const Directive& temporal = temporal_directive(table, level + 1, root_where);
    if (level + 1 < kNumLevels) {
      dataflow.levels[level + 1].order =
          read_order(temporal.node["permutation"], temporal.where.child("permutation"));
    }
    const Factors factors = read_factors(temporal.node["factors"], temporal.where.child("factors"));
    if (temporal.node["dcp_tile"]) {
      const FieldPath tile_where = temporal.where.child("dcp_tile");
      const Factors exact = read_factors(temporal.node["dcp_tile"], tile_where);
      // Mappings written before the batch dim give no N: one sample per tile.
      for (Dim dim : kAllDims) {
        if (!exact.given[dim_index(dim)] && dim != Dim::N) {
          tile_where.fail(std::string("lacks ") + timeloop_letter(dim), kFactorsAllowed);
        }
      }
      mapping.tile = exact.dims;
    } else {
      for (int d = 0; d < kNumDims; ++d) {
        mapping.tile[d] =
            saturating_mul(saturating_mul(child_tile[d], factors.dims[d]), mapping.fanout[d]);
      }
    }
    child_tile = mapping.tile;
  }
  return dataflow;
}

Dataflow load_maestro_dataflow(const std::string& path) {
  std::ifstream file(path);
  if (!file || std::filesystem::is_directory(path)) throw InputError(path, "", "cannot open file");
  static const std::regex map_pattern(
      R"(^(SpatialMap|TemporalMap)\s*\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)\s*(\S+)\s*;$)");
  static const std::regex cluster_pattern(R"(^Cluster\s*\(\s*([^,\s]+)\s*,\s*P\s*\)\s*;$)");
  static const std::regex type_pattern(R"(^Type\s*:\s*(\S+)$)");
  static const std::regex name_pattern(R"(^// dcp dataflow '(.*)' for layer ')");
  static const std::regex tag_pattern(R"(^\s*// dcp: (L2|L1|L0) fan-out(?: on (rows|cols))?\s*$)");

  Dataflow dataflow;
  dataflow.name = stem(path);
  Layer type_only;
  std::vector<MaestroBlock> blocks(1);
  std::optional<ClusterTag> tag;  // of the line just read
  int line_number = 0;
  std::smatch match;
  for (std::string line; std::getline(file, line);) {
    ++line_number;
    if (std::regex_search(line, match, name_pattern)) dataflow.name = match[1];
    const std::optional<ClusterTag> previous_tag = std::exchange(tag, std::nullopt);
    if (std::regex_match(line, match, tag_pattern)) {
      tag = ClusterTag{match[1] == "L2"   ? 0
                       : match[1] == "L1" ? 1
                                          : 2,
                       match[2] == "rows"   ? Axis::Rows
                       : match[2] == "cols" ? Axis::Cols
                                            : Axis::Any};
      continue;
    }
    line = line.substr(0, line.find("//"));
    boost::algorithm::trim_if(line, boost::is_any_of(" \t\r"));
    if (std::regex_match(line, match, type_pattern)) {
      if (match[1] != "CONV" && match[1] != "DSCONV") {
        fail_line(path, line_number, "layer type " + match[1].str(), "CONV, DSCONV");
      }
      if (match[1] == "DSCONV") type_only.type = LayerType::DepthwiseConv;
    } else if (std::regex_match(line, match, map_pattern)) {
      blocks.back().maps.push_back(
          {line_number, match[1] == "SpatialMap", match[2], match[3], match[4]});
    } else if (std::regex_match(line, match, cluster_pattern)) {
      MaestroBlock& block = blocks.emplace_back();
      block.line = line_number;
      block.ways = read_maestro_size(match[1], path, line_number);
      if (previous_tag) {
        block.level = previous_tag->level;
        block.axis = previous_tag->axis;
      }
    } else if (starts_with(line, "SpatialMap") || starts_with(line, "TemporalMap") ||
               starts_with(line, "Cluster")) {
      fail_line(path, line_number, "cannot read directive '" + line + "'",
                "TemporalMap(size,size) DIM; SpatialMap(size,size) DIM; Cluster(n, P);");
    }
  }
  assign_levels(blocks, path);
  if (read_block(blocks[0], type_only, path, &dataflow.levels[0])) {
    fail_line(path, blocks[0].maps.front().line, "SpatialMap in the L2 block",
              "TemporalMap only: the L2 block covers the whole array");
  }
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    const MaestroBlock& block = blocks[i];
    const int level = *block.level;
    // The last block of a level's Clusters holds the next level's order and tile.
    const bool last_of_level = i + 1 == blocks.size() || *blocks[i + 1].level != level;
    LevelMapping* next =
        last_of_level && level + 1 < kNumLevels ? &dataflow.levels[level + 1] : nullptr;
    const std::optional<Dim> spatial_dim = read_block(block, type_only, path, next);
    if (!spatial_dim) {
      fail_line(path, block.line, "the block after this Cluster has no SpatialMap",
                "one SpatialMap per block below L2");
    }
    if (block.ways == 1) continue;
    LevelMapping& mapping = dataflow.levels[level];
    const int d = dim_index(*spatial_dim);
    if (mapping.fanout[d] != 1) {
      fail_line(path, block.line,
                maestro_dim(*spatial_dim, type_only) + " is spread twice at " + level_name(level),
                "one Cluster per unrolled dim");
    }
    mapping.fanout[d] = block.ways;
    mapping.axis[d] = block.axis;
  }
  return dataflow;
}

Dataflow load_dataflow_any_format(const std::string& path) {
  if (std::filesystem::path(path).extension() == ".m") return load_maestro_dataflow(path);
  const YAML::Node root = load_yaml_file(path);
  if (root.IsMap() && root["mapping"]) return load_timeloop_mapping(path);
  return load_dataflow(path);
}

}  // namespace dcp
