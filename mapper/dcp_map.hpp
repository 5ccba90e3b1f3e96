#pragma once
// DCP end to end for a set of layers: the fixed dataflows give the normaliser and the first
// starts, propagation proposes candidates, and the simulator has the last word: the dataflow
// returned for a layer is the best *simulated* one, never one that was only predicted.
// The caller's predictor is never changed.
#include <cstdint>
#include <functional>
#include <set>
#include <vector>

#include "mapper/pareto.hpp"
#include "mapper/per_network.hpp"
#include "mapper/propagate.hpp"
#include "mapper/search.hpp"

namespace dcp {

struct MapOptions {
  PropagationOptions propagation;
  int verify_top_k = 90;  // candidates re-simulated per layer over all rounds, best predicted first
  // Propagate-and-verify rounds. Between rounds a copy of the predictor is fine-tuned on every
  // dataflow simulated so far, so that the next descent no longer trusts the predictions the
  // simulator just refuted, and the best simulated dataflows join the starts.
  int rounds = 6;
  // Predictor-ranked walks from the best simulated dataflows added to each round's candidates.
  int neighbours_per_round = 2500;
  // Share of walk steps that are jumps (jump_dataflow) rather than one-gene neighbours.
  double jump_share = 0.3;
  // Candidates of one family (dataflow_family) a round simulates while other families remain.
  // Propagation often crowds the top of the ranking with near copies of one dataflow that the
  // predictor misjudges; simulating them all wastes the round.
  int family_cap = 2;
  // The first round first simulates, per main L2 spatial dim, the best-predicted candidate that
  // uses at least half the PEs, so that fine-tuning sees every kind of parallelism once: the
  // predictor is least accurate on the best dataflows, which its training traces seldom reach.
  bool explore_spatial_dims = true;
  // Fine-tuning takes a third of a map's time at 20 steps, which found no better dataflows than
  // 10 on MobileNet-V2 at the edge preset.
  int fine_tune_steps = 10;
  double fine_tune_learning_rate = 1e-3;
};

struct VerifiedCandidate {
  Candidate candidate;  // the prediction, for one instance of the layer (repeat 1)
  Result simulated;
  double objective = 0;  // from the simulated numbers
};

struct LayerMapping {
  Layer layer;
  FixedBaseline fixed;
  std::vector<VerifiedCandidate> verified;  // in the order they were simulated
  // The winner: a verified candidate, or a fixed run when none beat it (the fixed dataflows'
  // codes are starts, so this only happens when descent led every start astray).
  Dataflow best;
  Result best_result;
  double best_objective = 0;
  bool best_is_fixed = false;
  double predicted_cycles = 0;  // the predictor's numbers for `best`, all repeats
  double predicted_energy_pj = 0;
  int64_t simulator_calls = 0;         // fixed runs plus verified candidates
  std::vector<PropagationStep> curve;  // every round's steps, numbered on from the last
};

// Dataflows whose levels unroll the same dims, with fan-outs and tiles that round to the same
// powers of two. The predictor's errors are shared within a family.
std::vector<int64_t> dataflow_family(const Dataflow& dataflow);

// What a round simulates: `count` of `ranked` (best predicted first) not yet simulated, at most
// `family_cap` per family unless too few families remain. With `explore_spatial_dims`, first the
// best-ranked candidate on at least half the PEs for each main L2 spatial dim (the one with the
// largest fan-out).
std::vector<const Candidate*> choose_candidates_to_verify(
    const std::vector<Candidate>& ranked, const std::set<std::vector<int64_t>>& simulated_keys,
    const ArchSpec& arch, int count, int family_cap, bool explore_spatial_dims);

// One mapping per layer, in order. `on_simulation` is called after each simulator call (for
// progress). Same inputs and seed give the same mappings.
std::vector<LayerMapping> map_layers(Predictor& predictor, const std::vector<Layer>& layers,
                                     const ArchSpec& arch, const Objective& objective,
                                     const MapOptions& options,
                                     const std::function<void()>& on_simulation);

// One simulated dataflow on a layer's latency-energy front.
struct FrontPoint {
  Dataflow dataflow;
  Result result;
  // The weighting (index into the latency weights) whose mapping simulated it first, or -1 for a
  // fixed dataflow, which every weighting's mapping simulates.
  int found_by = -1;
  CostPoint cost() const { return {static_cast<double>(result.cycles), result.total_energy_pj}; }
};

struct LayerFront {
  // Every weighting's simulated dataflows pooled and scored by EDP, so that the per-layer report
  // and `dcp report` read it as any mapping: its best is the front's least-EDP point.
  LayerMapping pooled;
  std::vector<FrontPoint> points;  // non-dominated in (cycles, energy), by cycles ascending
  // Per latency weight, the point its objective ranks first (ties: fewer cycles).
  std::vector<size_t> best_for_weighting;
  int64_t distinct_simulated = 0;  // dataflows the front was chosen from
};

// A latency-energy front per layer: map_layers once per weighting w*latency+(1-w)*energy, with
// the seed mixed with the weighting's index; the front is the non-dominated set of every dataflow
// those mappings simulated (fixed dataflows included), so it costs no simulator call beyond them.
// Same inputs and seed give the same fronts.
std::vector<LayerFront> map_layers_pareto(Predictor& predictor, const std::vector<Layer>& layers,
                                          const ArchSpec& arch,
                                          const std::vector<double>& latency_weights,
                                          const MapOptions& options,
                                          const std::function<void()>& on_simulation);

// Per-network DCP: one shape for every layer (see per_network.hpp). Rounds as in map_layers, on
// shapes (propagate_shapes): the best predicted shapes are simulated on every layer, and the
// predictor copy is fine-tuned on those runs between rounds; the best simulated ones start the
// next round. `options.verify_top_k` counts shapes, so the
// simulator calls are that times the layers.
struct NetworkShapeMapping {
  // Each fixed dataflow generated for every layer, as `dcp simulate --network --dataflow NAME`
  // runs it; in fixed_dataflow_names() order. Their runs come from the problem's baselines.
  std::vector<ShapeRun> fixed;
  size_t best_fixed = 0;
  std::vector<ShapeRun> verified;  // in the order they were simulated
  ShapeRun best;  // the best verified or assembled network, or the best fixed one if none beat it
  bool best_is_fixed = true;
  int64_t simulator_calls = 0;  // verified shapes x layers (the fixed runs are the baselines')
};
// `per_layer` (per-layer DCP's mappings of the same layers, or none) lends its winners as starts
// (each its loop orders and spatial dims, every layer its own winner's sizes) and its simulated
// dataflows to assembly: after each round, for every structure seen (shared_structure), each
// layer takes its best simulated dataflow that fits, and the best assembled network may become
// `best` without a simulator call.
NetworkShapeMapping map_network_shape(Predictor& predictor, const NetworkProblem& problem,
                                      const ArchSpec& arch, const Objective& objective,
                                      const MapOptions& options,
                                      const std::vector<LayerMapping>& per_layer,
                                      const std::function<void()>& on_simulation);

}  // namespace dcp
