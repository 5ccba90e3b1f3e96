#pragma once
// A family of hardware configs: a base arch plus ranges for the parameters that vary. Sweeps
// over many configs train a hardware-conditioned predictor; `dcp arch-space` writes the sampled
// configs as arch YAMLs so that any of them can be simulated or mapped on its own.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"

namespace dcp {

// One varying parameter: powers of two from `min` to `max`, inclusive, drawn log-uniformly.
struct ParameterRange {
  std::string name;  // one of arch_space_parameter_names()
  int64_t min = 1;
  int64_t max = 1;
};

struct ArchSpace {
  std::string name;
  std::string source;  // file it was loaded from
  ArchSpec base;       // every field that no range varies
  std::vector<ParameterRange> ranges;
  // SRAM access energy grows with capacity (CACTI: roughly with its square root), so a level's
  // pJ per word is the base's times (bytes / base bytes)^exponent. 0 keeps the base's energies.
  double buffer_energy_exponent = 0.5;
};

// "num_pes", "l0_bytes", "l1_bytes", "l2_bytes", "l1_bandwidth", "l2_bandwidth",
// "noc_bandwidth", "dram_bandwidth".
const std::vector<std::string>& arch_space_parameter_names();

// Loads and validates an arch-space YAML; throws InputError naming the file, field and range.
ArchSpace load_arch_space(const std::string& path);

// Config `index` of the space; a pure function of (space, seed, index). Its name is
// "<space name>-<index>". The PE array is as square as the power-of-two PE count allows, and
// leakage scales with the PE count (it tracks area).
ArchSpec sample_arch(const ArchSpace& space, uint64_t seed, int64_t index);
// Configs 0..count-1.
std::vector<ArchSpec> sample_archs(const ArchSpace& space, uint64_t seed, int64_t count);

// The arch as YAML that load_arch reads back to the same ArchSpec (up to `source`).
void write_arch_yaml(const ArchSpec& arch, std::ostream& out);

}  // namespace dcp
