#pragma once
// Sums over a network: each layer's simulated cost counted as often as the layer occurs.
#include <cstdint>
#include <nlohmann/json.hpp>

#include "sim/evaluate.hpp"

namespace dcp {

// The cost of a network's layers under one choice of dataflows.
struct NetworkCost {
  double cycles = 0, energy_pj = 0;
  double pe_busy_cycles = 0;  // utilization x cycles: the cycles of the whole PE array the MACs use

  // Adds a layer that occurs `count` times.
  void add(int64_t count, const Result& result);
  double edp() const { return cycles * energy_pj; }
};

// A method's picks against every layer's best fixed dataflow, and the geometric mean of the
// per-layer gains over it.
struct NetworkTotals {
  NetworkCost picked, best_fixed;
  int64_t calls = 0;  // left to the caller: layers that share a loop nest share their calls
  double log_gain_sum = 0;
  int64_t layers = 0;

  void add_layer(int64_t count, const Result& picked_result, const Result& best_fixed_result,
                 double gain);
  double geomean_gain() const;
  // cycles, energy_pj, edp, best_fixed_edp, geomean_gain and simulator_calls.
  nlohmann::json to_json() const;
};

}  // namespace dcp
