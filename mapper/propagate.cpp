#include "mapper/propagate.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "mapper/search.hpp"

namespace dcp {
namespace {

std::vector<float> context_rows(const Layer& layer, const ArchSpec& arch, size_t rows) {
  const std::vector<float> context = context_features(layer, arch);
  std::vector<float> flat;
  for (size_t row = 0; row < rows; ++row) flat.insert(flat.end(), context.begin(), context.end());
  return flat;
}

void append_code(const DataflowCode& code, std::vector<float>& flat) {
  const CodeVector vector = code_to_vector(code);
  flat.insert(flat.end(), vector.begin(), vector.end());
}

double objective_of(const Objective& objective, const PropagationProblem& problem, double cycles,
                    double energy_pj) {
  return objective_value(objective, cycles, energy_pj, problem.reference_cycles,
                         problem.reference_energy_pj);
}

// Elements each level holds, in log2: footprints are counted in elements, capacities in bytes.
std::vector<float> log2_capacity_elements(const ArchSpec& arch) {
  const double bytes_per_element =
      static_cast<double>(arch.word_bytes) * (1.0 + double_buffered_share(arch));
  std::vector<float> capacity;
  for (int level = 0; level < kNumLevels; ++level) {
    capacity.push_back(static_cast<float>(
        std::log2(static_cast<double>(level_capacity_bytes(arch, level)) / bytes_per_element)));
  }
  return capacity;
}

}  // namespace

void sort_by_prediction(std::vector<Candidate>& candidates) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     return a.predicted_objective < b.predicted_objective;
                   });
}

ShapeStart shape_start(const NetworkProblem& problem, const ArchSpec& arch,
                       const std::vector<Dataflow>& dataflows, size_t representative) {
  ShapeStart start;
  for (size_t l = 0; l < problem.layers.size(); ++l)
    start.layer_codes.push_back(
        code_to_vector(encode_dataflow(problem.layers[l], arch, dataflows[l])));
  start.shape = start.layer_codes[representative];
  start.spatial_layer = representative;
  return start;
}

std::vector<ShapeCandidate> propagate_shapes(Predictor& predictor, const NetworkProblem& problem,
                                             const ArchSpec& arch,
                                             const std::vector<ShapeStart>& starts,
                                             const Objective& objective,
                                             const PropagationOptions& options) {
  std::mt19937_64 rng(options.seed);
  const size_t layers = problem.layers.size();
  const size_t representative = representative_layer(problem);
  // A share this low decodes to one unit whatever the level's units.
  constexpr float kNotUnrolledShare = -64;
  std::vector<ShapeStart> all_starts = starts;
  for (int draw = 0; draw < options.random_starts; ++draw) {
    // One random code for every layer: its tile genes are fractions, meaningful on any layer.
    const CodeVector code = code_to_vector(random_code(problem.envelope, arch, rng));
    all_starts.push_back({code, std::vector<CodeVector>(layers, code), representative});
  }

  DescentProblem descent_problem;
  descent_problem.start.context_size = static_cast<int64_t>(context_feature_names().size());
  descent_problem.objective = objective;
  descent_problem.learning_rate = options.learning_rate;
  descent_problem.penalty_weight = options.penalty_weight;
  double occurrences = 0;
  for (const Layer& layer : problem.layers) occurrences += static_cast<double>(layer.count);
  const std::vector<float> capacity = log2_capacity_elements(arch);
  // Rows shape-major: row s * layers + l is layer l under shape s.
  for (size_t shape = 0; shape < all_starts.size(); ++shape) {
    const ShapeStart& start = all_starts[shape];
    descent_problem.shape_code.insert(descent_problem.shape_code.end(), start.shape.begin(),
                                      start.shape.end());
    for (size_t l = 0; l < layers; ++l) {
      const Layer& layer = problem.layers[l];
      const std::vector<float> context = context_features(layer, arch);
      descent_problem.start.context.insert(descent_problem.start.context.end(), context.begin(),
                                           context.end());
      descent_problem.start.code.insert(descent_problem.start.code.end(),
                                        start.layer_codes[l].begin(), start.layer_codes[l].end());
      const auto instances = static_cast<double>(layer.repeat);
      descent_problem.log_reference.push_back(
          static_cast<float>(std::log(problem.fixed[l].reference_cycles / instances)));
      descent_problem.log_reference.push_back(
          static_cast<float>(std::log(problem.fixed[l].reference_energy_pj / instances)));
      descent_problem.log2_capacity.insert(descent_problem.log2_capacity.end(), capacity.begin(),
                                           capacity.end());
      descent_problem.code_of_row.push_back(static_cast<int64_t>(shape));
      descent_problem.row_weight.push_back(
          static_cast<float>(static_cast<double>(layer.count) / occurrences));
    }
  }
  const auto rows = static_cast<int64_t>(all_starts.size() * layers);
  descent_problem.group_first_row = {0, rows};
  const std::unique_ptr<CodeDescent> descent = predictor.model().descend(descent_problem);

  std::vector<ShapeCandidate> candidates;
  std::set<std::vector<int64_t>> seen;
  for (int step = 0; step <= options.steps; ++step) {
    const std::vector<float> code_rows = descent->codes();
    std::vector<Dataflow> decoded(static_cast<size_t>(rows));
    std::vector<float> decoded_codes;
    for (size_t shape = 0; shape < all_starts.size(); ++shape) {
      const auto row_code = [&](size_t l) {
        CodeVector vector;
        const auto first =
            code_rows.begin() + static_cast<std::ptrdiff_t>((shape * layers + l) * kCodeSize);
        std::copy(first, first + kCodeSize, vector.begin());
        return vector;
      };
      // The spatial layer's spatial dims are the shape's: every layer unrolls those and only
      // those, each over as many units as its own share asks (at least two where it can).
      const size_t spatial_layer = all_starts[shape].spatial_layer;
      const CodeVector spatial_code = row_code(spatial_layer);
      const Dataflow spatial =
          decode_dataflow(problem.layers[spatial_layer], arch, code_from_vector(spatial_code));
      for (size_t l = 0; l < layers; ++l) {
        CodeVector vector = row_code(l);
        const Layer& layer = problem.layers[l];
        for (int level = 0; level < kNumLevels; ++level)
          for (Dim dim : kAllDims)
            if (spatial.levels[level].fanout[dim_index(dim)] == 1)
              vector[code_index_spatial_share(level, dim)] = kNotUnrolledShare;
        Dataflow dataflow = decode_dataflow(layer, arch, code_from_vector(vector));
        bool lost_dim = false;
        for (int level = 0; level < kNumLevels; ++level)
          for (Dim dim : kAllDims) {
            const int d = dim_index(dim);
            if (spatial.levels[level].fanout[d] > 1 && dataflow.levels[level].fanout[d] == 1 &&
                parent_tile(dataflow, level, layer.dims())[d] > 1) {
              vector[code_index_spatial_share(level, dim)] =
                  spatial_code[code_index_spatial_share(level, dim)];
              lost_dim = true;
            }
          }
        if (lost_dim) dataflow = decode_dataflow(layer, arch, code_from_vector(vector));
        dataflow.name = "dcp";
        decoded[shape * layers + l] = dataflow;
      }
    }
    for (int64_t row = 0; row < rows; ++row)
      append_code(encode_dataflow(problem.layers[static_cast<size_t>(row) % layers], arch,
                                  decoded[static_cast<size_t>(row)]),
                  decoded_codes);
    const DescentPrices prices = descent->price(decoded_codes);
    for (size_t shape = 0; shape < all_starts.size(); ++shape) {
      ShapeCandidate candidate;
      std::vector<int64_t> key;
      std::vector<double> cycles, energy_pj;
      for (size_t l = 0; l < layers; ++l) {
        const size_t row = shape * layers + l;
        candidate.layer_dataflows.push_back(decoded[row]);
        const std::vector<int64_t> layer_key = dataflow_key(decoded[row]);
        key.insert(key.end(), layer_key.begin(), layer_key.end());
        const auto instances = static_cast<double>(problem.layers[l].repeat);
        const auto times = static_cast<double>(problem.layers[l].count);
        cycles.push_back(prices.predicted[row * kNumTargets] * instances);
        energy_pj.push_back(prices.predicted[row * kNumTargets + 1] * instances);
        candidate.predicted_cycles += cycles.back() * times;
        candidate.predicted_energy_pj += energy_pj.back() * times;
      }
      if (!seen.insert(key).second) continue;
      candidate.predicted_objective = network_objective(problem, objective, cycles, energy_pj);
      candidate.found_at_step = step;
      candidates.push_back(std::move(candidate));
    }
    if (step == options.steps) break;
    descent->step();
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const ShapeCandidate& a, const ShapeCandidate& b) {
                     return a.predicted_objective < b.predicted_objective;
                   });
  return candidates;
}

std::vector<std::array<double, kNumTargets>> predict_dataflows(
    Predictor& predictor, const Layer& layer, const ArchSpec& arch,
    const std::vector<Dataflow>& dataflows) {
  if (dataflows.empty()) return {};
  FeatureRows rows;
  for (const Dataflow& dataflow : dataflows) append_feature_row(layer, arch, dataflow, rows);
  return predictor.predict(rows);
}

std::vector<PropagationOutcome> propagate(Predictor& predictor,
                                          const std::vector<PropagationProblem>& problems,
                                          const Objective& objective,
                                          const PropagationOptions& options) {
  std::mt19937_64 rng(options.seed);
  DescentProblem descent_problem;
  descent_problem.start.context_size = static_cast<int64_t>(context_feature_names().size());
  descent_problem.objective = objective;
  descent_problem.learning_rate = options.learning_rate;
  descent_problem.penalty_weight = options.penalty_weight;
  std::vector<float>& codes = descent_problem.start.code;
  std::vector<int64_t>& first_row = descent_problem.group_first_row;
  for (const PropagationProblem& problem : problems) {
    first_row.push_back(static_cast<int64_t>(codes.size() / kCodeSize));
    const size_t rows = problem.starts.size() + static_cast<size_t>(options.random_starts);
    const std::vector<float> problem_context = context_rows(problem.layer, problem.arch, rows);
    descent_problem.start.context.insert(descent_problem.start.context.end(),
                                         problem_context.begin(), problem_context.end());
    for (const Dataflow& start : problem.starts)
      append_code(encode_dataflow(problem.layer, problem.arch, start), codes);
    for (int draw = 0; draw < options.random_starts; ++draw)
      append_code(random_code(problem.layer, problem.arch, rng), codes);
    const std::vector<float> capacity = log2_capacity_elements(problem.arch);
    for (size_t row = 0; row < rows; ++row) {
      descent_problem.log_reference.push_back(
          static_cast<float>(std::log(problem.reference_cycles)));
      descent_problem.log_reference.push_back(
          static_cast<float>(std::log(problem.reference_energy_pj)));
      descent_problem.log2_capacity.insert(descent_problem.log2_capacity.end(), capacity.begin(),
                                           capacity.end());
    }
  }
  first_row.push_back(static_cast<int64_t>(codes.size() / kCodeSize));
  const std::unique_ptr<CodeDescent> descent = predictor.model().descend(descent_problem);

  std::vector<PropagationOutcome> outcomes(problems.size());
  std::vector<std::set<std::vector<int64_t>>> seen(problems.size());
  for (int step = 0; step <= options.steps; ++step) {
    // The predictor is shown the decoded dataflow of every code (the forward pass of a
    // straight-through estimator), so it prices only dataflows that exist: relaxed codes between
    // legal ones are where a descent finds predictions no dataflow has.
    std::vector<Dataflow> step_dataflows;
    std::vector<float> decoded_codes;
    const std::vector<float> code_rows = descent->codes();
    for (size_t p = 0; p < problems.size(); ++p) {
      for (int64_t row = first_row[p]; row < first_row[p + 1]; ++row) {
        CodeVector vector;
        std::copy(code_rows.begin() + row * kCodeSize, code_rows.begin() + (row + 1) * kCodeSize,
                  vector.begin());
        step_dataflows.push_back(
            decode_dataflow(problems[p].layer, problems[p].arch, code_from_vector(vector)));
        append_code(encode_dataflow(problems[p].layer, problems[p].arch, step_dataflows.back()),
                    decoded_codes);
      }
    }
    const DescentPrices prices = descent->price(decoded_codes);
    for (size_t p = 0; p < problems.size(); ++p) {
      bool found_new = false;
      for (int64_t row = first_row[p]; row < first_row[p + 1]; ++row) {
        Dataflow& dataflow = step_dataflows[static_cast<size_t>(row)];
        if (!seen[p].insert(dataflow_key(dataflow)).second) continue;
        found_new = true;
        dataflow.name = "dcp";
        const double cycles = prices.predicted[static_cast<size_t>(row) * kNumTargets];
        const double energy_pj = prices.predicted[static_cast<size_t>(row) * kNumTargets + 1];
        outcomes[p].candidates.push_back({dataflow, cycles, energy_pj,
                                          objective_of(objective, problems[p], cycles, energy_pj),
                                          step});
      }
      outcomes[p].curve.push_back({step, prices.group_best[p], prices.group_mean[p], found_new});
    }
    if (step == options.steps) break;
    descent->step();
  }

  for (PropagationOutcome& outcome : outcomes) sort_by_prediction(outcome.candidates);
  return outcomes;
}

}  // namespace dcp
