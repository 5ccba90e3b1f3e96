#include "mapper/training.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <set>

#include "common/input_error.hpp"

namespace dcp {
namespace {

torch::Tensor rows_tensor(const std::vector<float>& values, int64_t columns) {
  return torch::from_blob(const_cast<float*>(values.data()),
                          {static_cast<int64_t>(values.size()) / columns, columns}, torch::kFloat32)
      .clone();
}

torch::Tensor index_tensor(const std::vector<int64_t>& indices) {
  return torch::tensor(indices, torch::kInt64);
}

// What a checkpoint must agree with to be resumed: the data and every option that shapes the
// run. A checkpoint from another run is ignored rather than trusted.
std::string run_fingerprint(const TrainingSet& set, const TrainingOptions& options) {
  std::string fingerprint = feature_schema();
  fingerprint += " rows=" + std::to_string(set.layer_keys.size());
  fingerprint += " targets=" + std::to_string(set.log_targets.sum().item<double>());
  fingerprint += " seed=" + std::to_string(options.predictor.seed);
  fingerprint += " test_fraction=" + std::to_string(options.predictor.test_fraction);
  fingerprint += " epochs=" + std::to_string(options.epochs);
  fingerprint += " batch=" + std::to_string(options.batch_size);
  fingerprint += " lr=" + std::to_string(options.learning_rate);
  for (int64_t hidden : options.predictor.hidden_sizes)
    fingerprint += " h" + std::to_string(hidden);
  return fingerprint;
}

void write_checkpoint(const std::string& path, const std::string& fingerprint, int epochs_done,
                      const Predictor& predictor, const torch::optim::Adam& optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("fingerprint", c10::IValue(fingerprint));
  archive.write("epochs_done", c10::IValue(static_cast<int64_t>(epochs_done)));
  torch::serialize::OutputArchive predictor_archive;
  predictor.write(predictor_archive);
  archive.write("predictor", predictor_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  // Written aside and renamed, so a kill mid-write leaves the previous checkpoint intact.
  const std::string partial = path + ".partial";
  archive.save_to(partial);
  std::filesystem::rename(partial, path);
}

// Restores predictor and optimizer from a matching checkpoint; returns the epochs it had done
// (0 when there is none or it belongs to another run).
int resume_checkpoint(const std::string& path, const std::string& fingerprint, Predictor& predictor,
                      torch::optim::Adam& optimizer) {
  if (path.empty() || !std::filesystem::exists(path)) return 0;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue value;
    archive.read("fingerprint", value);
    if (value.toStringRef() != fingerprint) return 0;
    archive.read("epochs_done", value);
    torch::serialize::InputArchive predictor_archive;
    archive.read("predictor", predictor_archive);
    Predictor restored = Predictor::read(predictor_archive, path);
    torch::NoGradGuard no_grad;
    auto target = predictor.net()->parameters();
    auto source = restored.net()->parameters();
    for (size_t i = 0; i < target.size(); ++i) target[i].copy_(source[i]);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    return static_cast<int>(value.toInt());
  } catch (const c10::Error&) {
    return 0;  // an unreadable checkpoint only costs the epochs it held
  } catch (const InputError&) {
    return 0;
  }
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

TrainingSet make_training_set(const std::vector<TraceRecord>& records) {
  const int64_t context_size = static_cast<int64_t>(context_feature_names().size());
  std::vector<float> context, code, targets;
  TrainingSet set;
  for (const TraceRecord& record : records) {
    const std::vector<float> features = context_features(record.layer, record.arch);
    context.insert(context.end(), features.begin(), features.end());
    const CodeVector vector =
        code_to_vector(encode_dataflow(record.layer, record.arch, record.dataflow));
    code.insert(code.end(), vector.begin(), vector.end());
    targets.push_back(static_cast<float>(std::log(static_cast<double>(record.result.cycles))));
    targets.push_back(static_cast<float>(std::log(record.result.total_energy_pj)));
    set.layer_keys.push_back(record.layer_key);
  }
  set.context = rows_tensor(context, context_size);
  set.code = rows_tensor(code, kCodeSize);
  set.log_targets = rows_tensor(targets, kNumTargets);
  return set;
}

Predictor train_predictor(const std::vector<TraceRecord>& records, const TrainingOptions& options,
                          const std::function<void(const EpochReport&)>& on_batch) {
  const TrainingSet set = make_training_set(records);
  Predictor predictor(options.predictor);
  std::vector<int64_t> train_rows;
  std::vector<ArchSpec> train_archs;
  std::set<std::string> arch_ids;
  for (size_t row = 0; row < records.size(); ++row) {
    if (predictor.is_test_layer(set.layer_keys[row])) continue;
    train_rows.push_back(static_cast<int64_t>(row));
    if (arch_ids.insert(arch_content_id(records[row].arch)).second)
      train_archs.push_back(records[row].arch);
  }
  if (train_rows.empty() || train_rows.size() == records.size())
    throw InputError("--traces", "",
                     "the traces hold too few layers to split " +
                         std::to_string(train_rows.size()) + " of " +
                         std::to_string(records.size()) + " rows for training",
                     "traces with at least 2 distinct layers in each split; sweep more layers");

  const torch::Tensor train_index = index_tensor(train_rows);
  const torch::Tensor context = set.context.index_select(0, train_index);
  const torch::Tensor code = set.code.index_select(0, train_index);
  const torch::Tensor log_targets = set.log_targets.index_select(0, train_index);
  predictor.fit_normalisation(context, code, log_targets);
  predictor.record_hardware_range(train_archs);
  const torch::Tensor targets = predictor.normalise_targets(log_targets);

  torch::optim::Adam optimizer(predictor.net()->parameters(),
                               torch::optim::AdamOptions(options.learning_rate));
  const std::string fingerprint = run_fingerprint(set, options);
  const int first_epoch =
      resume_checkpoint(options.checkpoint_path, fingerprint, predictor, optimizer);

  const int64_t rows = context.size(0);
  std::vector<int64_t> order(static_cast<size_t>(rows));
  EpochReport report;
  for (int epoch = first_epoch; epoch < options.epochs; ++epoch) {
    // Cosine decay: large steps early, fine ones at the end. Set per epoch from the epoch index
    // alone, so a resumed run follows the same schedule.
    const double learning_rate =
        options.learning_rate * 0.5 * (1 + std::cos(M_PI * epoch / options.epochs));
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(options.predictor.seed * 1000003 + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    const torch::Tensor permutation = index_tensor(order);
    double loss_sum = 0;
    int64_t batches = 0;
    report.epoch = epoch + 1;
    for (int64_t start = 0; start < rows; start += options.batch_size) {
      const torch::Tensor batch =
          permutation.slice(0, start, std::min(rows, start + options.batch_size));
      optimizer.zero_grad();
      const torch::Tensor loss = torch::mse_loss(
          predictor.predict_normalised(context.index_select(0, batch), code.index_select(0, batch)),
          targets.index_select(0, batch));
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      ++batches;
      report.rows_done += batch.size(0);
      report.train_loss = loss_sum / static_cast<double>(batches);
      if (on_batch) on_batch(report);
    }
    if (!options.checkpoint_path.empty())
      write_checkpoint(options.checkpoint_path, fingerprint, epoch + 1, predictor, optimizer);
  }
  if (!options.checkpoint_path.empty()) std::filesystem::remove(options.checkpoint_path);
  return predictor;
}

void fine_tune(Predictor& predictor, const std::vector<TraceRecord>& records, int steps,
               double learning_rate, const std::vector<TraceRecord>& anchors,
               double anchor_weight) {
  if (records.empty() || steps <= 0) return;
  const TrainingSet set = make_training_set(records);
  const torch::Tensor targets = predictor.normalise_targets(set.log_targets);
  const TrainingSet anchor_set = make_training_set(anchors);
  torch::Tensor anchor_targets;
  if (!anchors.empty()) {
    torch::NoGradGuard no_grad;
    anchor_targets = predictor.predict_normalised(anchor_set.context, anchor_set.code);
  }
  torch::optim::Adam optimizer(predictor.net()->parameters(),
                               torch::optim::AdamOptions(learning_rate));
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    torch::Tensor loss =
        torch::mse_loss(predictor.predict_normalised(set.context, set.code), targets);
    if (!anchors.empty())
      loss = loss + anchor_weight * torch::mse_loss(predictor.predict_normalised(anchor_set.context,
                                                                                 anchor_set.code),
                                                    anchor_targets);
    loss.backward();
    optimizer.step();
  }
}

double mean_squared_log_error(Predictor& predictor, const std::vector<TraceRecord>& records) {
  const TrainingSet set = make_training_set(records);
  torch::NoGradGuard no_grad;
  return torch::mse_loss(predictor.predict_log(set.context, set.code), set.log_targets)
      .item<double>();
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
  const TrainingSet set = make_training_set(chosen);
  torch::NoGradGuard no_grad;
  const torch::Tensor predicted =
      predictor.predict_log(set.context, set.code).exp().to(torch::kFloat64);
  const auto predicted_rows = predicted.accessor<double, 2>();
  std::vector<double> predicted_cycles, predicted_energy, actual_cycles, actual_energy;
  for (size_t row = 0; row < chosen.size(); ++row) {
    predicted_cycles.push_back(predicted_rows[static_cast<int64_t>(row)][0]);
    predicted_energy.push_back(predicted_rows[static_cast<int64_t>(row)][1]);
    actual_cycles.push_back(static_cast<double>(chosen[row].result.cycles));
    actual_energy.push_back(chosen[row].result.total_energy_pj);
  }
  const std::array<double, kNumTargets> mean = predictor.mean_prediction();
  metrics.cycles = target_metrics(predicted_cycles, actual_cycles, mean[0]);
  metrics.energy = target_metrics(predicted_energy, actual_energy, mean[1]);
  return metrics;
}

}  // namespace dcp
