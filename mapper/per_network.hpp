#pragma once
// Per-network mapping: one dataflow shape for every layer of a network, as a fixed-dataflow chip
// runs one design over all of them (the DCP paper's per-model optimisation). What the chip fixes
// is a Structure (below): the dims each level may unroll and the loop orders inside it; each
// layer's sizes are its own. The searches draw shapes on the network's envelope (every dim at its
// largest), so no fan-out is cut short before it meets a layer, and fit them to each layer
// (fit_structure). A network's score is the mean over its layer occurrences of the layer's
// objective normalised by its own fixed dataflows; per-network DCP and per-network GA minimise
// the same score.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
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
// Every dim at its largest over `layers`; type and stride from the one with the most MACs.
Layer network_envelope(const std::vector<Layer>& layers);
NetworkProblem make_network_problem(const std::vector<Layer>& distinct_layers, const ArchSpec& arch,
                                    const Objective& objective);

// The layer that weighs most in the network (MACs x count): it lends a shape its spatial dims.
size_t representative_layer(const NetworkProblem& problem);

// The mean over the network's layer occurrences (each distinct layer counted `count` times) of
// the layer's objective normalised by its own fixed dataflows (1 is the best fixed dataflow of
// every layer, as the per-layer searches normalise). `cycles` and `energy_pj` are per layer, for
// one occurrence (simulated or predicted).
double network_objective(const NetworkProblem& problem, const Objective& objective,
                         const std::vector<double>& cycles, const std::vector<double>& energy_pj);

// A shape simulated on every layer of the network (fit_structure).
struct ShapeRun {
  Dataflow shape;
  std::vector<Dataflow> fitted;  // per layer: fit_structure
  std::vector<Result> results;   // per layer
  double objective = 0;          // network_objective of the results
  NetworkCost cost;
};
// Per-layer dataflows (one shape's) simulated on their layers.
ShapeRun simulate_layers(const NetworkProblem& problem, const ArchSpec& arch,
                         const Objective& objective, const Dataflow& shape,
                         const std::vector<Dataflow>& layer_dataflows);
ShapeRun simulate_shape(const NetworkProblem& problem, const ArchSpec& arch,
                        const Objective& objective, const Dataflow& shape);

// A run from per-layer dataflows and their results, scored.
ShapeRun scored_run(const NetworkProblem& problem, const Objective& objective,
                    const Dataflow& shape, const std::vector<Dataflow>& layer_dataflows,
                    const std::vector<Result>& results);

// Each fixed dataflow over the whole network, generated for every layer as `dcp simulate
// --network --dataflow NAME` does: a chip built for that one dataflow. In fixed_dataflow_names()
// order, from the fixed baselines' runs (no simulation).
std::vector<ShapeRun> fixed_dataflows_over_network(const NetworkProblem& problem,
                                                   const Objective& objective);
// The index of the run with the lowest objective (the first of equals).
size_t best_run(const std::vector<ShapeRun>& runs);
// Every layer under its own best fixed dataflow: a chip that switches dataflows between layers.
ShapeRun best_fixed_per_layer(const NetworkProblem& problem, const Objective& objective);

// What one chip design fixes (the per-network definition): the dims each level may unroll, and
// the loop orders inside the chip (L1 and the PEs). The outermost level's order, the walk over
// DRAM, is the host's to pick per layer, as eyeriss-rs picks it. A layer's dataflow fits a
// structure when its inner orders are these and it unrolls no other dim; its fan-out sizes and
// tiles are its own, and a dim too small to split stays whole.
struct Structure {
  std::array<std::array<Dim, kNumDims>, kNumLevels> orders{};  // the outermost level's unused
  std::array<uint32_t, kNumLevels> spatial_dims{};             // a bit per dim_index
  bool operator<(const Structure& other) const;
  // Whether a layer's own structure (one dataflow's) fits this one: the same inner orders, and
  // no dim this one does not unroll.
  bool holds(const Structure& layer) const;
};
// The structure `layer_dataflows` share: their inner orders, and every dim any of them unrolls.
// None when their inner orders differ.
std::optional<Structure> shared_structure(const std::vector<Dataflow>& layer_dataflows);
bool fits_structure(const Dataflow& dataflow, const Structure& structure);

// A dataflow simulated on one layer: what per-network assembly picks from.
struct SimulatedDataflow {
  Dataflow dataflow;
  Result result;
};
// For every structure, each layer takes its best simulated dataflow (from `pools`, per layer)
// that fits; the best such network, or none when no structure fits every layer. No simulation:
// every pick was simulated on its layer, so the run is the simulator's.
std::optional<ShapeRun> assemble_best_structure(
    const NetworkProblem& problem, const Objective& objective,
    const std::vector<std::vector<SimulatedDataflow>>& pools,
    const std::vector<Structure>& structures);

// Names a shape and the dataflows fitted from it.
void name_shape(ShapeRun& run, const std::string& name);

}  // namespace dcp
