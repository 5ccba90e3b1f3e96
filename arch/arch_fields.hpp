#pragma once
// The one list of ArchSpec's fields. Each entry names a field for every consumer: its trace-store
// column (also its arch-JSON key and the name predictor features and arch spaces pick it by), its
// path in the arch YAML, and how the YAML reader treats it. The YAML reader and writer, the trace
// store, the arch JSON, arch spaces and the predictor's hardware features all iterate this list,
// so a field added to ArchSpec and here reaches all of them (tests/test_sweep.cpp checks that
// every entry survives each of them).
#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"

namespace dcp {

// Allowed ranges. The upper limits are far beyond any real design; they exist to catch unit
// mistakes (a size in bits, a bandwidth in bytes/second) and to keep products such as PEs x
// bytes inside int64.
namespace arch_limits {
constexpr int64_t kMaxPes = int64_t{1} << 20;
constexpr int64_t kMaxMacsPerPe = 1024;
constexpr int64_t kMaxWordBytes = 8;
constexpr int64_t kMaxPipelineDepth = 1024;
constexpr int64_t kMaxL0Bytes = int64_t{1} << 24;  // 16 MiB per PE
constexpr int64_t kMaxL1Bytes = int64_t{1} << 30;  // 1 GiB per cluster
constexpr int64_t kMaxL2Bytes = int64_t{1} << 36;  // 64 GiB
// A bandwidth must be strictly positive (the simulator divides by it); the YAML reader's minimum
// is inclusive, so the floor is one byte per thousand cycles, slower than any real link.
constexpr double kMinBandwidth = 1e-3;
constexpr double kMaxBandwidth = 1e6;
constexpr int64_t kMaxDramLatency = 1'000'000;
// DRAM organisation. Ganged HBM channels give the widest real rows and bursts (16 channels of
// 2 KiB rows are 32 KiB); a row of at least 256 bytes keeps the model's work per request, one
// step per row, small for tile-sized transfers.
constexpr int64_t kMaxDramBanks = 1024;
constexpr int64_t kMinRowBytes = 256;
constexpr int64_t kMaxRowBytes = int64_t{1} << 20;
// A DRAM timing in cycles: real ones stay below 100 even at a 5 GHz core clock, so 1000 catches
// most values given in picoseconds (tRCD, tRP and CL are above 10000 ps in every standard).
constexpr int64_t kMaxDramTiming = 1000;
constexpr double kMaxEnergyPj = 1e6;
}  // namespace arch_limits

// How the YAML reader and writer treat a field.
enum class ArchYaml {
  // A scalar at `yaml`: read in [min, max] and written as is.
  Plain,
  // Written as is, but read by explicit code in arch_spec.cpp that checks more than a range:
  // the name (non-empty), the array shape and num_pes (a product and a cross-check), the DRAM
  // geometry (powers of two, a burst within a row).
  CheckedRead,
  // One part of a YAML value that holds several fields (l0_bytes as one size or a per-tensor
  // map; double_buffered and the bypasses as lists of tensors): read and written by explicit
  // code, which every entry sharing that `yaml` path goes through.
  Composite,
};

struct ArchField {
  const char* column;  // trace-store column and arch-JSON key
  const char* yaml;    // dotted path in the arch YAML: "macs_per_pe", "buffers.l1_bytes"
  ArchYaml coding = ArchYaml::Plain;
  double min = 0;  // allowed range of a Plain field (integers are read as integers)
  double max = 0;
  bool at_least_one_word = false;     // min is the arch's word_bytes: a buffer holds one word
  bool arch_space_parameter = false;  // an arch space may vary it (arch_space.hpp)
};

namespace arch_field_detail {
constexpr ArchField plain(const char* column, const char* yaml, double min, double max) {
  return {column, yaml, ArchYaml::Plain, min, max};
}
constexpr ArchField checked(const char* column, const char* yaml) {
  return {column, yaml, ArchYaml::CheckedRead};
}
constexpr ArchField part_of(const char* column, const char* yaml) {
  return {column, yaml, ArchYaml::Composite};
}
constexpr ArchField in_arch_spaces(ArchField field) {
  field.arch_space_parameter = true;
  return field;
}
constexpr ArchField buffer(const char* column, const char* yaml, double max) {
  return in_arch_spaces({column, yaml, ArchYaml::Plain, 0, max, true});
}
constexpr ArchField bandwidth(const char* column, const char* yaml) {
  return in_arch_spaces(
      plain(column, yaml, arch_limits::kMinBandwidth, arch_limits::kMaxBandwidth));
}
constexpr ArchField energy(const char* column, const char* yaml) {
  return plain(column, yaml, 0, arch_limits::kMaxEnergyPj);
}
}  // namespace arch_field_detail

// Calls visit(const ArchField&, field value&) for every field but `source` (one arch read from
// two paths is one arch), in trace-store column order. `Arch` is ArchSpec or const ArchSpec.
template <typename Arch, typename Visitor>
void visit_arch_fields(Arch& arch, Visitor&& visit) {
  using namespace arch_field_detail;
  using namespace arch_limits;
  constexpr int kIn = static_cast<int>(Tensor::Input);
  constexpr int kWt = static_cast<int>(Tensor::Weight);
  constexpr int kOut = static_cast<int>(Tensor::Output);
  visit(checked("name", "name"), arch.name);
  visit(in_arch_spaces(checked("num_pes", "num_pes")), arch.num_pes);
  visit(checked("array_rows", "array.rows"), arch.array_rows);
  visit(checked("array_cols", "array.cols"), arch.array_cols);
  visit(plain("macs_per_pe", "macs_per_pe", 1, kMaxMacsPerPe), arch.macs_per_pe);
  visit(plain("word_bytes", "word_bytes", 1, kMaxWordBytes), arch.word_bytes);
  ArchField l0 = in_arch_spaces(part_of("l0_bytes", "buffers.l0_bytes"));
  l0.at_least_one_word = true;
  visit(l0, arch.l0_bytes);
  visit(part_of("l0_input_bytes", "buffers.l0_bytes"), arch.l0_partition_bytes[kIn]);
  visit(part_of("l0_weight_bytes", "buffers.l0_bytes"), arch.l0_partition_bytes[kWt]);
  visit(part_of("l0_output_bytes", "buffers.l0_bytes"), arch.l0_partition_bytes[kOut]);
  visit(buffer("l1_bytes", "buffers.l1_bytes", kMaxL1Bytes), arch.l1_bytes);
  visit(buffer("l2_bytes", "buffers.l2_bytes", kMaxL2Bytes), arch.l2_bytes);
  visit(bandwidth("l1_bandwidth", "bandwidth.l1"), arch.l1_bandwidth);
  visit(bandwidth("l2_bandwidth", "bandwidth.l2"), arch.l2_bandwidth);
  visit(bandwidth("noc_bandwidth", "bandwidth.noc"), arch.noc_bandwidth);
  visit(bandwidth("dram_bandwidth", "bandwidth.dram"), arch.dram_bandwidth);
  visit(plain("dram_latency", "bandwidth.dram_latency", 0, kMaxDramLatency), arch.dram_latency);
  visit(checked("dram_banks", "dram.banks"), arch.dram.banks);
  visit(checked("dram_row_bytes", "dram.row_bytes"), arch.dram.row_bytes);
  visit(checked("dram_burst_bytes", "dram.burst_bytes"), arch.dram.burst_bytes);
  visit(plain("dram_t_rcd", "dram.t_rcd", 1, kMaxDramTiming), arch.dram.t_rcd);
  visit(plain("dram_t_rp", "dram.t_rp", 1, kMaxDramTiming), arch.dram.t_rp);
  visit(plain("dram_t_cas", "dram.t_cas", 1, kMaxDramTiming), arch.dram.t_cas);
  visit(plain("dram_t_wr", "dram.t_wr", 1, kMaxDramTiming), arch.dram.t_wr);
  visit(plain("dram_t_wtr", "dram.t_wtr", 1, kMaxDramTiming), arch.dram.t_wtr);
  visit(plain("dram_t_rtw", "dram.t_rtw", 1, kMaxDramTiming), arch.dram.t_rtw);
  visit(plain("mac_pipeline_depth", "mac_pipeline_depth", 1, kMaxPipelineDepth),
        arch.mac_pipeline_depth);
  visit(part_of("double_buffered_input", "double_buffered"), arch.double_buffered[kIn]);
  visit(part_of("l1_bypass_input", "buffers.l1_bypass"), arch.l1_bypass[kIn]);
  visit(part_of("l2_bypass_input", "buffers.l2_bypass"), arch.l2_bypass[kIn]);
  visit(part_of("double_buffered_weight", "double_buffered"), arch.double_buffered[kWt]);
  visit(part_of("l1_bypass_weight", "buffers.l1_bypass"), arch.l1_bypass[kWt]);
  visit(part_of("l2_bypass_weight", "buffers.l2_bypass"), arch.l2_bypass[kWt]);
  visit(part_of("double_buffered_output", "double_buffered"), arch.double_buffered[kOut]);
  visit(part_of("l1_bypass_output", "buffers.l1_bypass"), arch.l1_bypass[kOut]);
  visit(part_of("l2_bypass_output", "buffers.l2_bypass"), arch.l2_bypass[kOut]);
  visit(ArchField{"systolic", "systolic"}, arch.systolic);
  visit(energy("energy_mac_pj", "energy.mac"), arch.energy.mac_pj);
  visit(energy("energy_l0_pj", "energy.l0"), arch.energy.l0_pj);
  visit(energy("energy_l1_pj", "energy.l1"), arch.energy.l1_pj);
  visit(energy("energy_l2_pj", "energy.l2"), arch.energy.l2_pj);
  visit(energy("energy_noc_hop_pj", "energy.noc_hop"), arch.energy.noc_hop_pj);
  visit(energy("energy_dram_pj", "energy.dram"), arch.energy.dram_pj);
  visit(energy("energy_leakage_pj_per_cycle", "energy.leakage_per_cycle"),
        arch.energy.leakage_pj_per_cycle);
}

// Where `field` lives in the arch YAML: its section ("" at the top level, else "buffers",
// "dram", ...) and its key in that section.
std::string arch_yaml_section(const ArchField& field);
std::string arch_yaml_key(const ArchField& field);
// The keys an arch YAML may hold in `section` ("" for the top level), in table order.
std::vector<std::string> arch_yaml_keys(const std::string& section);

// Every entry, in visit order.
const std::vector<ArchField>& arch_fields();
// Position in visit order of the field whose column is `column`; throws std::logic_error when
// there is none, so that a misspelt name fails on first use instead of reading another field.
std::size_t arch_field_position(const std::string& column);
// Every field's value as a number, in visit order (NaN for the text field `name`).
std::vector<double> arch_field_numbers(const ArchSpec& arch);

}  // namespace dcp
