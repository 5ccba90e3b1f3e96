#include "arch/arch_space.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

#include "arch/arch_fields.hpp"
#include "common/hash.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

// Wide enough for any arch load_arch accepts; narrower ranges are the space file's business.
constexpr int64_t kMaxRangeValue = int64_t{1} << 36;
constexpr int kMaxConfigs = 1'000'000;

bool is_power_of_two(int64_t value) {
  return value > 0 && (value & (value - 1)) == 0;
}

int log2_exact(int64_t power_of_two) {
  int exponent = 0;
  while ((int64_t{1} << exponent) < power_of_two) ++exponent;
  return exponent;
}

ParameterRange read_range(const YAML::Node& ranges, const std::string& name,
                          const FieldPath& where) {
  const FieldPath field = where.child(name);
  const YAML::Node node = ranges[name];
  require_map(node, field);
  require_known_keys(node, field, {"min", "max"});
  ParameterRange range{name, read_int(node, "min", field, 1, kMaxRangeValue),
                       read_int(node, "max", field, 1, kMaxRangeValue)};
  for (const auto& [key, value] : {std::pair{"min", range.min}, std::pair{"max", range.max}}) {
    if (!is_power_of_two(value))
      field.child(key).fail(std::to_string(value) + " is not a power of two", "1, 2, 4, ...");
  }
  if (range.min > range.max)
    field.fail("min " + std::to_string(range.min) + " > max " + std::to_string(range.max),
               "min <= max");
  return range;
}

void set_parameter(ArchSpec& arch, const std::string& name, int64_t value) {
  if (name == "num_pes") {
    // As square as a power of two allows: rows get the smaller half of the exponent.
    arch.array_rows = int64_t{1} << (log2_exact(value) / 2);
    arch.array_cols = value / arch.array_rows;
    arch.num_pes = value;
  } else if (name == "l0_bytes") {
    // Separate scratchpads keep their proportions; their sum is the PE's L0.
    if (l0_partitioned(arch)) {
      const int64_t base_bytes = arch.l0_bytes;
      arch.l0_bytes = 0;
      for (int64_t& bytes : arch.l0_partition_bytes) {
        bytes = std::max(arch.word_bytes, bytes * value / base_bytes);
        arch.l0_bytes += bytes;
      }
    } else {
      arch.l0_bytes = value;
    }
  } else {
    bool found = false;
    visit_arch_fields(arch, [&](const ArchField& field, auto& parameter) {
      using Value = std::decay_t<decltype(parameter)>;
      if constexpr (std::is_same_v<Value, int64_t> || std::is_same_v<Value, double>) {
        if (field.arch_space_parameter && field.column == name) {
          parameter = static_cast<Value>(value);
          found = true;
        }
      }
    });
    if (!found) throw std::logic_error("no numeric arch-space parameter '" + name + "'");
  }
}

double capacity_scale(int64_t bytes, int64_t base_bytes, double exponent) {
  return std::pow(static_cast<double>(bytes) / static_cast<double>(base_bytes), exponent);
}

// The shortest text that parses back to the same double.
std::string shortest(double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

}  // namespace

const std::vector<std::string>& arch_space_parameter_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const ArchField& field : arch_fields())
      if (field.arch_space_parameter) names.push_back(field.column);
    return names;
  }();
  return kNames;
}

ArchSpace load_arch_space(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath where{path, ""};
  require_map(root, where);
  require_known_keys(root, where, {"name", "base", "parameters", "buffer_energy_exponent"});
  ArchSpace space;
  space.source = path;
  space.name = read_string(root, "name", where);
  if (space.name.empty()) where.child("name").fail("is empty", "a non-empty name");
  // The base path is relative to the space file, so spaces and presets move together.
  const std::filesystem::path base_path =
      std::filesystem::path(path).parent_path() / read_string(root, "base", where);
  space.base = load_arch(base_path.lexically_normal().string());
  space.buffer_energy_exponent =
      read_double(root, "buffer_energy_exponent", where, 0.0, 2.0, space.buffer_energy_exponent);

  const FieldPath parameters_where = where.child("parameters");
  const YAML::Node parameters = root["parameters"];
  require_map(parameters, parameters_where);
  require_known_keys(parameters, parameters_where, arch_space_parameter_names());
  // In the fixed order of the names, so that a config does not depend on the file's key order.
  for (const std::string& name : arch_space_parameter_names()) {
    if (parameters[name]) space.ranges.push_back(read_range(parameters, name, parameters_where));
  }
  if (space.ranges.empty())
    parameters_where.fail("varies nothing", "at least one of num_pes, l0_bytes, ...");
  for (const ParameterRange& range : space.ranges) {
    const bool is_buffer = arch_fields()[arch_field_position(range.name)].at_least_one_word;
    if (is_buffer && range.min < space.base.word_bytes)
      parameters_where.child(range.name)
          .child("min")
          .fail(std::to_string(range.min) + " bytes is below one word",
                ">= word_bytes = " + std::to_string(space.base.word_bytes));
    if (range.name == "num_pes" && range.max > arch_limits::kMaxPes)
      parameters_where.child("num_pes").child("max").fail(
          std::to_string(range.max), "1.." + std::to_string(arch_limits::kMaxPes));
  }
  return space;
}

ArchSpec sample_arch(const ArchSpace& space, uint64_t seed, int64_t index) {
  std::mt19937_64 rng(splitmix64(mix64(seed) ^ static_cast<uint64_t>(index)));
  ArchSpec arch = space.base;
  for (const ParameterRange& range : space.ranges) {
    const int exponent =
        std::uniform_int_distribution<int>(log2_exact(range.min), log2_exact(range.max))(rng);
    set_parameter(arch, range.name, int64_t{1} << exponent);
  }
  const double exponent = space.buffer_energy_exponent;
  const ArchSpec& base = space.base;
  arch.energy.l0_pj = base.energy.l0_pj * capacity_scale(arch.l0_bytes, base.l0_bytes, exponent);
  arch.energy.l1_pj = base.energy.l1_pj * capacity_scale(arch.l1_bytes, base.l1_bytes, exponent);
  arch.energy.l2_pj = base.energy.l2_pj * capacity_scale(arch.l2_bytes, base.l2_bytes, exponent);
  arch.energy.leakage_pj_per_cycle =
      base.energy.leakage_pj_per_cycle * capacity_scale(arch.num_pes, base.num_pes, 1.0);
  arch.name = space.name + "-" + std::to_string(index);
  arch.source = space.source + "#" + std::to_string(index);
  return arch;
}

std::vector<ArchSpec> sample_archs(const ArchSpace& space, uint64_t seed, int64_t count) {
  if (count < 1 || count > kMaxConfigs)
    throw InputError(space.source, "", "cannot draw " + std::to_string(count) + " configs",
                     "1.." + std::to_string(kMaxConfigs));
  std::vector<ArchSpec> archs;
  for (int64_t index = 0; index < count; ++index) archs.push_back(sample_arch(space, seed, index));
  return archs;
}

namespace {

YAML::Node tensor_list(const TensorFlags& flags) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (Tensor tensor : kAllTensors)
    if (flag_of(flags, tensor)) list.push_back(tensor_name(tensor));
  list.SetStyle(YAML::EmitterStyle::Flow);
  return list;
}

// The YAML value of a Composite field (arch_fields.hpp) as arch_spec.cpp reads it back; nothing
// for an empty bypass list, which the reader takes as the default.
std::optional<YAML::Node> composite_yaml(const ArchSpec& arch, const std::string& path) {
  if (path == "buffers.l0_bytes") {
    if (!l0_partitioned(arch)) return YAML::Node(arch.l0_bytes);
    YAML::Node partitions(YAML::NodeType::Map);
    for (Tensor tensor : kAllTensors)
      partitions[tensor_name(tensor)] = arch.l0_partition_bytes[static_cast<int>(tensor)];
    partitions.SetStyle(YAML::EmitterStyle::Flow);
    return partitions;
  }
  if (path == "double_buffered") {
    if (arch.double_buffered == TensorFlags{true, true, true}) return YAML::Node(true);
    if (arch.double_buffered == TensorFlags{}) return YAML::Node(false);
    return tensor_list(arch.double_buffered);
  }
  const TensorFlags* bypass = path == "buffers.l1_bypass"   ? &arch.l1_bypass
                              : path == "buffers.l2_bypass" ? &arch.l2_bypass
                                                            : nullptr;
  if (!bypass) throw std::logic_error("no YAML writer for the arch field " + path);
  if (*bypass == TensorFlags{}) return std::nullopt;
  return tensor_list(*bypass);
}

YAML::Node scalar_yaml(const std::string& value) {
  return YAML::Node(value);
}
YAML::Node scalar_yaml(int64_t value) {
  return YAML::Node(value);
}
YAML::Node scalar_yaml(bool value) {
  return YAML::Node(value);
}
YAML::Node scalar_yaml(double value) {
  return YAML::Node(shortest(value));
}

}  // namespace

void write_arch_yaml(const ArchSpec& arch, std::ostream& out) {
  YAML::Node root(YAML::NodeType::Map);
  // An arch without a dram section has the ideal channel, whose zero timings the section's
  // ranges do not admit: leave it out then, and the reload gets the same ideal channel.
  const bool ideal_dram = arch.dram.t_rcd == 0;
  std::set<std::string> composites_written;
  visit_arch_fields(arch, [&](const ArchField& field, const auto& value) {
    const std::string section = arch_yaml_section(field);
    if (section == "dram" && ideal_dram) return;
    YAML::Node parent = section.empty() ? root : root[section];
    if (field.coding != ArchYaml::Composite) {
      parent[arch_yaml_key(field)] = scalar_yaml(value);
    } else if (composites_written.insert(field.yaml).second) {
      // Written whole at its first part.
      if (const std::optional<YAML::Node> composite = composite_yaml(arch, field.yaml))
        parent[arch_yaml_key(field)] = *composite;
    }
  });
  YAML::Emitter emitter;
  emitter << root;
  out << emitter.c_str() << "\n";
}

}  // namespace dcp
