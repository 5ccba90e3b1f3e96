#pragma once
// The hardware description, independent of any layer or dataflow (Timeloop's "architecture").
// Three storage levels: L0 per PE, L1 per cluster, L2 global; a NoC from L2 to the clusters and
// a DRAM channel behind L2 (its device timing: DramTiming, simulated by sim/dram.hpp).
#include <array>
#include <cstdint>
#include <string>

#include "common/tensor.hpp"

namespace dcp {

// Energy per access in pJ. Storage/NoC/DRAM values are per *word* (ArchSpec::word_bytes);
// each preset YAML cites the source of every number.
struct EnergyTable {
  double mac_pj = 0;                // one multiply-accumulate
  double l0_pj = 0;                 // register file / scratchpad in the PE
  double l1_pj = 0;                 // cluster buffer
  double l2_pj = 0;                 // global buffer
  double noc_hop_pj = 0;            // one word over one NoC hop
  double dram_pj = 0;               // one word from/to DRAM
  double leakage_pj_per_cycle = 0;  // whole chip
};

// The DRAM device behind the `bandwidth.dram` data bus, in core cycles (the `dram:` section; each
// preset cites the standard and speed grade its numbers come from). A request pays these on top
// of ArchSpec::dram_latency, which is the fixed controller, PHY and link latency.
// The defaults are an ideal channel, used when an arch has no `dram:` section: one bank and no
// row, CAS or turnaround cost, so a transfer takes dram_latency + bytes / bandwidth as it did
// before DRAM timing was modelled.
struct DramTiming {
  int64_t banks = 1;                     // power of two
  int64_t row_bytes = int64_t{1} << 20;  // row buffer over the whole bus; power of two
  int64_t burst_bytes = 1;               // one column access over the whole bus; power of two
  int64_t t_rcd = 0;                     // activate to column command
  int64_t t_rp = 0;                      // precharge: closing a row before the next activate
  int64_t t_cas = 0;                     // column command to its first data (read or write)
  int64_t t_wr = 0;                      // write recovery: end of write data to precharge
  int64_t t_wtr = 0;                     // end of write data to the next read command
  int64_t t_rtw = 0;                     // idle bus between read data and write data
};

struct ArchSpec {
  std::string name;
  std::string source;   // file it was loaded from
  int64_t num_pes = 1;  // array_rows * array_cols
  int64_t array_rows = 1;
  int64_t array_cols = 1;
  int64_t macs_per_pe = 1;  // MAC lanes in a PE (the L0 level's spatial fan-out limit)
  int64_t word_bytes = 1;
  int64_t l0_bytes = 0;  // per PE (the partitions' sum when partitioned)
  // Separate L0 scratchpads per tensor (Eyeriss's ifmap, filter and psum spads); all zero: one
  // L0 buffer the tensors share.
  std::array<int64_t, kNumTensors> l0_partition_bytes{};
  int64_t l1_bytes = 0;            // per cluster
  int64_t l2_bytes = 0;            // global buffer
  double l1_bandwidth = 1;         // bytes/cycle from a cluster's L1 to its PEs (multicast bus)
  double l2_bandwidth = 1;         // bytes/cycle read or written at the global buffer
  double noc_bandwidth = 1;        // bytes/cycle on the L2<->cluster NoC (a multicast counts once)
  double dram_bandwidth = 1;       // bytes/cycle of the DRAM data bus
  int64_t dram_latency = 0;        // fixed cycles per request: controller, PHY and link
  DramTiming dram;                 // banks, rows and turnarounds of the DRAM device
  int64_t mac_pipeline_depth = 1;  // cycles from operands to result
  // Tensors each level holds two tiles of, so that their next fetch overlaps compute.
  TensorFlags double_buffered{true, true, true};
  // Tensors that skip the global buffer and move between DRAM and the clusters' L1 directly
  // (Timeloop's bypass).
  TensorFlags l2_bypass{};
  // Operands that skip the cluster buffer: the NoC delivers them into the PEs' L0s, which then
  // hold a PE's whole share of each step (Eyeriss feeds filters from the NoC into the spads).
  TensorFlags l1_bypass{};
  bool systolic = false;  // weight-stationary systolic array timing (fill/drain skew)
  EnergyTable energy;
};

// Copies of a tile of `tensor` each level holds: 2 when it is double-buffered.
inline int64_t buffer_copies(const ArchSpec& arch, Tensor tensor) {
  return flag_of(arch.double_buffered, tensor) ? 2 : 1;
}
// Share of the tensors double-buffered: 1 or 0 when the arch says true or false.
inline double double_buffered_share(const ArchSpec& arch) {
  double share = 0;
  for (bool flag : arch.double_buffered) share += flag ? 1.0 / kNumTensors : 0.0;
  return share;
}
inline bool l0_partitioned(const ArchSpec& arch) {
  return arch.l0_partition_bytes[0] > 0;
}

// Loads and validates an arch YAML. Throws InputError naming the file, the field and the range.
ArchSpec load_arch(const std::string& path);

}  // namespace dcp
