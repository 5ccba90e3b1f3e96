#include "mapper/training.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "common/input_error.hpp"
#include "mapper/content_id.hpp"

namespace dcp {
namespace {

// What a checkpoint must agree with to be resumed: the data and every option that shapes the
// run. A checkpoint from another run is ignored rather than trusted.
std::string run_fingerprint(const FeatureRows& set, const TrainingOptions& options) {
  std::string fingerprint = feature_schema();
  fingerprint += " rows=" + std::to_string(set.rows());
  fingerprint += " targets=" + std::to_string(std::accumulate(set.log_targets.begin(),
                                                              set.log_targets.end(), 0.0));
  fingerprint += " seed=" + std::to_string(options.predictor.seed);
  fingerprint += " test_fraction=" + std::to_string(options.predictor.test_fraction);
  fingerprint += " epochs=" + std::to_string(options.fit.epochs);
  fingerprint += " batch=" + std::to_string(options.fit.batch_size);
  fingerprint += " lr=" + std::to_string(options.fit.learning_rate);
  for (int64_t hidden : options.predictor.hidden_sizes)
    fingerprint += " h" + std::to_string(hidden);
  return fingerprint;
}

std::vector<double> ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> rank(values.size());
  // Ties share the mean of their positions, as Spearman's rho defines.
  for (size_t first = 0; first < order.size();) {
    size_t last = first;
    while (last + 1 < order.size() && values[order[last + 1]] == values[order[first]]) ++last;
    const double mean_rank = 0.5 * static_cast<double>(first + last);
    for (size_t i = first; i <= last; ++i) rank[order[i]] = mean_rank;
    first = last + 1;
  }
  return rank;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + middle, values.end());
  double upper = values[middle];
  if (values.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(values.begin(), values.begin() + middle));
}

TargetMetrics target_metrics(const std::vector<double>& predicted,
                             const std::vector<double>& actual, double mean_prediction) {
  TargetMetrics metrics;
  metrics.spearman_rho = spearman_rho(predicted, actual);
  std::vector<double> errors, baseline_errors;
  for (size_t i = 0; i < actual.size(); ++i) {
    errors.push_back(100.0 * std::abs(predicted[i] - actual[i]) / actual[i]);
    baseline_errors.push_back(100.0 * std::abs(mean_prediction - actual[i]) / actual[i]);
  }
  metrics.median_abs_pct_error = median(errors);
  metrics.mean_baseline_median_abs_pct_error = median(baseline_errors);
  return metrics;
}

}  // namespace

double spearman_rho(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> rank_a = ranks(a), rank_b = ranks(b);
  const double n = static_cast<double>(a.size());
  const double mean = (n - 1) / 2;
  double covariance = 0, variance_a = 0, variance_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    covariance += (rank_a[i] - mean) * (rank_b[i] - mean);
    variance_a += (rank_a[i] - mean) * (rank_a[i] - mean);
    variance_b += (rank_b[i] - mean) * (rank_b[i] - mean);
  }
  if (variance_a == 0 || variance_b == 0) return 0;
  return covariance / std::sqrt(variance_a * variance_b);
}

FeatureRows make_training_set(const std::vector<TraceRecord>& records) {
  FeatureRows set;
  set.context_size = static_cast<int64_t>(context_feature_names().size());
  for (const TraceRecord& record : records) {
    append_feature_row(record.layer, record.arch, record.dataflow, set);
    set.log_targets.push_back(
        static_cast<float>(std::log(static_cast<double>(record.result.cycles))));
    set.log_targets.push_back(static_cast<float>(std::log(record.result.total_energy_pj)));
  }
  return set;
}

Predictor train_predictor(const std::vector<TraceRecord>& records, const TrainingOptions& options,
                          const std::function<void(const EpochReport&)>& on_batch) {
  Predictor predictor(options.predictor);
  std::vector<TraceRecord> train_records;
  std::vector<ArchSpec> train_archs;
  std::set<std::string> arch_ids;
  for (const TraceRecord& record : records) {
    if (predictor.is_test_layer(record.layer_key)) continue;
    train_records.push_back(record);
    if (arch_ids.insert(arch_content_id(record.arch)).second) train_archs.push_back(record.arch);
  }
  if (train_records.empty() || train_records.size() == records.size())
    throw InputError("traces", "",
                     "too few layers to split " + std::to_string(train_records.size()) + " of " +
                         std::to_string(records.size()) + " rows for training",
                     "traces with at least 2 distinct layers in each split; sweep more layers");
  predictor.record_hardware_range(train_archs);
  FitOptions fit = options.fit;
  fit.shuffle_seed = options.predictor.seed;
  fit.fingerprint = run_fingerprint(make_training_set(records), options);
  predictor.model().fit(make_training_set(train_records), fit, predictor.info(), on_batch);
  return predictor;
}

void fine_tune(Predictor& predictor, const std::vector<TraceRecord>& records, int steps,
               double learning_rate, const std::vector<TraceRecord>& anchors,
               double anchor_weight) {
  if (records.empty() || steps <= 0) return;
  predictor.model().fine_tune(make_training_set(records), steps, learning_rate,
                              make_training_set(anchors), anchor_weight);
}

double mean_squared_log_error(Predictor& predictor, const std::vector<TraceRecord>& records) {
  return predictor.model().mean_squared_log_error(make_training_set(records));
}

PredictorMetrics measure_predictor(Predictor& predictor, const std::vector<TraceRecord>& records,
                                   bool held_out_only) {
  std::vector<TraceRecord> chosen;
  std::set<std::string> layers;
  for (const TraceRecord& record : records) {
    if (held_out_only && !predictor.is_test_layer(record.layer_key)) continue;
    chosen.push_back(record);
    layers.insert(record.layer_key);
  }
  PredictorMetrics metrics;
  metrics.rows = static_cast<int64_t>(chosen.size());
  metrics.layers = static_cast<int64_t>(layers.size());
  if (chosen.empty()) return metrics;
  const std::vector<std::array<double, kNumTargets>> predicted =
      predictor.predict(make_training_set(chosen));
  std::vector<double> predicted_cycles, predicted_energy, actual_cycles, actual_energy;
  for (size_t row = 0; row < chosen.size(); ++row) {
    predicted_cycles.push_back(predicted[row][0]);
    predicted_energy.push_back(predicted[row][1]);
    actual_cycles.push_back(static_cast<double>(chosen[row].result.cycles));
    actual_energy.push_back(chosen[row].result.total_energy_pj);
  }
  const std::array<double, kNumTargets> mean = predictor.model().mean_prediction();
  metrics.cycles = target_metrics(predicted_cycles, actual_cycles, mean[0]);
  metrics.energy = target_metrics(predicted_energy, actual_energy, mean[1]);
  return metrics;
}

}  // namespace dcp
