#include "mapper/per_network.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <tuple>

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
  double occurrences = 0;
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    const FixedBaseline& fixed = problem.fixed[l];
    const auto count = static_cast<double>(problem.layers[l].count);
    sum += count * objective_value(objective, cycles[l], energy_pj[l], fixed.reference_cycles,
                                   fixed.reference_energy_pj);
    occurrences += count;
  }
  return sum / occurrences;
}

ShapeRun scored_run(const NetworkProblem& problem, const Objective& objective,
                    const Dataflow& shape, const std::vector<Dataflow>& layer_dataflows,
                    const std::vector<Result>& results) {
  ShapeRun run{shape, layer_dataflows, results, 0, {}};
  std::vector<double> cycles, energy_pj;
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    cycles.push_back(static_cast<double>(results[l].cycles));
    energy_pj.push_back(results[l].total_energy_pj);
    run.cost.add(problem.layers[l].count, results[l]);
  }
  run.objective = network_objective(problem, objective, cycles, energy_pj);
  return run;
}

ShapeRun simulate_layers(const NetworkProblem& problem, const ArchSpec& arch,
                         const Objective& objective, const Dataflow& shape,
                         const std::vector<Dataflow>& layer_dataflows) {
  std::vector<Result> results;
  for (size_t l = 0; l < problem.layers.size(); ++l)
    results.push_back(evaluate(problem.layers[l], arch, layer_dataflows[l]));
  return scored_run(problem, objective, shape, layer_dataflows, results);
}

ShapeRun simulate_shape(const NetworkProblem& problem, const ArchSpec& arch,
                        const Objective& objective, const Dataflow& shape) {
  std::vector<Dataflow> fitted;
  for (const Layer& layer : problem.layers) fitted.push_back(fit_structure(shape, layer, arch));
  return simulate_layers(problem, arch, objective, shape, fitted);
}

namespace {

// Each layer's run picked by `pick` from its fixed baseline, as one run over the network.
ShapeRun fixed_runs_over_network(const NetworkProblem& problem, const Objective& objective,
                                 const std::function<const FixedRun&(const FixedBaseline&)>& pick,
                                 Dataflow shape) {
  std::vector<Dataflow> dataflows;
  std::vector<Result> results;
  for (const FixedBaseline& baseline : problem.fixed) {
    dataflows.push_back(pick(baseline).dataflow);
    results.push_back(pick(baseline).result);
  }
  return scored_run(problem, objective, shape, dataflows, results);
}

}  // namespace

std::vector<ShapeRun> fixed_dataflows_over_network(const NetworkProblem& problem,
                                                   const Objective& objective) {
  std::vector<ShapeRun> runs;
  for (size_t f = 0; f < problem.fixed.front().runs.size(); ++f)
    runs.push_back(fixed_runs_over_network(
        problem, objective,
        [f](const FixedBaseline& baseline) -> const FixedRun& { return baseline.runs[f]; },
        problem.fixed.front().runs[f].dataflow));
  return runs;
}

size_t best_run(const std::vector<ShapeRun>& runs) {
  size_t best = 0;
  for (size_t r = 1; r < runs.size(); ++r)
    if (runs[r].objective < runs[best].objective) best = r;
  return best;
}

ShapeRun best_fixed_per_layer(const NetworkProblem& problem, const Objective& objective) {
  Dataflow label;
  label.name = "per-layer best fixed";
  return fixed_runs_over_network(
      problem, objective,
      [](const FixedBaseline& baseline) -> const FixedRun& { return baseline.best_run(); }, label);
}

bool Structure::operator<(const Structure& other) const {
  return std::tie(orders, spatial_dims) < std::tie(other.orders, other.spatial_dims);
}

namespace {
// Levels from this one in keep one loop order for every layer.
constexpr int kFirstChipOrderLevel = 1;
}  // namespace

std::optional<Structure> shared_structure(const std::vector<Dataflow>& layer_dataflows) {
  Structure structure;
  for (int level = 0; level < kNumLevels; ++level) {
    if (level >= kFirstChipOrderLevel)
      structure.orders[level] = layer_dataflows.front().levels[level].order;
    for (const Dataflow& dataflow : layer_dataflows) {
      if (level >= kFirstChipOrderLevel && dataflow.levels[level].order != structure.orders[level])
        return std::nullopt;
      for (Dim dim : dataflow.levels[level].spatial_dims())
        structure.spatial_dims[level] |= 1u << dim_index(dim);
    }
  }
  return structure;
}

bool Structure::holds(const Structure& layer) const {
  for (int level = 0; level < kNumLevels; ++level) {
    if (level >= kFirstChipOrderLevel && layer.orders[level] != orders[level]) return false;
    if (layer.spatial_dims[level] & ~spatial_dims[level]) return false;
  }
  return true;
}

bool fits_structure(const Dataflow& dataflow, const Structure& structure) {
  return structure.holds(*shared_structure({dataflow}));
}

std::optional<ShapeRun> assemble_best_structure(
    const NetworkProblem& problem, const Objective& objective,
    const std::vector<std::vector<SimulatedDataflow>>& pools,
    const std::vector<Structure>& structures) {
  // Each pooled dataflow's own structure and objective, once: every structure scans them all.
  struct Scored {
    Structure own;
    double objective;
  };
  std::vector<std::vector<Scored>> scored(pools.size());
  for (size_t l = 0; l < pools.size(); ++l) {
    const FixedBaseline& fixed = problem.fixed[l];
    for (const SimulatedDataflow& entry : pools[l])
      scored[l].push_back({*shared_structure({entry.dataflow}),
                           objective_value(objective, static_cast<double>(entry.result.cycles),
                                           entry.result.total_energy_pj, fixed.reference_cycles,
                                           fixed.reference_energy_pj)});
  }
  std::optional<ShapeRun> best;
  for (const Structure& structure : structures) {
    std::vector<Dataflow> dataflows;
    std::vector<Result> results;
    for (size_t l = 0; l < problem.layers.size(); ++l) {
      const SimulatedDataflow* pick = nullptr;
      double pick_objective = 0;
      for (size_t e = 0; e < pools[l].size(); ++e) {
        if (!structure.holds(scored[l][e].own)) continue;
        if (!pick || scored[l][e].objective < pick_objective) {
          pick = &pools[l][e];
          pick_objective = scored[l][e].objective;
        }
      }
      if (!pick) break;
      dataflows.push_back(pick->dataflow);
      results.push_back(pick->result);
    }
    if (dataflows.size() < problem.layers.size()) continue;
    ShapeRun run = scored_run(problem, objective, dataflows[representative_layer(problem)],
                              dataflows, results);
    if (!best || run.objective < best->objective) best = std::move(run);
  }
  return best;
}

void name_shape(ShapeRun& run, const std::string& name) {
  run.shape.name = name;
  for (Dataflow& fitted : run.fitted) fitted.name = name;
}

}  // namespace dcp
