#pragma once
// The hardware description, independent of any layer or dataflow (Timeloop's "architecture").
// Three storage levels: L0 per PE, L1 per cluster, L2 global; a NoC from L2 to the clusters and
// a DRAM channel behind L2.
#include <cstdint>
#include <string>

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

struct ArchSpec {
  std::string name;
  std::string source;   // file it was loaded from
  int64_t num_pes = 1;  // array_rows * array_cols
  int64_t array_rows = 1;
  int64_t array_cols = 1;
  int64_t macs_per_pe = 1;  // MAC lanes in a PE (the L0 level's spatial fan-out limit)
  int64_t word_bytes = 1;
  int64_t l0_bytes = 0;            // per PE
  int64_t l1_bytes = 0;            // per cluster
  int64_t l2_bytes = 0;            // global buffer
  double l1_bandwidth = 1;         // bytes/cycle from a cluster's L1 to its PEs (multicast bus)
  double l2_bandwidth = 1;         // bytes/cycle read or written at the global buffer
  double noc_bandwidth = 1;        // bytes/cycle on the L2<->cluster NoC (a multicast counts once)
  double dram_bandwidth = 1;       // bytes/cycle
  int64_t dram_latency = 0;        // cycles before the first byte of a burst
  int64_t mac_pipeline_depth = 1;  // cycles from operands to result
  bool double_buffered = true;     // each level holds two tiles so fetch overlaps compute
  bool systolic = false;           // weight-stationary systolic array timing (fill/drain skew)
  EnergyTable energy;
};

// Loads and validates an arch YAML. Throws InputError naming the file, the field and the range.
ArchSpec load_arch(const std::string& path);

}  // namespace dcp
