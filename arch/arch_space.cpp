#include "arch/arch_space.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <random>

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
  } else if (name == "l1_bytes") {
    arch.l1_bytes = value;
  } else if (name == "l2_bytes") {
    arch.l2_bytes = value;
  } else if (name == "l1_bandwidth") {
    arch.l1_bandwidth = static_cast<double>(value);
  } else if (name == "l2_bandwidth") {
    arch.l2_bandwidth = static_cast<double>(value);
  } else if (name == "noc_bandwidth") {
    arch.noc_bandwidth = static_cast<double>(value);
  } else {
    arch.dram_bandwidth = static_cast<double>(value);
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
  static const std::vector<std::string> kNames = {"num_pes",       "l0_bytes",      "l1_bytes",
                                                  "l2_bytes",      "l1_bandwidth",  "l2_bandwidth",
                                                  "noc_bandwidth", "dram_bandwidth"};
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
    const bool is_buffer = range.name.find("_bytes") != std::string::npos;
    if (is_buffer && range.min < space.base.word_bytes)
      parameters_where.child(range.name)
          .child("min")
          .fail(std::to_string(range.min) + " bytes is below one word",
                ">= word_bytes = " + std::to_string(space.base.word_bytes));
    if (range.name == "num_pes" && range.max > (int64_t{1} << 20))
      parameters_where.child("num_pes").child("max").fail(std::to_string(range.max), "1..1048576");
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

std::string tensor_list(const TensorFlags& flags) {
  std::string list;
  for (Tensor tensor : kAllTensors)
    if (flag_of(flags, tensor)) list += std::string(list.empty() ? "" : ", ") + tensor_name(tensor);
  return "[" + list + "]";
}

std::string double_buffered_text(const TensorFlags& flags) {
  if (flags == TensorFlags{true, true, true}) return "true";
  if (flags == TensorFlags{}) return "false";
  return tensor_list(flags);
}

std::string l0_bytes_text(const ArchSpec& arch) {
  if (!l0_partitioned(arch)) return std::to_string(arch.l0_bytes);
  std::string text;
  for (Tensor tensor : kAllTensors) {
    text += std::string(text.empty() ? "{" : ", ") + tensor_name(tensor) + ": " +
            std::to_string(arch.l0_partition_bytes[static_cast<int>(tensor)]);
  }
  return text + "}";
}

}  // namespace

void write_arch_yaml(const ArchSpec& arch, std::ostream& out) {
  const auto flag = [](bool value) { return value ? "true" : "false"; };
  out << "name: " << arch.name << "\n"
      << "num_pes: " << arch.num_pes << "\n"
      << "array: {rows: " << arch.array_rows << ", cols: " << arch.array_cols << "}\n"
      << "macs_per_pe: " << arch.macs_per_pe << "\n"
      << "word_bytes: " << arch.word_bytes << "\n"
      << "double_buffered: " << double_buffered_text(arch.double_buffered) << "\n"
      << "systolic: " << flag(arch.systolic) << "\n"
      << "mac_pipeline_depth: " << arch.mac_pipeline_depth << "\n"
      << "buffers:\n"
      << "  l0_bytes: " << l0_bytes_text(arch) << "\n"
      << "  l1_bytes: " << arch.l1_bytes << "\n"
      << "  l2_bytes: " << arch.l2_bytes << "\n";
  if (arch.l1_bypass != TensorFlags{})
    out << "  l1_bypass: " << tensor_list(arch.l1_bypass) << "\n";
  if (arch.l2_bypass != TensorFlags{})
    out << "  l2_bypass: " << tensor_list(arch.l2_bypass) << "\n";
  out << "bandwidth:\n"
      << "  l1: " << shortest(arch.l1_bandwidth) << "\n"
      << "  l2: " << shortest(arch.l2_bandwidth) << "\n"
      << "  noc: " << shortest(arch.noc_bandwidth) << "\n"
      << "  dram: " << shortest(arch.dram_bandwidth) << "\n"
      << "  dram_latency: " << arch.dram_latency << "\n"
      << "energy:\n"
      << "  mac: " << shortest(arch.energy.mac_pj) << "\n"
      << "  l0: " << shortest(arch.energy.l0_pj) << "\n"
      << "  l1: " << shortest(arch.energy.l1_pj) << "\n"
      << "  l2: " << shortest(arch.energy.l2_pj) << "\n"
      << "  noc_hop: " << shortest(arch.energy.noc_hop_pj) << "\n"
      << "  dram: " << shortest(arch.energy.dram_pj) << "\n"
      << "  leakage_per_cycle: " << shortest(arch.energy.leakage_pj_per_cycle) << "\n";
  // An arch without a dram section has the ideal channel, whose zero timings the section's
  // ranges do not admit: leave it out then, and the reload gets the same ideal channel.
  const DramTiming& dram = arch.dram;
  if (dram.t_rcd > 0) {
    out << "dram: {banks: " << dram.banks << ", row_bytes: " << dram.row_bytes
        << ", burst_bytes: " << dram.burst_bytes << ", t_rcd: " << dram.t_rcd
        << ", t_rp: " << dram.t_rp << ", t_cas: " << dram.t_cas << ", t_wr: " << dram.t_wr
        << ", t_wtr: " << dram.t_wtr << ", t_rtw: " << dram.t_rtw << "}\n";
  }
}

}  // namespace dcp
