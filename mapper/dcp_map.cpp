#include "mapper/dcp_map.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "mapper/sampler.hpp"
#include "mapper/training.hpp"

namespace dcp {
namespace {

// The predictor prices one instance of a layer (repeats are independent and cost scales with
// them), so feedback rows and references are one instance's share.
TraceRecord instance_record(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                            const Result& result) {
  TraceRecord record;
  record.layer_key = layer.name;
  record.layer = layer;
  record.arch = arch;
  record.dataflow = dataflow;
  record.result = result;
  record.result.cycles = std::max<int64_t>(1, result.cycles / layer.repeat);
  record.result.total_energy_pj = result.total_energy_pj / static_cast<double>(layer.repeat);
  return record;
}

// Up to `count` simulated candidates, best first.
std::vector<const VerifiedCandidate*> best_verified(const LayerMapping& mapping, size_t count) {
  std::vector<const VerifiedCandidate*> verified;
  for (const VerifiedCandidate& candidate : mapping.verified) verified.push_back(&candidate);
  const size_t kept = std::min(count, verified.size());
  std::partial_sort(verified.begin(), verified.begin() + static_cast<std::ptrdiff_t>(kept),
                    verified.end(), [](const VerifiedCandidate* a, const VerifiedCandidate* b) {
                      return a->objective < b->objective;
                    });
  verified.resize(kept);
  return verified;
}

// What the shipped predictor (not the fine-tuned copy) says of the winner, all repeats.
void predict_best(Predictor& predictor, const ArchSpec& arch, LayerMapping& mapping) {
  const auto prediction = predict_dataflows(predictor, mapping.layer, arch, {mapping.best});
  const double repeat = static_cast<double>(mapping.layer.repeat);
  mapping.predicted_cycles = prediction.front()[0] * repeat;
  mapping.predicted_energy_pj = prediction.front()[1] * repeat;
}

constexpr size_t kBestVerifiedStarts = 4;

// The dataflows the next round starts from: the fixed ones and the best simulated so far.
std::vector<Dataflow> round_starts(const LayerMapping& mapping) {
  std::vector<Dataflow> starts;
  for (const FixedRun& run : mapping.fixed.runs) starts.push_back(run.dataflow);
  for (const VerifiedCandidate* best : best_verified(mapping, kBestVerifiedStarts))
    starts.push_back(best->candidate.dataflow);
  return starts;
}

// Short walks (one to three steps, each a one-gene neighbour or a jump) from the best simulated
// dataflows (before any is simulated, from the fixed ones), priced by the predictor, join the
// propagation's candidates. Straight-through descent moves along the code's gradient; it rarely
// takes a discrete step such as another spatial dim, which the predictor can still rank once it
// is proposed.
void add_walk_candidates(Predictor& predictor, const PropagationProblem& problem,
                         const LayerMapping& mapping, const Objective& objective,
                         const MapOptions& options, uint64_t seed,
                         std::vector<Candidate>& candidates) {
  if (options.neighbours_per_round <= 0) return;
  std::vector<Dataflow> starts;
  for (const VerifiedCandidate* best : best_verified(mapping, kBestVerifiedStarts))
    starts.push_back(best->candidate.dataflow);
  if (starts.empty())
    for (const FixedRun& run : mapping.fixed.runs) starts.push_back(run.dataflow);
  std::set<std::vector<int64_t>> seen;
  for (const Candidate& candidate : candidates) seen.insert(dataflow_key(candidate.dataflow));
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution jump(options.jump_share);
  std::vector<Dataflow> walks;
  for (int walk = 0; walk < options.neighbours_per_round; ++walk) {
    Dataflow dataflow = starts[static_cast<size_t>(walk) % starts.size()];
    const int steps = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int step = 0; step < steps; ++step)
      dataflow = jump(rng) ? jump_dataflow(problem.layer, problem.arch, dataflow, rng)
                           : neighbour_dataflow(problem.layer, problem.arch, dataflow, rng);
    if (seen.insert(dataflow_key(dataflow)).second) walks.push_back(std::move(dataflow));
  }
  if (walks.empty()) return;
  const auto predictions = predict_dataflows(predictor, problem.layer, problem.arch, walks);
  for (size_t i = 0; i < walks.size(); ++i) {
    walks[i].name = "dcp";
    const double cycles = predictions[i][0], energy_pj = predictions[i][1];
    candidates.push_back({walks[i], cycles, energy_pj,
                          objective_value(objective, cycles, energy_pj, problem.reference_cycles,
                                          problem.reference_energy_pj),
                          0});
  }
  sort_by_prediction(candidates);
}

}  // namespace

std::vector<int64_t> dataflow_family(const Dataflow& dataflow) {
  const auto log2_rounded = [](int64_t value) {
    return std::lround(std::log2(static_cast<double>(value)));
  };
  std::vector<int64_t> family;
  // A fan-out of 1 rounds to 0 and any other to at least 1, so the spatial dims match too.
  for (const LevelMapping& level : dataflow.levels) {
    for (const int64_t fanout : level.fanout) family.push_back(log2_rounded(fanout));
    for (const int64_t tile : level.tile) family.push_back(log2_rounded(tile));
  }
  return family;
}

std::vector<const Candidate*> choose_candidates_to_verify(
    const std::vector<Candidate>& ranked, const std::set<std::vector<int64_t>>& simulated_keys,
    const ArchSpec& arch, int count, int family_cap, bool explore_spatial_dims) {
  std::vector<const Candidate*> chosen, over_cap;
  std::set<std::vector<int64_t>> chosen_keys;
  const auto fresh = [&](const Candidate& candidate) {
    const auto key = dataflow_key(candidate.dataflow);
    return !simulated_keys.count(key) && chosen_keys.insert(key).second;
  };
  if (explore_spatial_dims) {
    std::set<Dim> explored;
    for (const Candidate& candidate : ranked) {
      if (static_cast<int>(chosen.size()) >= count) return chosen;
      const Dim dim = candidate.dataflow.levels[0].main_spatial_dim();
      if (explored.count(dim) || 2 * pes_used(candidate.dataflow) < arch.num_pes ||
          !fresh(candidate))
        continue;
      explored.insert(dim);
      chosen.push_back(&candidate);
    }
  }
  std::map<std::vector<int64_t>, int> per_family;
  for (const Candidate& candidate : ranked) {
    if (static_cast<int>(chosen.size()) >= count) return chosen;
    if (!fresh(candidate)) continue;
    int& taken = per_family[dataflow_family(candidate.dataflow)];
    if (taken >= family_cap) {
      over_cap.push_back(&candidate);
      continue;
    }
    ++taken;
    chosen.push_back(&candidate);
  }
  for (const Candidate* candidate : over_cap) {
    if (static_cast<int>(chosen.size()) >= count) break;
    chosen.push_back(candidate);
  }
  return chosen;
}

std::vector<LayerMapping> map_layers(Predictor& predictor, const std::vector<Layer>& layers,
                                     const ArchSpec& arch, const Objective& objective,
                                     const MapOptions& options,
                                     const std::function<void()>& on_simulation) {
  const auto simulated = [&] {
    if (on_simulation) on_simulation();
  };
  Predictor adapted = predictor.clone();
  std::vector<LayerMapping> mappings(layers.size());
  std::vector<PropagationProblem> problems;
  std::vector<std::set<std::vector<int64_t>>> simulated_keys(layers.size());
  std::vector<TraceRecord> feedback;
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerMapping& mapping = mappings[i];
    mapping.layer = layers[i];
    mapping.fixed = fixed_baseline(layers[i], arch, objective);
    const FixedRun& best_fixed = mapping.fixed.best_run();
    mapping.best = best_fixed.dataflow;
    mapping.best_result = best_fixed.result;
    mapping.best_objective = best_fixed.objective;
    mapping.best_is_fixed = true;
    for (const FixedRun& run : mapping.fixed.runs) {
      simulated();
      simulated_keys[i].insert(dataflow_key(run.dataflow));
      feedback.push_back(instance_record(layers[i], arch, run.dataflow, run.result));
    }
    const double repeat = static_cast<double>(layers[i].repeat);
    problems.push_back({layers[i],
                        arch,
                        mapping.fixed.reference_cycles / repeat,
                        mapping.fixed.reference_energy_pj / repeat,
                        {}});
  }

  const int rounds = std::max(1, options.rounds);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < layers.size(); ++i) problems[i].starts = round_starts(mappings[i]);
    PropagationOptions propagation = options.propagation;
    propagation.seed += static_cast<uint64_t>(round);
    std::vector<PropagationOutcome> outcomes = propagate(adapted, problems, objective, propagation);
    for (size_t i = 0; i < layers.size(); ++i)
      add_walk_candidates(adapted, problems[i], mappings[i], objective, options,
                          mix_seed(propagation.seed, static_cast<uint64_t>(i)),
                          outcomes[i].candidates);
    // This round's share of the verification budget; earlier rounds take the remainder.
    const int to_verify =
        options.verify_top_k / rounds + (round < options.verify_top_k % rounds ? 1 : 0);

    for (size_t i = 0; i < layers.size(); ++i) {
      LayerMapping& mapping = mappings[i];
      const int first_step = mapping.curve.empty() ? 0 : mapping.curve.back().step + 1;
      for (PropagationStep step : outcomes[i].curve) {
        step.step += first_step;
        mapping.curve.push_back(step);
      }
      for (const Candidate* candidate : choose_candidates_to_verify(
               outcomes[i].candidates, simulated_keys[i], arch, to_verify, options.family_cap,
               options.explore_spatial_dims && round == 0)) {
        simulated_keys[i].insert(dataflow_key(candidate->dataflow));
        VerifiedCandidate verified{
            *candidate, evaluate(mapping.layer, arch, candidate->dataflow, {}, "decoded dataflow")};
        simulated();
        verified.objective =
            objective_value(objective, static_cast<double>(verified.simulated.cycles),
                            verified.simulated.total_energy_pj, mapping.fixed.reference_cycles,
                            mapping.fixed.reference_energy_pj);
        feedback.push_back(
            instance_record(mapping.layer, arch, candidate->dataflow, verified.simulated));
        if (verified.objective < mapping.best_objective) {
          mapping.best = candidate->dataflow;
          mapping.best_result = verified.simulated;
          mapping.best_objective = verified.objective;
          mapping.best_is_fixed = false;
        }
        mapping.verified.push_back(std::move(verified));
      }
    }
    if (round + 1 < rounds)
      fine_tune(adapted, feedback, options.fine_tune_steps, options.fine_tune_learning_rate);
  }

  for (LayerMapping& mapping : mappings) {
    predict_best(predictor, arch, mapping);
    mapping.simulator_calls =
        static_cast<int64_t>(mapping.fixed.runs.size() + mapping.verified.size());
  }
  return mappings;
}

namespace {

// The least-EDP pick of everything the weightings' mappings simulated on one layer, as a mapping:
// the fixed runs and every distinct verified candidate, scored by EDP against the same
// references, and the simulator calls of all the mappings. The curve stays empty: each
// weighting descended its own.
LayerMapping pooled_by_edp(const std::vector<const LayerMapping*>& by_weighting) {
  const Objective edp = parse_objective("edp", "edp");
  LayerMapping pooled;
  pooled.layer = by_weighting.front()->layer;
  pooled.fixed = by_weighting.front()->fixed;
  score_fixed_baseline(pooled.fixed, edp);
  const FixedRun& best_fixed = pooled.fixed.best_run();
  pooled.best = best_fixed.dataflow;
  pooled.best_result = best_fixed.result;
  pooled.best_objective = best_fixed.objective;
  pooled.best_is_fixed = true;
  std::set<std::vector<int64_t>> seen;
  for (const FixedRun& run : pooled.fixed.runs) seen.insert(dataflow_key(run.dataflow));
  for (const LayerMapping* mapping : by_weighting) {
    pooled.simulator_calls += mapping->simulator_calls;
    for (const VerifiedCandidate& candidate : mapping->verified) {
      if (!seen.insert(dataflow_key(candidate.candidate.dataflow)).second) continue;
      VerifiedCandidate scored = candidate;
      scored.objective = objective_value(
          edp, static_cast<double>(scored.simulated.cycles), scored.simulated.total_energy_pj,
          pooled.fixed.reference_cycles, pooled.fixed.reference_energy_pj);
      if (scored.objective < pooled.best_objective) {
        pooled.best = scored.candidate.dataflow;
        pooled.best_result = scored.simulated;
        pooled.best_objective = scored.objective;
        pooled.best_is_fixed = false;
      }
      pooled.verified.push_back(std::move(scored));
    }
  }
  return pooled;
}

// The non-dominated simulated dataflows of a pooled mapping; `found_by` from the weightings'
// mappings, in weighting order.
std::vector<FrontPoint> front_points(const LayerMapping& pooled,
                                     const std::vector<const LayerMapping*>& by_weighting) {
  std::map<std::vector<int64_t>, int> first_weighting;
  for (size_t weighting = 0; weighting < by_weighting.size(); ++weighting)
    for (const VerifiedCandidate& candidate : by_weighting[weighting]->verified)
      first_weighting.emplace(dataflow_key(candidate.candidate.dataflow),
                              static_cast<int>(weighting));
  std::vector<FrontPoint> simulated;
  for (const FixedRun& run : pooled.fixed.runs) simulated.push_back({run.dataflow, run.result, -1});
  for (const VerifiedCandidate& candidate : pooled.verified)
    simulated.push_back({candidate.candidate.dataflow, candidate.simulated,
                         first_weighting.at(dataflow_key(candidate.candidate.dataflow))});
  std::vector<CostPoint> costs;
  for (const FrontPoint& point : simulated) costs.push_back(point.cost());
  std::vector<FrontPoint> front;
  for (const size_t index : non_dominated(costs)) front.push_back(simulated[index]);
  return front;
}

std::vector<const ShapeRun*> best_shapes(const NetworkShapeMapping& mapping, size_t count) {
  std::vector<const ShapeRun*> runs;
  for (const ShapeRun& run : mapping.verified) runs.push_back(&run);
  const size_t kept = std::min(count, runs.size());
  std::partial_sort(
      runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(kept), runs.end(),
      [](const ShapeRun* a, const ShapeRun* b) { return a->objective < b->objective; });
  runs.resize(kept);
  return runs;
}

std::vector<int64_t> layers_key(const std::vector<Dataflow>& layer_dataflows) {
  std::vector<int64_t> key;
  for (const Dataflow& dataflow : layer_dataflows) {
    const std::vector<int64_t> layer_key = dataflow_key(dataflow);
    key.insert(key.end(), layer_key.begin(), layer_key.end());
  }
  return key;
}

// As choose_candidates_to_verify, on shapes: the best predicted not yet simulated, at most
// `family_cap` per family of the representative layer's dataflow while other families remain.
std::vector<const ShapeCandidate*> choose_shapes_to_verify(
    const std::vector<ShapeCandidate>& ranked, const std::set<std::vector<int64_t>>& simulated,
    size_t representative, int count, int family_cap) {
  std::vector<const ShapeCandidate*> chosen, over_cap;
  std::map<std::vector<int64_t>, int> per_family;
  for (const ShapeCandidate& candidate : ranked) {
    if (static_cast<int>(chosen.size()) >= count) return chosen;
    if (simulated.count(layers_key(candidate.layer_dataflows))) continue;
    int& taken = per_family[dataflow_family(candidate.layer_dataflows[representative])];
    (++taken > family_cap ? over_cap : chosen).push_back(&candidate);
  }
  for (const ShapeCandidate* candidate : over_cap) {
    if (static_cast<int>(chosen.size()) >= count) break;
    chosen.push_back(candidate);
  }
  return chosen;
}

}  // namespace

std::vector<LayerFront> map_layers_pareto(Predictor& predictor, const std::vector<Layer>& layers,
                                          const ArchSpec& arch,
                                          const std::vector<double>& latency_weights,
                                          const MapOptions& options,
                                          const std::function<void()>& on_simulation) {
  std::vector<std::vector<LayerMapping>> mappings;  // [weighting][layer]
  std::vector<Objective> objectives;
  for (size_t weighting = 0; weighting < latency_weights.size(); ++weighting) {
    objectives.push_back(latency_energy_objective(latency_weights[weighting]));
    // Each weighting starts from its own random codes, which spreads the candidates it simulates.
    MapOptions weighting_options = options;
    weighting_options.propagation.seed = mix_seed(options.propagation.seed, weighting);
    mappings.push_back(
        map_layers(predictor, layers, arch, objectives.back(), weighting_options, on_simulation));
  }
  std::vector<LayerFront> fronts(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<const LayerMapping*> by_weighting;
    for (const std::vector<LayerMapping>& weighting_mappings : mappings)
      by_weighting.push_back(&weighting_mappings[i]);
    LayerFront& front = fronts[i];
    front.pooled = pooled_by_edp(by_weighting);
    front.distinct_simulated =
        static_cast<int64_t>(front.pooled.fixed.runs.size() + front.pooled.verified.size());
    front.points = front_points(front.pooled, by_weighting);
    const FixedBaseline& fixed = front.pooled.fixed;
    for (const Objective& objective : objectives) {
      size_t best = 0;
      double best_value = 0;
      for (size_t point = 0; point < front.points.size(); ++point) {
        const CostPoint cost = front.points[point].cost();
        const double value = objective_value(objective, cost.cycles, cost.energy_pj,
                                             fixed.reference_cycles, fixed.reference_energy_pj);
        if (point == 0 || value < best_value) {
          best = point;
          best_value = value;
        }
      }
      front.best_for_weighting.push_back(best);
    }
    predict_best(predictor, arch, front.pooled);
  }
  return fronts;
}

NetworkShapeMapping map_network_shape(Predictor& predictor, const NetworkProblem& problem,
                                      const ArchSpec& arch, const Objective& objective,
                                      const MapOptions& options,
                                      const std::vector<LayerMapping>& per_layer,
                                      const std::function<void()>& on_simulation) {
  NetworkShapeMapping mapping;
  const size_t representative = representative_layer(problem);
  std::vector<TraceRecord> feedback;
  std::vector<ShapeStart> fixed_starts;
  mapping.fixed = fixed_dataflows_over_network(problem, objective);
  mapping.best_fixed = best_run(mapping.fixed);
  for (const ShapeRun& fixed : mapping.fixed) {
    fixed_starts.push_back(shape_start(problem, arch, fixed.fitted, representative));
    for (size_t l = 0; l < problem.layers.size(); ++l)
      feedback.push_back(
          instance_record(problem.layers[l], arch, fixed.fitted[l], fixed.results[l]));
  }
  mapping.best = mapping.fixed[mapping.best_fixed];
  // Each layer's winner lends the shape its loop orders and spatial dims; every layer starts
  // from its own winner's code (its tiles and fan-out sizes).
  std::vector<CodeVector> winner_codes;
  for (size_t l = 0; l < per_layer.size(); ++l)
    winner_codes.push_back(
        code_to_vector(encode_dataflow(problem.layers[l], arch, per_layer[l].best)));
  for (size_t l = 0; l < winner_codes.size(); ++l)
    fixed_starts.push_back({winner_codes[l], winner_codes, l});

  // Everything simulated on each layer, and the structures it shows, for assembly.
  std::vector<std::vector<SimulatedDataflow>> pools(problem.layers.size());
  std::set<Structure> structures;
  const auto pool = [&](size_t l, const Dataflow& dataflow, const Result& result) {
    pools[l].push_back({dataflow, result});
    structures.insert(*shared_structure({dataflow}));
  };
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    for (const FixedRun& run : problem.fixed[l].runs) pool(l, run.dataflow, run.result);
    if (l < per_layer.size())
      for (const VerifiedCandidate& verified : per_layer[l].verified)
        pool(l, verified.candidate.dataflow, verified.simulated);
  }
  for (const ShapeRun& fixed : mapping.fixed)
    if (const auto structure = shared_structure(fixed.fitted)) structures.insert(*structure);

  Predictor adapted = predictor.clone();
  std::set<std::vector<int64_t>> simulated;
  const int rounds = std::max(1, options.rounds);
  for (int round = 0; round < rounds; ++round) {
    std::vector<ShapeStart> starts = fixed_starts;
    for (const ShapeRun* run : best_shapes(mapping, kBestVerifiedStarts))
      starts.push_back(shape_start(problem, arch, run->fitted, representative));
    PropagationOptions propagation = options.propagation;
    propagation.seed += static_cast<uint64_t>(round);
    const std::vector<ShapeCandidate> candidates =
        propagate_shapes(adapted, problem, arch, starts, objective, propagation);
    const int to_verify =
        options.verify_top_k / rounds + (round < options.verify_top_k % rounds ? 1 : 0);
    for (const ShapeCandidate* candidate : choose_shapes_to_verify(
             candidates, simulated, representative, to_verify, options.family_cap)) {
      simulated.insert(layers_key(candidate->layer_dataflows));
      ShapeRun run =
          simulate_layers(problem, arch, objective, candidate->layer_dataflows[representative],
                          candidate->layer_dataflows);
      for (size_t l = 0; l < problem.layers.size(); ++l) {
        if (on_simulation) on_simulation();
        feedback.push_back(instance_record(problem.layers[l], arch, run.fitted[l], run.results[l]));
        pool(l, run.fitted[l], run.results[l]);
      }
      if (const auto structure = shared_structure(run.fitted)) structures.insert(*structure);
      if (run.objective < mapping.best.objective) {
        mapping.best = run;
        mapping.best_is_fixed = false;
      }
      mapping.verified.push_back(std::move(run));
    }
    // Layers that share a structure may take any of its simulated dataflows: assembling them
    // costs no simulation, and the assembly starts the next round.
    const std::optional<ShapeRun> assembled =
        assemble_best_structure(problem, objective, pools, {structures.begin(), structures.end()});
    if (assembled && assembled->objective < mapping.best.objective) {
      mapping.best = *assembled;
      mapping.best_is_fixed = false;
      fixed_starts.push_back(shape_start(problem, arch, assembled->fitted, representative));
    }
    if (round + 1 < rounds)
      fine_tune(adapted, feedback, options.fine_tune_steps, options.fine_tune_learning_rate);
  }
  mapping.simulator_calls = static_cast<int64_t>(mapping.verified.size() * problem.layers.size());
  return mapping;
}

}  // namespace dcp
