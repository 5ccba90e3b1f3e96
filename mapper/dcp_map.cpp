#include "mapper/dcp_map.hpp"

#include <set>

namespace dcp {

std::vector<LayerMapping> map_layers(Predictor& predictor, const std::vector<Layer>& layers,
                                     const ArchSpec& arch, const Objective& objective,
                                     const MapOptions& options,
                                     const std::function<void()>& on_simulation) {
  const auto simulated = [&] {
    if (on_simulation) on_simulation();
  };
  std::vector<LayerMapping> mappings(layers.size());
  std::vector<PropagationProblem> problems;
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerMapping& mapping = mappings[i];
    mapping.layer = layers[i];
    mapping.fixed = fixed_baseline(layers[i], arch, objective);
    for (size_t run = 0; run < mapping.fixed.runs.size(); ++run) simulated();
    // The predictor prices one instance (repeats are independent and cost scales with them), so
    // it compares against one instance's share of the reference.
    const double repeat = static_cast<double>(layers[i].repeat);
    PropagationProblem problem{layers[i],
                               arch,
                               mapping.fixed.reference_cycles / repeat,
                               mapping.fixed.reference_energy_pj / repeat,
                               {}};
    for (const FixedRun& run : mapping.fixed.runs) problem.starts.push_back(run.dataflow);
    problems.push_back(std::move(problem));
  }

  const std::vector<PropagationOutcome> outcomes =
      propagate(predictor, problems, objective, options.propagation);

  for (size_t i = 0; i < layers.size(); ++i) {
    LayerMapping& mapping = mappings[i];
    const PropagationOutcome& outcome = outcomes[i];
    mapping.curve = outcome.curve;
    const FixedRun& best_fixed = mapping.fixed.best_run();
    mapping.best = best_fixed.dataflow;
    mapping.best_result = best_fixed.result;
    mapping.best_objective = best_fixed.objective;
    mapping.best_is_fixed = true;
    const auto fixed_prediction =
        predict_dataflows(predictor, mapping.layer, arch, {best_fixed.dataflow}).front();
    const double repeat = static_cast<double>(mapping.layer.repeat);
    mapping.predicted_cycles = fixed_prediction[0] * repeat;
    mapping.predicted_energy_pj = fixed_prediction[1] * repeat;

    // A candidate that decodes back to a fixed dataflow is already simulated.
    std::set<std::vector<int64_t>> simulated_keys;
    for (const FixedRun& run : mapping.fixed.runs)
      simulated_keys.insert(dataflow_key(run.dataflow));
    for (const Candidate& candidate : outcome.candidates) {
      if (static_cast<int>(mapping.verified.size()) >= options.verify_top_k) break;
      if (!simulated_keys.insert(dataflow_key(candidate.dataflow)).second) continue;
      VerifiedCandidate verified{
          candidate, evaluate(mapping.layer, arch, candidate.dataflow, {}, "decoded dataflow")};
      simulated();
      verified.objective =
          objective_value(objective, static_cast<double>(verified.simulated.cycles),
                          verified.simulated.total_energy_pj, mapping.fixed.reference_cycles,
                          mapping.fixed.reference_energy_pj);
      if (verified.objective < mapping.best_objective) {
        mapping.best = verified.candidate.dataflow;
        mapping.best_result = verified.simulated;
        mapping.best_objective = verified.objective;
        mapping.best_is_fixed = false;
        mapping.predicted_cycles = verified.candidate.predicted_cycles * repeat;
        mapping.predicted_energy_pj = verified.candidate.predicted_energy_pj * repeat;
      }
      mapping.verified.push_back(std::move(verified));
    }
    mapping.simulator_calls =
        static_cast<int64_t>(mapping.fixed.runs.size() + mapping.verified.size());
  }
  return mappings;
}

}  // namespace dcp
