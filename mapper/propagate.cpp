#include "mapper/propagate.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "mapper/search.hpp"

namespace dcp {
namespace {

torch::Tensor float_rows(const std::vector<float>& flat, int64_t columns) {
  return torch::tensor(flat).reshape({-1, columns});
}

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

// log(objective) from log predictions; the log keeps steps scale-free across layers whose
// cycles differ by orders of magnitude.
torch::Tensor log_objective(const torch::Tensor& log_predicted, const torch::Tensor& log_reference,
                            const Objective& objective) {
  const torch::Tensor ratio = torch::exp(log_predicted - log_reference);
  const torch::Tensor latency = ratio.select(1, 0), energy = ratio.select(1, 1);
  return torch::log(objective.latency * latency + objective.energy * energy +
                    objective.edp * latency * energy);
}

double objective_of(const Objective& objective, const PropagationProblem& problem, double cycles,
                    double energy_pj) {
  return objective_value(objective, cycles, energy_pj, problem.reference_cycles,
                         problem.reference_energy_pj);
}

// Squared distance outside the legal region, from the analytic footprint: buffer overflow per
// level, shares and fractions above their whole, tiles and fan-outs below one, and levels whose
// fan-outs together take more units than they have.
torch::Tensor legality_penalty(const CodeGeometry& geometry, const torch::Tensor& log2_capacity) {
  const torch::Tensor log2_footprint =
      torch::logsumexp(geometry.log2_footprint * M_LN2, 2) / M_LN2;  // sum over tensors
  const auto squared = [](const torch::Tensor& excess) { return torch::relu(excess).pow(2); };
  return squared(log2_footprint - log2_capacity).sum(1) +
         squared(geometry.tile_fraction).sum({1, 2}) + squared(geometry.spatial_share).sum({1, 2}) +
         squared(-geometry.log2_tile).sum({1, 2}) + squared(-geometry.log2_dim_fanout).sum({1, 2}) +
         squared(geometry.log2_fanout - geometry.log2_units).sum(1);
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

// Leaves the predictor's weights untouched by the backward passes over the codes, and restores
// their gradient flags afterwards.
class FrozenWeights {
 public:
  explicit FrozenWeights(Predictor& predictor) : parameters_(predictor.net()->parameters()) {
    for (torch::Tensor& parameter : parameters_) parameter.set_requires_grad(false);
  }
  ~FrozenWeights() {
    for (torch::Tensor& parameter : parameters_) parameter.set_requires_grad(true);
  }

 private:
  std::vector<torch::Tensor> parameters_;
};

}  // namespace

std::vector<std::array<double, kNumTargets>> predict_dataflows(
    Predictor& predictor, const Layer& layer, const ArchSpec& arch,
    const std::vector<Dataflow>& dataflows) {
  if (dataflows.empty()) return {};
  std::vector<float> codes;
  for (const Dataflow& dataflow : dataflows)
    append_code(encode_dataflow(layer, arch, dataflow), codes);
  torch::NoGradGuard no_grad;
  const torch::Tensor predicted =
      predictor
          .predict_log(float_rows(context_rows(layer, arch, dataflows.size()),
                                  static_cast<int64_t>(context_feature_names().size())),
                       float_rows(codes, kCodeSize))
          .exp()
          .to(torch::kFloat64);
  const auto rows = predicted.accessor<double, 2>();
  std::vector<std::array<double, kNumTargets>> values;
  for (int64_t row = 0; row < predicted.size(0); ++row)
    values.push_back({rows[row][0], rows[row][1]});
  return values;
}

std::vector<PropagationOutcome> propagate(Predictor& predictor,
                                          const std::vector<PropagationProblem>& problems,
                                          const Objective& objective,
                                          const PropagationOptions& options) {
  const FrozenWeights frozen(predictor);
  std::mt19937_64 rng(options.seed);
  std::vector<float> context, codes, log_reference, log2_capacity;
  std::vector<int64_t> first_row;
  for (const PropagationProblem& problem : problems) {
    first_row.push_back(static_cast<int64_t>(codes.size() / kCodeSize));
    const size_t rows = problem.starts.size() + static_cast<size_t>(options.random_starts);
    const std::vector<float> problem_context = context_rows(problem.layer, problem.arch, rows);
    context.insert(context.end(), problem_context.begin(), problem_context.end());
    for (const Dataflow& start : problem.starts)
      append_code(encode_dataflow(problem.layer, problem.arch, start), codes);
    for (int draw = 0; draw < options.random_starts; ++draw)
      append_code(random_code(problem.layer, problem.arch, rng), codes);
    const std::vector<float> capacity = log2_capacity_elements(problem.arch);
    for (size_t row = 0; row < rows; ++row) {
      log_reference.push_back(static_cast<float>(std::log(problem.reference_cycles)));
      log_reference.push_back(static_cast<float>(std::log(problem.reference_energy_pj)));
      log2_capacity.insert(log2_capacity.end(), capacity.begin(), capacity.end());
    }
  }
  first_row.push_back(static_cast<int64_t>(codes.size() / kCodeSize));
  const torch::Tensor context_tensor =
      float_rows(context, static_cast<int64_t>(context_feature_names().size()));
  const torch::Tensor reference_tensor = float_rows(log_reference, kNumTargets);
  const torch::Tensor capacity_tensor = float_rows(log2_capacity, kNumLevels);
  torch::Tensor code = float_rows(codes, kCodeSize).requires_grad_(true);
  torch::optim::Adam optimizer({code}, torch::optim::AdamOptions(options.learning_rate));

  // Share and tile genes: projected back to <= 0 after each step (a fraction of the units or of
  // the parent tile).
  torch::Tensor fraction_mask = torch::zeros({kCodeSize}, torch::kBool);
  for (int level = 0; level < kNumLevels; ++level) {
    for (Dim dim : kAllDims) {
      fraction_mask[code_index_spatial_share(level, dim)] = true;
      fraction_mask[code_index_tile(level, dim)] = true;
    }
  }

  std::vector<PropagationOutcome> outcomes(problems.size());
  std::vector<std::set<std::vector<int64_t>>> seen(problems.size());
  for (int step = 0; step <= options.steps; ++step) {
    // The predictor is shown the decoded dataflow of every code (the forward pass of a
    // straight-through estimator), so it prices only dataflows that exist: relaxed codes between
    // legal ones are where a descent finds predictions no dataflow has.
    std::vector<Dataflow> step_dataflows;
    std::vector<float> decoded_codes;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor code_rows = code.detach().contiguous();
      const float* code_data = code_rows.data_ptr<float>();
      for (size_t p = 0; p < problems.size(); ++p) {
        for (int64_t row = first_row[p]; row < first_row[p + 1]; ++row) {
          CodeVector vector;
          std::copy(code_data + row * kCodeSize, code_data + (row + 1) * kCodeSize, vector.begin());
          step_dataflows.push_back(
              decode_dataflow(problems[p].layer, problems[p].arch, code_from_vector(vector)));
          append_code(encode_dataflow(problems[p].layer, problems[p].arch, step_dataflows.back()),
                      decoded_codes);
        }
      }
    }
    const torch::Tensor decoded = float_rows(decoded_codes, kCodeSize);
    const torch::Tensor log_predicted =
        predictor.predict_log(context_tensor, code + (decoded - code).detach());
    const torch::Tensor log_value = log_objective(log_predicted, reference_tensor, objective);
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor predicted = log_predicted.exp().to(torch::kFloat64).contiguous();
      const auto predicted_rows = predicted.accessor<double, 2>();
      const torch::Tensor value = log_value.exp().to(torch::kFloat64);
      for (size_t p = 0; p < problems.size(); ++p) {
        bool found_new = false;
        for (int64_t row = first_row[p]; row < first_row[p + 1]; ++row) {
          Dataflow& dataflow = step_dataflows[static_cast<size_t>(row)];
          if (!seen[p].insert(dataflow_key(dataflow)).second) continue;
          found_new = true;
          dataflow.name = "dcp";
          const double cycles = predicted_rows[row][0], energy_pj = predicted_rows[row][1];
          outcomes[p].candidates.push_back({dataflow, cycles, energy_pj,
                                            objective_of(objective, problems[p], cycles, energy_pj),
                                            step});
        }
        const torch::Tensor values = value.slice(0, first_row[p], first_row[p + 1]);
        outcomes[p].curve.push_back(
            {step, values.min().item<double>(), values.mean().item<double>(), found_new});
      }
    }
    if (step == options.steps) break;
    const CodeGeometry geometry = code_geometry(context_tensor, code);
    const torch::Tensor loss =
        (log_value + options.penalty_weight * legality_penalty(geometry, capacity_tensor)).sum();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    torch::NoGradGuard no_grad;
    code.masked_fill_(fraction_mask.unsqueeze(0) & (code > 0), 0.0f);
  }

  for (PropagationOutcome& outcome : outcomes) {
    std::stable_sort(outcome.candidates.begin(), outcome.candidates.end(),
                     [](const Candidate& a, const Candidate& b) {
                       return a.predicted_objective < b.predicted_objective;
                     });
  }
  return outcomes;
}

}  // namespace dcp
