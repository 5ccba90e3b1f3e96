#pragma once
// Per-network mapping: one dataflow shape for every layer of a network, as a fixed-dataflow chip
// runs one design over all of them (the DCP paper's per-model optimisation). Each layer runs the
// shape fitted to it (fit_template), and the shape's score is the sum over the network's layers,
// each counted as often as it occurs, of the layer's objective normalised by its own best fixed
// dataflow; per-network DCP and per-network GA minimise the same score.
#include <cstdint>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "mapper/network_totals.hpp"
#include "mapper/objective.hpp"
#include "mapper/search.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// A network's layers merged by loop nest (loop_nest_key): the first layer of each nest, its
// count the nest's total, and where each layer went; what make_network_problem takes.
struct DistinctLayers {
  std::vector<Layer> layers;
  std::vector<std::size_t> of_layer;  // per layer of the network, its entry in `layers`
};
DistinctLayers distinct_layers(const std::vector<Layer>& layers);

// The distinct layers of a network (each with its `count`) and their fixed baselines.
struct NetworkProblem {
  std::vector<Layer> layers;
  std::vector<FixedBaseline> fixed;  // per layer: normaliser and the fixed dataflows' runs
  // Every dim at its largest over the layers: shapes are drawn and decoded on it, so that no
  // layer's fitted tiles are smaller than the shape intended.
  Layer envelope;
};
NetworkProblem make_network_problem(const std::vector<Layer>& distinct_layers, const ArchSpec& arch,
                                    const Objective& objective);

// Sum over layers of count x the layer's normalised objective. `cycles` and `energy_pj` are per
// layer, for one occurrence (simulated or predicted).
double network_objective(const NetworkProblem& problem, const Objective& objective,
                         const std::vector<double>& cycles, const std::vector<double>& energy_pj);

// A shape simulated on every layer of the network.
struct ShapeRun {
  Dataflow shape;
  std::vector<Dataflow> fitted;  // per layer
  std::vector<Result> results;   // per layer
  double objective = 0;          // network_objective of the results
  NetworkCost cost;
};
ShapeRun simulate_shape(const NetworkProblem& problem, const ArchSpec& arch,
                        const Objective& objective, const Dataflow& shape);

}  // namespace dcp
