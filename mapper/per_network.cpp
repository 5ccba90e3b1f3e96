#include "mapper/per_network.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "dataflow/repair.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {

DistinctLayers distinct_layers(const std::vector<Layer>& layers) {
  DistinctLayers distinct;
  std::map<std::string, std::size_t> first_of_nest;
  for (const Layer& layer : layers) {
    const auto [entry, is_new] =
        first_of_nest.emplace(loop_nest_key(layer), distinct.layers.size());
    if (is_new)
      distinct.layers.push_back(layer);
    else
      distinct.layers[entry->second].count += layer.count;
    distinct.of_layer.push_back(entry->second);
  }
  return distinct;
}

NetworkProblem make_network_problem(const std::vector<Layer>& distinct_layers, const ArchSpec& arch,
                                    const Objective& objective) {
  NetworkProblem problem;
  problem.layers = distinct_layers;
  for (const Layer& layer : distinct_layers)
    problem.fixed.push_back(fixed_baseline(layer, arch, objective));
  // The largest layer by MACs lends its type and stride; groups would tie K to C, so none.
  const auto largest =
      std::max_element(distinct_layers.begin(), distinct_layers.end(),
                       [](const Layer& a, const Layer& b) { return a.macs() < b.macs(); });
  problem.envelope = *largest;
  problem.envelope.name = "network envelope";
  problem.envelope.groups = 1;
  problem.envelope.count = 1;
  problem.envelope.repeat = 1;
  for (const Layer& layer : distinct_layers) {
    Layer& envelope = problem.envelope;
    envelope.K = std::max(envelope.K, layer.K);
    envelope.C = std::max(envelope.C, layer.C);
    envelope.Y = std::max(envelope.Y, layer.Y);
    envelope.X = std::max(envelope.X, layer.X);
    envelope.R = std::max(envelope.R, layer.R);
    envelope.S = std::max(envelope.S, layer.S);
    envelope.N = std::max(envelope.N, layer.N);
    envelope.in_h = std::max(envelope.in_h, layer.in_h);
    envelope.in_w = std::max(envelope.in_w, layer.in_w);
  }
  return problem;
}

double network_objective(const NetworkProblem& problem, const Objective& objective,
                         const std::vector<double>& cycles, const std::vector<double>& energy_pj) {
  double sum = 0;
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    const FixedBaseline& fixed = problem.fixed[l];
    sum += static_cast<double>(problem.layers[l].count) *
           objective_value(objective, cycles[l], energy_pj[l], fixed.reference_cycles,
                           fixed.reference_energy_pj);
  }
  return sum;
}

ShapeRun simulate_shape(const NetworkProblem& problem, const ArchSpec& arch,
                        const Objective& objective, const Dataflow& shape) {
  ShapeRun run;
  run.shape = shape;
  std::vector<double> cycles, energy_pj;
  for (const Layer& layer : problem.layers) {
    run.fitted.push_back(fit_template(shape, layer, arch));
    run.results.push_back(evaluate(layer, arch, run.fitted.back()));
    cycles.push_back(static_cast<double>(run.results.back().cycles));
    energy_pj.push_back(run.results.back().total_energy_pj);
    run.cost.add(layer.count, run.results.back());
  }
  run.objective = network_objective(problem, objective, cycles, energy_pj);
  return run;
}

}  // namespace dcp
