#pragma once
// Few-shot transfer of a trained predictor to hardware it never saw: choose k dataflows to
// simulate on the new arch, fine-tune a copy of the predictor on them, and measure its error on
// separate rows of the new arch before and after. Zero shots is plain `dcp map` on the new arch.
#include <cstdint>
#include <functional>
#include <vector>

#include "mapper/objective.hpp"
#include "mapper/propagate.hpp"
#include "mapper/training.hpp"

namespace dcp {

struct TransferOptions {
  int shots = 32;
  // Share of the shots taken where the mapper will search: the best predicted dataflows that
  // zero-shot propagation reaches, one layer after another. The rest spread over the code space.
  double search_share = 0.5;
  int pool_per_layer = 24;    // sampler draws per layer that the spread shots are picked from
  int eval_samples = 256;     // rows of the new arch that measure the error; never trained on
  int fine_tune_steps = 400;  // the most; validation on held-back shots picks how many
  double fine_tune_learning_rate = 5e-4;
  // Weight of the anchors (pool_per_layer unsimulated draws per layer, priced by the predictor
  // before fine-tuning) against the shots; see fine_tune.
  double anchor_weight = 1.0;
  PropagationOptions propagation{24, 40};  // a short descent: it only has to find the region
  uint64_t seed = 1;
};

// A dataflow chosen for simulation on the new arch.
struct Shot {
  Layer layer;  // one instance
  Dataflow dataflow;
  bool from_search = false;  // from propagation (else spread over the code space)
};

// `options.shots` distinct dataflows over `layers` (legal on `arch`); a pure function of the
// inputs and the seed. No simulator calls.
std::vector<Shot> choose_shots(Predictor& predictor, const std::vector<Layer>& layers,
                               const ArchSpec& arch, const Objective& objective,
                               const TransferOptions& options);

struct TransferReport {
  std::vector<TraceRecord> shots;  // simulated, in the order chosen
  int64_t search_shots = 0;
  std::vector<TraceRecord> eval_rows;
  PredictorMetrics before;  // on eval_rows
  PredictorMetrics after;
  int fine_tune_steps = 0;      // chosen by validation on a quarter of the shots
  int64_t simulator_calls = 0;  // shots plus eval rows
};

// Simulates the shots and the eval rows, fine-tunes `predictor` in place on the shots and adds
// `arch` to its trained hardware range. `on_simulation` is called after each simulator call.
TransferReport transfer_predictor(Predictor& predictor, const std::vector<Layer>& layers,
                                  const ArchSpec& arch, const Objective& objective,
                                  const TransferOptions& options,
                                  const std::function<void()>& on_simulation);

}  // namespace dcp
