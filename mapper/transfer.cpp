#include "mapper/transfer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "mapper/sampler.hpp"
#include "mapper/search.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {
namespace {

// Streams of the seed, so that shots, spread pool and eval rows never share draws.
constexpr uint64_t kSpreadPoolStream = 1;
constexpr uint64_t kEvalStream = 2;
constexpr uint64_t kAnchorStream = 3;

// What zero-shot propagation proposes, best predicted first, per layer. The objective is
// normalised by the predicted fixed dataflows: nothing may be simulated here.
std::vector<PropagationOutcome> search_region(Predictor& predictor,
                                              const std::vector<Layer>& layers,
                                              const ArchSpec& arch, const Objective& objective,
                                              const TransferOptions& options) {
  std::vector<PropagationProblem> problems;
  for (const Layer& layer : layers) {
    PropagationProblem problem{
        layer, arch, std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), {}};
    for (const std::string& name : fixed_dataflow_names())
      problem.starts.push_back(make_fixed_dataflow(name, layer, arch));
    for (const auto& [cycles, energy_pj] :
         predict_dataflows(predictor, layer, arch, problem.starts)) {
      problem.reference_cycles = std::min(problem.reference_cycles, cycles);
      problem.reference_energy_pj = std::min(problem.reference_energy_pj, energy_pj);
    }
    problems.push_back(std::move(problem));
  }
  PropagationOptions propagation = options.propagation;
  propagation.seed = options.seed;
  return propagate(predictor, problems, objective, propagation);
}

// A point per shot candidate: the layer's dims and the dataflow's code, each column scaled to
// unit variance over the pool, so that "far apart" weighs layer shape and every gene alike.
std::vector<std::vector<double>> standardised_points(const std::vector<Shot>& shots,
                                                     const ArchSpec& arch) {
  std::vector<std::vector<double>> points;
  for (const Shot& shot : shots) {
    std::vector<double> point;
    for (const int64_t dim : shot.layer.dims()) point.push_back(std::log2(dim));
    for (const float gene : code_to_vector(encode_dataflow(shot.layer, arch, shot.dataflow)))
      point.push_back(gene);
    points.push_back(std::move(point));
  }
  if (points.empty()) return points;
  for (size_t column = 0; column < points.front().size(); ++column) {
    double sum = 0, sum_squares = 0;
    for (const auto& point : points) {
      sum += point[column];
      sum_squares += point[column] * point[column];
    }
    const double mean = sum / static_cast<double>(points.size());
    const double variance = sum_squares / static_cast<double>(points.size()) - mean * mean;
    const double scale = variance > 1e-12 ? 1.0 / std::sqrt(variance) : 0.0;
    for (auto& point : points) point[column] = (point[column] - mean) * scale;
  }
  return points;
}

double squared_distance(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

// Farthest-point selection: each pick is the candidate farthest from every shot chosen so far
// (the search shots included), which spreads `count` picks over the pool.
std::vector<Shot> farthest_points(const std::vector<Shot>& chosen, const std::vector<Shot>& pool,
                                  const ArchSpec& arch, int count) {
  std::vector<Shot> all = chosen;
  all.insert(all.end(), pool.begin(), pool.end());
  const std::vector<std::vector<double>> points = standardised_points(all, arch);
  std::vector<double> nearest(all.size(), std::numeric_limits<double>::max());
  const auto take = [&](size_t index) {
    for (size_t i = 0; i < all.size(); ++i)
      nearest[i] = std::min(nearest[i], squared_distance(points[i], points[index]));
  };
  for (size_t i = 0; i < chosen.size(); ++i) take(i);
  std::vector<Shot> picked;
  while (static_cast<int>(picked.size()) < count) {
    size_t farthest = chosen.size();
    for (size_t i = chosen.size(); i < all.size(); ++i)
      if (nearest[i] > nearest[farthest]) farthest = i;
    if (nearest[farthest] <= 0) break;  // the pool holds nothing new
    take(farthest);
    picked.push_back(all[farthest]);
  }
  return picked;
}

std::vector<Sample> draw_samples(const SampleSpace& space, int64_t count) {
  std::vector<Sample> samples;
  for (int64_t index = 0; index < count; ++index) samples.push_back(draw_sample(space, index));
  return samples;
}

SampleSpace layer_space(const std::vector<Layer>& layers, const ArchSpec& arch, uint64_t seed) {
  std::ostringstream dropped;  // the caller's layers were checked against the arch already
  return make_sample_space({arch}, layers, SampleMix{}, seed, dropped);
}

// How long to fine-tune, chosen on the shots themselves: train on three quarters of them for
// each candidate length (none included) and keep the one that predicts the last quarter best.
// A few shots overfit quickly, and a step count that suits one arch ruins another.
int validated_steps(const Predictor& predictor, const std::vector<TraceRecord>& shots,
                    const std::vector<TraceRecord>& anchors, const TransferOptions& options) {
  constexpr int kValidationEvery = 4;  // every 4th shot validates
  std::vector<TraceRecord> train, validation;
  for (size_t i = 0; i < shots.size(); ++i)
    (i % kValidationEvery == kValidationEvery - 1 ? validation : train).push_back(shots[i]);
  if (validation.empty() || train.empty()) return options.fine_tune_steps;
  int best_steps = 0;
  double best_error = std::numeric_limits<double>::max();
  for (const int divisor : {0, 8, 4, 2, 1}) {
    const int steps = divisor == 0 ? 0 : options.fine_tune_steps / divisor;
    Predictor candidate = predictor.clone();
    fine_tune(candidate, train, steps, options.fine_tune_learning_rate, anchors,
              options.anchor_weight);
    const double error = mean_squared_log_error(candidate, validation);
    if (error < best_error) {
      best_error = error;
      best_steps = steps;
    }
  }
  return best_steps;
}

TraceRecord simulate_record(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                            const std::string& kind) {
  TraceRecord record;
  record.layer_key = layer_key(layer);
  record.sample_kind = kind;
  record.layer = layer;
  record.arch = arch;
  record.dataflow = dataflow;
  record.result = evaluate(layer, arch, dataflow);
  return record;
}

}  // namespace

std::vector<Shot> choose_shots(Predictor& predictor, const std::vector<Layer>& layers,
                               const ArchSpec& arch, const Objective& objective,
                               const TransferOptions& options) {
  if (options.shots < 0)
    throw InputError("transfer", "shots", std::to_string(options.shots), ">= 0");
  if (options.shots == 0 || layers.empty()) return {};
  std::set<std::pair<std::string, std::vector<int64_t>>> seen;
  const auto is_new = [&seen](const Shot& shot) {
    return seen.insert({layer_key(shot.layer), dataflow_key(shot.dataflow)}).second;
  };

  std::vector<Shot> shots;
  const int search_count =
      static_cast<int>(std::lround(options.shots * std::clamp(options.search_share, 0.0, 1.0)));
  if (search_count > 0) {
    const std::vector<PropagationOutcome> outcomes =
        search_region(predictor, layers, arch, objective, options);
    // Round robin over the layers: every layer's best proposal before any layer's second.
    for (size_t rank = 0; static_cast<int>(shots.size()) < search_count; ++rank) {
      bool any_left = false;
      for (size_t i = 0; i < layers.size() && static_cast<int>(shots.size()) < search_count; ++i) {
        if (rank >= outcomes[i].candidates.size()) continue;
        any_left = true;
        Shot shot{layers[i], outcomes[i].candidates[rank].dataflow, true};
        if (is_new(shot)) shots.push_back(std::move(shot));
      }
      if (!any_left) break;
    }
  }

  std::vector<Shot> pool;
  const SampleSpace space = layer_space(layers, arch, mix_seed(options.seed, kSpreadPoolStream));
  for (const Sample& sample :
       draw_samples(space, static_cast<int64_t>(options.pool_per_layer) * layers.size())) {
    Shot shot{space.layers[sample.layer], sample.dataflow, false};
    if (is_new(shot)) pool.push_back(std::move(shot));
  }
  for (Shot& shot :
       farthest_points(shots, pool, arch, options.shots - static_cast<int>(shots.size())))
    shots.push_back(std::move(shot));
  return shots;
}

TransferReport transfer_predictor(Predictor& predictor, const std::vector<Layer>& layers,
                                  const ArchSpec& arch, const Objective& objective,
                                  const TransferOptions& options,
                                  const std::function<void()>& on_simulation) {
  // Fine-tuning on nothing would only report steps it never took.
  if (options.shots < 1)
    throw InputError("transfer", "shots", std::to_string(options.shots),
                     ">= 1; without shots, map with the predictor as it is");
  TransferReport report;
  const auto simulated = [&](TraceRecord record, std::vector<TraceRecord>& into) {
    into.push_back(std::move(record));
    ++report.simulator_calls;
    if (on_simulation) on_simulation();
  };
  for (const Shot& shot : choose_shots(predictor, layers, arch, objective, options)) {
    report.search_shots += shot.from_search ? 1 : 0;
    simulated(simulate_record(shot.layer, arch, shot.dataflow,
                              shot.from_search ? "shot-search" : "shot-spread"),
              report.shots);
  }
  const SampleSpace space = layer_space(layers, arch, mix_seed(options.seed, kEvalStream));
  for (const Sample& sample : draw_samples(space, options.eval_samples))
    simulated(simulate_record(space.layers[sample.layer], arch, sample.dataflow,
                              sample_kind_name(sample.kind)),
              report.eval_rows);

  // Unsimulated draws on the new arch: the anchors of the fine-tuning.
  std::vector<TraceRecord> anchors;
  const SampleSpace anchor_space = layer_space(layers, arch, mix_seed(options.seed, kAnchorStream));
  for (const Sample& sample :
       draw_samples(anchor_space, static_cast<int64_t>(options.pool_per_layer) * layers.size())) {
    TraceRecord anchor;
    anchor.layer = anchor_space.layers[sample.layer];
    anchor.arch = arch;
    anchor.dataflow = sample.dataflow;
    anchors.push_back(std::move(anchor));
  }

  report.before = measure_predictor(predictor, report.eval_rows, false);
  report.fine_tune_steps = validated_steps(predictor, report.shots, anchors, options);
  fine_tune(predictor, report.shots, report.fine_tune_steps, options.fine_tune_learning_rate,
            anchors, options.anchor_weight);
  predictor.include_in_hardware_range(arch);
  report.after = measure_predictor(predictor, report.eval_rows, false);
  return report;
}

}  // namespace dcp
