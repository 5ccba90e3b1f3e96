#include "sim/dataflow_interchange.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "common/input_error.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

// ---- Timeloop mapping ----

constexpr int kNumTargets = kNumLevels + 1;
constexpr std::array<const char*, kNumTargets> kTargets = {"DRAM", "GlobalBuffer", "Cluster-L1",
                                                           "PE-L0"};
const DimArray kUnitTile = {1, 1, 1, 1, 1, 1};

int64_t ceil_div(int64_t numerator, int64_t denominator) {
  return numerator / denominator + (numerator % denominator != 0 ? 1 : 0);
}

std::string stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// "M=4 C=2 ..." in Timeloop's letters; N only where it is given.
std::string factors_text(const DimArray& factors, std::optional<int64_t> batch) {
  std::string text;
  for (Dim dim : kAllDims) {
    text += (text.empty() ? "" : " ") + std::string(1, timeloop_letter(dim)) + "=" +
            std::to_string(factors[dim_index(dim)]);
  }
  if (batch) text += " N=" + std::to_string(*batch);
  return text;
}

// Timeloop lists loops inner to outer, so dcp's order (outer first) is reversed.
std::string permutation_text(const std::array<Dim, kNumDims>& order) {
  std::string text;
  for (auto dim = order.rbegin(); dim != order.rend(); ++dim) text += timeloop_letter(*dim);
  return text + "N";
}

// The spatial dim first: it is the only loop of the directive, and it survives a fan-out of 1.
std::string spatial_permutation_text(Dim spatial_dim) {
  std::string text(1, timeloop_letter(spatial_dim));
  for (Dim dim : kAllDims) {
    if (dim != spatial_dim) text += timeloop_letter(dim);
  }
  return text + "N";
}

void write_directive(YAML::Emitter& out, int target, const char* type, const std::string& factors,
                     const std::string& permutation) {
  out << YAML::BeginMap;
  out << YAML::Key << "target" << YAML::Value << kTargets[target];
  out << YAML::Key << "type" << YAML::Value << type;
  out << YAML::Key << "factors" << YAML::Value << factors;
  out << YAML::Key << "permutation" << YAML::Value << permutation;
}

// The directives of the target below `level`'s parent: `level`'s fan-out (spatial) and the
// loops over the next level's tiles inside `level`'s tile (temporal, in `child_order`).
void write_level(YAML::Emitter& out, const Dataflow& dataflow, int level) {
  const LevelMapping& mapping = dataflow.levels[level];
  const bool innermost = level == kNumLevels - 1;
  const DimArray& child_tile = innermost ? kUnitTile : dataflow.levels[level + 1].tile;
  const auto& child_order = dataflow.levels[innermost ? level : level + 1].order;

  DimArray spatial = kUnitTile;
  spatial[dim_index(mapping.spatial_dim)] = mapping.fanout;
  write_directive(out, level + 1, "spatial", factors_text(spatial, std::nullopt),
                  spatial_permutation_text(mapping.spatial_dim));
  out << YAML::EndMap;

  DimArray temporal{};
  bool exact = true;
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    temporal[d] = ceil_div(ceil_div(mapping.tile[d], child_tile[d]), spatial[d]);
    exact = exact && child_tile[d] * temporal[d] * spatial[d] == mapping.tile[d];
  }
  write_directive(out, level + 1, "temporal", factors_text(temporal, std::nullopt),
                  permutation_text(child_order));
  if (!exact) out << YAML::Key << "dcp_tile" << YAML::Value << factors_text(mapping.tile, {});
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
  DimArray dims = kUnitTile;
  int64_t batch = 1;
  bool has[kNumDims] = {};
};

Factors read_factors(const YAML::Node& node, const FieldPath& where) {
  Factors factors;
  if (!node) return factors;
  for (const std::string& item : string_items(node, where, kFactorsAllowed)) {
    const std::size_t equals = item.find('=');
    int64_t value = 0;
    const char* end = item.data() + item.size();
    const bool number = equals != std::string::npos &&
                        std::from_chars(item.data() + equals + 1, end, value).ptr == end &&
                        value >= 1;
    Dim dim = Dim::K;
    const bool letter = equals == 1 && (item[0] == 'N' || parse_timeloop_dim(item[0], dim));
    if (!number || !letter) where.fail("cannot read '" + item + "'", kFactorsAllowed);
    if (item[0] == 'N') {
      factors.batch = value;
    } else {
      factors.dims[dim_index(dim)] = value;
      factors.has[dim_index(dim)] = true;
    }
  }
  return factors;
}

std::array<Dim, kNumDims> read_permutation(const YAML::Node& node, const FieldPath& where) {
  const std::string allowed = "a permutation of M, C, P, Q, R, S (inner to outer; N optional)";
  if (!node) where.fail("missing required field", allowed);
  std::string letters;
  for (const std::string& item : string_items(node, where, allowed)) letters += item;
  std::vector<Dim> inner_to_outer;
  for (char letter : letters) {
    Dim dim = Dim::K;
    if (letter == 'N') continue;
    if (!parse_timeloop_dim(letter, dim)) {
      where.fail("unknown dim '" + std::string(1, letter) + "'", allowed);
    }
    if (std::find(inner_to_outer.begin(), inner_to_outer.end(), dim) != inner_to_outer.end()) {
      where.fail(std::string(1, letter) + " appears twice", allowed);
    }
    inner_to_outer.push_back(dim);
  }
  if (inner_to_outer.size() != static_cast<std::size_t>(kNumDims)) {
    where.fail("has " + std::to_string(inner_to_outer.size()) + " of the 6 dims", allowed);
  }
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
    require_known_keys(
        item, item_where,
        {"target", "type", "factors", "permutation", "split", "keep", "bypass", "dcp_tile"});
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

// The spatial directive's one dim above 1 (or its permutation's first dim) and its factor.
void read_spatial(const DirectiveTable& table, int target, LevelMapping& mapping) {
  const auto found = table.find({target, "spatial"});
  if (found == table.end()) return;
  const Directive& directive = found->second;
  const FieldPath where = directive.where.child("factors");
  const Factors factors = read_factors(directive.node["factors"], where);
  if (factors.batch != 1) where.fail("N=" + std::to_string(factors.batch), "N=1 below DRAM");
  int spread = 0;
  for (Dim dim : kAllDims) {
    if (factors.dims[dim_index(dim)] == 1) continue;
    ++spread;
    mapping.spatial_dim = dim;
    mapping.fanout = factors.dims[dim_index(dim)];
  }
  if (spread > 1) where.fail("spreads " + std::to_string(spread) + " dims", "one factor above 1");
  if (spread == 0 && directive.node["permutation"]) {
    const std::string allowed = "a dim of M, C, P, Q, R, S first";
    const FieldPath permutation_where = directive.where.child("permutation");
    const std::vector<std::string> items =
        string_items(directive.node["permutation"], permutation_where, allowed);
    if (!items.empty() && !parse_timeloop_dim(items.front()[0], mapping.spatial_dim)) {
      permutation_where.fail("unknown dim '" + items.front().substr(0, 1) + "'", allowed);
    }
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

struct MaestroBlock {
  std::vector<MaestroMap> maps;
  int64_t fanout = 1;  // of the Cluster line that closes the block
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

// One block's maps as a level's order and tile; returns the dim of its SpatialMap, if any.
std::optional<Dim> read_block(const MaestroBlock& block, const Layer& type_only,
                              const std::string& path, int block_line, LevelMapping* mapping) {
  std::string names;
  std::map<std::string, Dim> dims_by_name;
  for (Dim dim : kAllDims) {
    dims_by_name[maestro_dim(dim, type_only)] = dim;
    names += (names.empty() ? "" : ", ") + maestro_dim(dim, type_only);
  }
  if (block.maps.size() != static_cast<std::size_t>(kNumDims)) {
    fail_line(path, block_line,
              "directive block has " + std::to_string(block.maps.size()) + " maps",
              "one map for each of " + names);
  }
  std::optional<Dim> spatial_dim;
  std::array<bool, kNumDims> seen{};
  for (std::size_t position = 0; position < block.maps.size(); ++position) {
    const MaestroMap& map = block.maps[position];
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
      mapping->order[position] = dim;
      mapping->tile[dim_index(dim)] = size;
    }
  }
  return spatial_dim;
}

}  // namespace

std::string dataflow_to_timeloop_mapping(const Dataflow& dataflow, const Layer& layer) {
  std::ostringstream text;
  text << "# dcp dataflow '" << dataflow.name << "' for layer '" << layer.name << "' ("
       << layer_type_name(layer.type) << ") as a Timeloop mapping.\n"
       << "# Targets, outer to inner: DRAM (L2 tiles), GlobalBuffer (L2 tile, fan-out over\n"
       << "# clusters), Cluster-L1 (L1 tile, fan-out over PEs), PE-L0 (L0 tile, fan-out over MAC\n"
       << "# lanes). Permutations are inner to outer. `dcp_tile` gives a tile exactly where the\n"
       << "# factors cannot (edge tiles); Timeloop ignores it.\n";
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "dcp_dataflow" << YAML::Value << dataflow.name;
  out << YAML::Key << "mapping" << YAML::Value << YAML::BeginSeq;
  DimArray l2_tiles{};
  const DimArray layer_dims = layer.dims();
  for (int d = 0; d < kNumDims; ++d) {
    l2_tiles[d] = ceil_div(layer_dims[d], dataflow.levels[0].tile[d]);
  }
  write_directive(out, 0, "temporal", factors_text(l2_tiles, layer.repeat),
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
  dataflow.levels[0].order =
      read_permutation(dram.node["permutation"], dram.where.child("permutation"));
  // The layer, not the mapping, bounds the DRAM loops; its factors are only checked for syntax.
  read_factors(dram.node["factors"], dram.where.child("factors"));
  DimArray child_tile = kUnitTile;
  for (int level = kNumLevels - 1; level >= 0; --level) {
    LevelMapping& mapping = dataflow.levels[level];
    read_spatial(table, level + 1, mapping);
    const Directive& temporal = temporal_directive(table, level + 1, root_where);
    if (level + 1 < kNumLevels) {
      dataflow.levels[level + 1].order =
          read_permutation(temporal.node["permutation"], temporal.where.child("permutation"));
    }
    const FieldPath factors_where = temporal.where.child("factors");
    const Factors factors = read_factors(temporal.node["factors"], factors_where);
    if (factors.batch != 1) {
      factors_where.fail("N=" + std::to_string(factors.batch), "N=1 below DRAM");
    }
    if (temporal.node["dcp_tile"]) {
      const FieldPath tile_where = temporal.where.child("dcp_tile");
      const Factors exact = read_factors(temporal.node["dcp_tile"], tile_where);
      if (!std::all_of(std::begin(exact.has), std::end(exact.has), [](bool has) { return has; })) {
        tile_where.fail("lacks a dim", "all of M, C, P, Q, R, S");
      }
      mapping.tile = exact.dims;
    } else {
      for (Dim dim : kAllDims) {
        const int d = dim_index(dim);
        const int64_t spread = mapping.spatial_dim == dim ? mapping.fanout : 1;
        mapping.tile[d] = child_tile[d] * factors.dims[d] * spread;
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

  Dataflow dataflow;
  dataflow.name = stem(path);
  Layer type_only;
  std::vector<MaestroBlock> blocks(1);
  std::vector<int> block_lines = {0};
  int line_number = 0;
  std::smatch match;
  for (std::string line; std::getline(file, line);) {
    ++line_number;
    if (std::regex_search(line, match, name_pattern)) dataflow.name = match[1];
    line = line.substr(0, line.find("//"));
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (std::regex_match(line, match, type_pattern)) {
      if (match[1] != "CONV" && match[1] != "DSCONV") {
        fail_line(path, line_number, "layer type " + match[1].str(), "CONV, DSCONV");
      }
      if (match[1] == "DSCONV") type_only.type = LayerType::DepthwiseConv;
    } else if (std::regex_match(line, match, map_pattern)) {
      blocks.back().maps.push_back(
          {line_number, match[1] == "SpatialMap", match[2], match[3], match[4]});
    } else if (std::regex_match(line, match, cluster_pattern)) {
      blocks.back().fanout = read_maestro_size(match[1], path, line_number);
      blocks.emplace_back();
      block_lines.push_back(line_number);
    } else if (starts_with(line, "SpatialMap") || starts_with(line, "TemporalMap") ||
               starts_with(line, "Cluster")) {
      fail_line(path, line_number, "cannot read directive '" + line + "'",
                "TemporalMap(size,size) DIM; SpatialMap(size,size) DIM; Cluster(n, P);");
    }
  }
  if (blocks.size() != static_cast<std::size_t>(kNumLevels + 1)) {
    throw InputError(path, "Dataflow",
                     "has " + std::to_string(blocks.size() - 1) + " Cluster directives",
                     "3, between the L2, L1, L0 and MAC-lane blocks");
  }
  if (read_block(blocks[0], type_only, path, block_lines[0], &dataflow.levels[0])) {
    fail_line(path, blocks[0].maps.front().line, "SpatialMap in the L2 block",
              "TemporalMap only: the L2 block covers the whole array");
  }
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping* next = level + 1 < kNumLevels ? &dataflow.levels[level + 1] : nullptr;
    const std::optional<Dim> spatial_dim =
        read_block(blocks[level + 1], type_only, path, block_lines[level + 1], next);
    if (!spatial_dim) {
      fail_line(path, block_lines[level + 1], "the block after this Cluster has no SpatialMap",
                "one SpatialMap per block below L2");
    }
    dataflow.levels[level].spatial_dim = *spatial_dim;
    dataflow.levels[level].fanout = blocks[level].fanout;
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
