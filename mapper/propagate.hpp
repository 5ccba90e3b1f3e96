#pragma once
// Dataflow Code Propagation: gradient descent on dataflow codes through the frozen predictor,
// many starts per layer and every layer of a network in one batch. Every step decodes every
// code to a legal dataflow; the distinct ones, ranked by the predictor, are the candidates.
// Choosing among them by re-simulation is the caller's job (see mapper/dcp_mapper.hpp): nothing
// here ever calls the simulator.
#include <cstdint>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "mapper/dataflow_code.hpp"
#include "mapper/objective.hpp"
#include "mapper/per_network.hpp"
#include "mapper/predictor.hpp"
#include "workloads/layer.hpp"

namespace dcp {

struct PropagationOptions {
  // Sized so that DCP maps in less time than GA-2000 searches (the README's bench_map figures).
  int random_starts = 15;  // per layer, besides the starting dataflows' codes
  // Few steps keep the codes near their starts, where the predictor has seen traces: longer
  // descents end where its errors favour them (predicted EDP half the simulated one), and their
  // candidates crowd out better ones in the verification budget.
  int steps = 5;
  double learning_rate = 0.05;
  double penalty_weight = 4;
  uint64_t seed = 1;
};

// One layer to map: the normalising reference (a fixed dataflow's simulated cycles and energy,
// so that objective mixes compare like with like) and the dataflows whose codes start the descent.
struct PropagationProblem {
  Layer layer;
  ArchSpec arch;
  double reference_cycles = 1;
  double reference_energy_pj = 1;
  std::vector<Dataflow> starts;
};

// A decoded, legal dataflow and what the predictor says of it.
struct Candidate {
  Dataflow dataflow;
  double predicted_cycles = 0;
  double predicted_energy_pj = 0;
  double predicted_objective = 0;
  int found_at_step = 0;
};

// The propagation curve of one layer: the predicted objective of the codes' decoded dataflows.
struct PropagationStep {
  int step = 0;
  double best_objective = 0;  // over this layer's codes
  double mean_objective = 0;
  bool decoded = false;  // some code decoded to a dataflow not seen before at this step
};

struct PropagationOutcome {
  std::vector<Candidate> candidates;  // distinct dataflows, best predicted objective first
  std::vector<PropagationStep> curve;
};

// One outcome per problem. Same inputs and seed give the same outcome.
std::vector<PropagationOutcome> propagate(Predictor& predictor,
                                          const std::vector<PropagationProblem>& problems,
                                          const Objective& objective,
                                          const PropagationOptions& options);

// Best predicted objective first; ties keep their order.
void sort_by_prediction(std::vector<Candidate>& candidates);

// A start of per-network propagation: the shape's code, whose priority genes (the loop orders)
// every layer shares, and each layer's own code, whose share and tile genes are that layer's.
struct ShapeStart {
  CodeVector shape;
  std::vector<CodeVector> layer_codes;  // per layer of the problem
  // The layer whose decoded code sets the shape's spatial dims, so that a layer's own winner
  // lends its spatial maps intact.
  size_t spatial_layer = 0;
};
// `dataflows` (one per layer) as a start; the shape's genes come from layer `representative`.
ShapeStart shape_start(const NetworkProblem& problem, const ArchSpec& arch,
                       const std::vector<Dataflow>& dataflows, size_t representative);

// One dataflow per layer of the network, all from one shape, and what the predictor says of them.
struct ShapeCandidate {
  std::vector<Dataflow> layer_dataflows;
  double predicted_cycles = 0;  // the network's: every layer counted as often as it occurs
  double predicted_energy_pj = 0;
  double predicted_objective = 0;  // network_objective
  int found_at_step = 0;
};

// Per-network propagation: every start's priority genes are shared by all the network's layers,
// each of which keeps its own share and tile genes, and the codes descend the network objective of
// the predictions (the gradient reaches the shared genes from all its layers). Each row decodes on
// its layer, unrolling only the dims its start's spatial layer unrolls, so the layers of one
// candidate share loop orders and spatial dims (a dim stays whole only where a layer has no
// sub-tiles to split). Candidates are distinct, best predicted first.
std::vector<ShapeCandidate> propagate_shapes(Predictor& predictor, const NetworkProblem& problem,
                                             const ArchSpec& arch,
                                             const std::vector<ShapeStart>& starts,
                                             const Objective& objective,
                                             const PropagationOptions& options);

// The predictor's cycles and energy for legal dataflows of one layer, [cycles, energy pJ] each.
std::vector<std::array<double, kNumTargets>> predict_dataflows(
    Predictor& predictor, const Layer& layer, const ArchSpec& arch,
    const std::vector<Dataflow>& dataflows);

}  // namespace dcp
