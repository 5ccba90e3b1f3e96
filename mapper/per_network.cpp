#include "mapper/per_network.hpp"

#include <algorithm>

#include "dataflow/repair.hpp"

namespace dcp {

Layer network_envelope(const std::vector<Layer>& layers) {
  // Groups would tie K to C, so the envelope has none.
  const auto largest =
      std::max_element(layers.begin(), layers.end(),
                       [](const Layer& a, const Layer& b) { return a.macs() < b.macs(); });
  Layer envelope = *largest;
  envelope.name = "network envelope";
  envelope.groups = 1;
  envelope.count = 1;
  envelope.repeat = 1;
  for (const Layer& layer : layers) {
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
  return envelope;
}

NetworkProblem make_network_problem(const std::vector<Layer>& distinct_layers, const ArchSpec& arch,
                                    const Objective& objective) {
  NetworkProblem problem;
  problem.layers = distinct_layers;
  for (const Layer& layer : distinct_layers)
    problem.fixed.push_back(fixed_baseline(layer, arch, objective));
  problem.envelope = network_envelope(distinct_layers);
  return problem;
}

size_t representative_layer(const NetworkProblem& problem) {
  size_t heaviest = 0;
  const auto weight = [&](size_t l) {
    return static_cast<double>(problem.layers[l].macs()) *
           static_cast<double>(problem.layers[l].count);
  };
  for (size_t l = 1; l < problem.layers.size(); ++l)
    if (weight(l) > weight(heaviest)) heaviest = l;
  return heaviest;
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

ShapeRun simulate_layers(const NetworkProblem& problem, const ArchSpec& arch,
                         const Objective& objective, const Dataflow& shape,
                         const std::vector<Dataflow>& layer_dataflows) {
  ShapeRun run;
  run.shape = shape;
  run.fitted = layer_dataflows;
  std::vector<double> cycles, energy_pj;
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    run.results.push_back(evaluate(problem.layers[l], arch, layer_dataflows[l]));
    cycles.push_back(static_cast<double>(run.results.back().cycles));
    energy_pj.push_back(run.results.back().total_energy_pj);
    run.cost.add(problem.layers[l].count, run.results.back());
  }
  run.objective = network_objective(problem, objective, cycles, energy_pj);
  return run;
}

ShapeRun simulate_shape(const NetworkProblem& problem, const ArchSpec& arch,
                        const Objective& objective, const Dataflow& shape) {
  std::vector<Dataflow> fitted;
  for (const Layer& layer : problem.layers) fitted.push_back(fit_structure(shape, layer, arch));
  return simulate_layers(problem, arch, objective, shape, fitted);
}

}  // namespace dcp
