#pragma once
// The per-network baselines: GA and random search for one dataflow shape that every layer of a
// network runs (per_network.hpp), the baseline of `dcp map --per-network`. They run the per-layer
// searches' strategies (run_ga, run_random) on the network's envelope, scoring each candidate
// shape by simulate_shape, and compare with the fixed dataflows over the same network.
#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "mapper/network_totals.hpp"
#include "mapper/objective.hpp"
#include "mapper/per_network.hpp"
#include "mapper/search.hpp"

namespace dcp {

struct NetworkSearchResult {
  ShapeRun best;                // the best shape, fitted to and simulated on every layer
  int64_t shapes = 0;           // distinct shapes simulated (what the budget counts)
  int64_t simulator_calls = 0;  // shapes x layers
  double wall_seconds = 0;
  std::vector<double> best_by_shape;       // best score so far after each shape
  std::vector<double> best_by_generation;  // GA only: best score so far after each generation
};

// `options.budget` counts shapes, each costing one simulator call per layer of `problem`;
// `on_simulate` sees each shape before it is simulated and `on_progress` the simulator calls so
// far. A shape seen before is not simulated again.
NetworkSearchResult search_network_ga(const NetworkProblem& problem, const ArchSpec& arch,
                                      const Objective& objective, const SearchOptions& options,
                                      const GaOptions& ga = {});
NetworkSearchResult search_network_random(const NetworkProblem& problem, const ArchSpec& arch,
                                          const Objective& objective, const SearchOptions& options);

}  // namespace dcp
