#pragma once
// The simulator's public interface: everything outside sim/ (mapper, cli, tests) calls evaluate()
// and reads a Result. Internally a SystemC model is elaborated once per process and serves one
// job per call.
#include <array>
#include <cstdint>
#include <string>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// Where energy is spent. Storage levels and the NoC have per-tensor access counts.
enum class CostLevel { Dram = 0, L2 = 1, Noc = 2, L1 = 3, L0 = 4 };
constexpr int kNumCostLevels = 5;
const char* cost_level_name(CostLevel level);  // "DRAM", "L2", "NoC", "L1", "L0"

// Why the MAC pipeline waited.
enum class StallCause { Dram = 0, Noc = 1, L1Fill = 2, Writeback = 3 };
constexpr int kNumStallCauses = 4;
const char* stall_cause_name(StallCause cause);

// What limits the layer: the resource with the most busy cycles.
enum class Bound { Compute, L2, Noc, Dram };
const char* bound_name(Bound bound);

// Cycles each shared resource was busy; the largest decides the bound.
struct BusyCycles {
  int64_t compute = 0;
  int64_t l2 = 0;
  int64_t noc = 0;
  int64_t dram = 0;
  bool operator==(const BusyCycles& other) const;
};

struct AccessCounts {
  // words read / written, [level][tensor]. NoC counts words moved (a multicast counts once).
  std::array<std::array<int64_t, kNumTensors>, kNumCostLevels> reads{};
  std::array<std::array<int64_t, kNumTensors>, kNumCostLevels> writes{};
  // NoC words times the tree links each crossed: a multicast to m clusters crosses the links of
  // the subtree reaching them, a reduction from m clusters likewise (what NoC energy is charged
  // on).
  std::array<int64_t, kNumTensors> noc_link_words{};
  AccessCounts& operator+=(const AccessCounts& other);
  AccessCounts& operator-=(const AccessCounts& other);
  AccessCounts scaled(int64_t factor) const;
  // *this += other.scaled(factor), without building the scaled copy.
  AccessCounts& add_scaled(const AccessCounts& other, int64_t factor);
  bool operator==(const AccessCounts& other) const;
};

struct Result {
  int64_t cycles = 0;
  int64_t macs = 0;
  AccessCounts counts;
  // pJ per level and tensor = (reads + writes) x the level's table entry (NoC: link words x
  // the energy per hop).
  std::array<std::array<double, kNumTensors>, kNumCostLevels> energy_pj{};
  double mac_energy_pj = 0;
  double leakage_energy_pj = 0;
  double total_energy_pj = 0;
  std::array<int64_t, kNumStallCauses> stall_cycles{};
  BusyCycles busy;
  Bound bound = Bound::Compute;
  double pe_utilization = 0;  // macs / (cycles * PEs * lanes)
  int64_t dram_bytes = 0;
  int64_t simulated_steps = 0;  // L1 steps that went through the event model
  int64_t total_steps = 0;      // L1 steps the schedule has

  double edp() const { return static_cast<double>(cycles) * total_energy_pj; }
};

struct EvalOptions {
  // Advance repeating loop iterations in one step once their timing repeats. Off simulates every
  // iteration (slow, for checking that both agree).
  bool skip_steady_state = true;
  // With skipping off: writes the model's state and loads it back at every loop-iteration
  // boundary, which must change no number (a check of the state that replays load).
  bool reload_state = false;
  // Chrome trace-event JSON of transfers, compute and stalls per unit; empty: none.
  std::string timeline_path;
};

// Checks legality first (throws InputError naming `source`, default "dataflow") and then
// simulates. Not thread-safe: one SystemC kernel per process; use forked workers for parallelism.
Result evaluate(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                const EvalOptions& options = {}, const std::string& source = "dataflow");

// Compulsory DRAM traffic in bytes: every input, weight and output element once.
int64_t compulsory_dram_bytes(const Layer& layer, const ArchSpec& arch);

// Functional mode: carries real integer values through every tile step of the schedule and
// compares with a plain reference convolution.
struct FunctionalReport {
  bool outputs_match = false;
  int64_t macs_performed = 0;   // MACs the schedule issued
  int64_t macs_expected = 0;    // layer.macs() for one repeat
  int64_t duplicated_macs = 0;  // (k,c,y,x,r,s) points visited more than once
  int64_t mismatched_outputs = 0;
  bool ok() const {
    return outputs_match && macs_performed == macs_expected && duplicated_macs == 0;
  }
};
// Refuses (InputError) layers above `max_macs` MACs.
FunctionalReport run_functional(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                                uint64_t seed, int64_t max_macs = 50'000'000);

}  // namespace dcp
