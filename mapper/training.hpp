#pragma once
// Fitting the predictor to simulator traces, and measuring it on held-out layers.
#include <functional>
#include <string>
#include <vector>

#include "mapper/predictor.hpp"
#include "mapper/trace_store.hpp"

namespace dcp {

// Trace rows as model input: raw context features, codes and natural-log targets.
FeatureRows make_training_set(const std::vector<TraceRecord>& records);

struct TrainingOptions {
  PredictorConfig predictor;
  FitOptions fit;  // its shuffle seed and fingerprint are set from the rest by train_predictor
};

// Trains on the rows whose layer is not held out. Same records, options and seed give the same
// predictor. Throws InputError when no layer (or every layer) falls in the training split.
Predictor train_predictor(const std::vector<TraceRecord>& records, const TrainingOptions& options,
                          const std::function<void(const EpochReport&)>& on_batch);

// Adapts a trained predictor to a few simulated rows (the dataflows a search just verified, or a
// new arch) with `steps` full-batch Adam steps, keeping its normalisation and split.
// `anchors` hold the predictor to what it said before wherever the rows are silent: their target
// is the predictor's own prediction at the start (their results are not read), weighted by
// `anchor_weight` against the rows. A few rows alone would pull the whole function toward them.
void fine_tune(Predictor& predictor, const std::vector<TraceRecord>& records, int steps,
               double learning_rate, const std::vector<TraceRecord>& anchors = {},
               double anchor_weight = 1.0);

struct TargetMetrics {
  double spearman_rho = 0;
  double median_abs_pct_error = 0;
  double mean_baseline_median_abs_pct_error = 0;  // predicting the training mean for every row
};
struct PredictorMetrics {
  int64_t rows = 0;
  int64_t layers = 0;
  TargetMetrics cycles;
  TargetMetrics energy;
};
// Metrics over the records whose layer the predictor held out (held_out_only) or over all.
PredictorMetrics measure_predictor(Predictor& predictor, const std::vector<TraceRecord>& records,
                                   bool held_out_only);

// The mean over rows and both targets of (predicted ln - simulated ln)^2: what fine-tuning
// minimises, so the fair measure of whether it helped on other rows.
double mean_squared_log_error(Predictor& predictor, const std::vector<TraceRecord>& records);

double spearman_rho(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace dcp
