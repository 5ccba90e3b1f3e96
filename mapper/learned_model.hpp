#pragma once
// The learned model's one door, free of torch: the MLP behind the predictor, its normalisation,
// its file, its fitting and the gradient descent on dataflow codes, on plain rows of floats.
// Torch lives only in learned_model.cpp, built as the shared library libdcp_learned.so that
// learned_model_library() opens on first use: commands that need no predictor (simulate, sweep,
// search, ...) never load libtorch (about 0.6 s and 170 MB), and a build without torch
// (DCP_WITH_TORCH=OFF) still has every other command.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mapper/dataflow_code.hpp"
#include "mapper/objective.hpp"

namespace dcp {

// The targets, in natural log: [log cycles, log energy pJ].
constexpr int kNumTargets = 2;

// Positions in a context row (context_features) that the model's code features read.
constexpr int kContextLog2Dim = 0;  // K, C, Y, X, R, S, N follow in order
constexpr int kContextLog2Stride = kNumDims;
constexpr int kContextTypeMatmul = kNumDims + 2 + 3;  // the one-hot after dims, stride, groups
constexpr int kNumLayerFeatures = kNumDims + 2 + 4;   // dims, stride, groups, type one-hot
constexpr int kContextLog2Pes = kNumLayerFeatures;
constexpr int kContextLog2Lanes = kNumLayerFeatures + 3;  // after num_pes, rows, cols

struct PredictorConfig {
  std::vector<int64_t> hidden_sizes = {512, 512, 256};
  uint64_t seed = 1;
  double test_fraction = 0.2;  // share of layers held out, chosen by hashing the layer key
};

// What a predictor file holds besides the weights and the normalisation.
struct PredictorInfo {
  PredictorConfig config;
  std::string schema;  // feature_schema() when written; a file with another one is refused
  std::vector<double> hardware_min, hardware_max;  // per hardware_parameter_names()
  std::string training_summary;
};

// Rows of model input: the raw context features and the raw code of each row, and for fitting
// the natural-log targets.
struct FeatureRows {
  int64_t context_size = 0;
  std::vector<float> context;      // rows x context_size
  std::vector<float> code;         // rows x kCodeSize
  std::vector<float> log_targets;  // rows x kNumTargets (fitting and errors only)
  int64_t rows() const { return static_cast<int64_t>(code.size()) / kCodeSize; }
};

struct EpochReport {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  int64_t rows_done = 0;  // training rows processed in this run (for rate and ETA)
};

struct FitOptions {
  int epochs = 60;
  int64_t batch_size = 256;
  double learning_rate = 2e-3;
  uint64_t shuffle_seed = 1;
  // Written after every epoch and removed at the end; a rerun with the same fingerprint resumes
  // from it. Empty: no checkpoints.
  std::string checkpoint_path;
  std::string fingerprint;  // the data and options that shape the run
};

// Codes descending the predicted objective: rows in groups (one per layer), each with its
// normalising reference and buffer capacities.
struct DescentProblem {
  FeatureRows start;                     // context and starting codes
  std::vector<float> log_reference;      // rows x kNumTargets: ln reference cycles and energy
  std::vector<float> log2_capacity;      // rows x kNumLevels: elements each level holds
  std::vector<int64_t> group_first_row;  // per group, then the row count
  Objective objective;
  double learning_rate = 0.05;
  double penalty_weight = 4;
  // One dataflow shape shared by rows (a whole network's layers): when `code_of_row` is set,
  // every row takes its priority genes (its loop orders) from the shape `code_of_row` names in
  // `shape_code` (shapes x kCodeSize), and keeps its own spatial-share and tile genes (its
  // layer's fan-out sizes and tiles). A shape's loss is the log of its rows' objectives summed with
  // `row_weight`, so a layer counts as often as it occurs; each row's legality penalty counts
  // with its weight.
  std::vector<int64_t> code_of_row;
  std::vector<float> row_weight;
  std::vector<float> shape_code;
};

struct DescentPrices {
  std::vector<double> predicted;   // rows x kNumTargets: cycles, energy pJ
  std::vector<double> group_best;  // per group: the least objective
  std::vector<double> group_mean;  // per group: the mean objective
};

// One descent; the model's weights stay frozen while it lives.
class CodeDescent {
 public:
  virtual ~CodeDescent() = default;
  // The relaxed codes now, rows x kCodeSize (with a shape's genes in place).
  virtual std::vector<float> codes() const = 0;
  // Prices `decoded` (the current codes decoded to legal dataflows, rows x kCodeSize) as a
  // straight-through estimator: the values are the decoded ones', the gradient flows to the codes.
  virtual DescentPrices price(const std::vector<float>& decoded) = 0;
  // One Adam step on the last price's objective plus the legality penalty; share and tile genes
  // are then projected back to <= 0.
  virtual void step() = 0;
};

class LearnedModel {
 public:
  virtual ~LearnedModel() = default;
  // An independent copy, to fine-tune without touching this one.
  virtual std::unique_ptr<LearnedModel> clone() const = 0;
  virtual void save(const std::string& path, const PredictorInfo& info) const = 0;
  // rows x kNumTargets: predicted cycles and energy pJ.
  virtual std::vector<double> predict(const FeatureRows& rows) = 0;
  // The mean over rows and targets of (predicted ln - ln target)^2.
  virtual double mean_squared_log_error(const FeatureRows& rows) = 0;
  // exp(target mean): what a predict-the-mean baseline says, [cycles, energy pJ].
  virtual std::array<double, kNumTargets> mean_prediction() const = 0;
  // Fits the normalisation to `rows`, then the weights by minibatch Adam with cosine decay.
  // `info` goes into the checkpoints.
  virtual void fit(const FeatureRows& rows, const FitOptions& options, const PredictorInfo& info,
                   const std::function<void(const EpochReport&)>& on_batch) = 0;
  // `steps` full-batch Adam steps on `rows`, keeping the normalisation; `anchors` are held to
  // the model's predictions before the first step, weighted by `anchor_weight`.
  virtual void fine_tune(const FeatureRows& rows, int steps, double learning_rate,
                         const FeatureRows& anchors, double anchor_weight) = 0;
  virtual std::unique_ptr<CodeDescent> descend(const DescentProblem& problem) = 0;
};

// The entry points of libdcp_learned.so.
class LearnedModelLibrary {
 public:
  virtual ~LearnedModelLibrary() = default;
  virtual std::unique_ptr<LearnedModel> create(int64_t context_size,
                                               const PredictorConfig& config) const = 0;
  // Throws InputError naming `path` for a missing, truncated or foreign file, or one whose
  // schema is not `schema`.
  virtual std::unique_ptr<LearnedModel> load(const std::string& path, const std::string& schema,
                                             PredictorInfo& info) const = 0;
  // Intra-op threads of every later call (torch's default is all cores); see
  // set_learned_model_threads.
  virtual void set_threads(int threads) const = 0;
};

// Opens libdcp_learned.so on the first call, after prepare_openmp_environment() and
// prepare_openblas_environment(). Throws
// InputError when this build has no predictor support (DCP_WITH_TORCH=OFF) or the library cannot
// be opened.
const LearnedModelLibrary& learned_model_library();

// Sets OMP_WAIT_POLICY=PASSIVE unless the user set it or GOMP_SPINCOUNT. libgomp reads them once,
// when libtorch loads it, and its default spins idle workers for milliseconds after every
// parallel region: on a busy machine the spinning threads take the cores the work needs (20
// epochs on 3,000 rows, two shared cores: 89 s with the default, 21 s passive).
void prepare_openmp_environment();

// The OpenBLAS kernels for a CPU with these features: "SkylakeX" with AVX-512 (F, BW, DQ, VL),
// "Haswell" with AVX2 and FMA, else null (OpenBLAS's own choice).
const char* openblas_core_for(bool avx512, bool avx2_fma);

// Sets OPENBLAS_CORETYPE to openblas_core_for(this CPU) unless the user set it. OpenBLAS picks its
// kernels by the CPU's model number, and on a CPU it does not know (a virtual machine's generic
// "Intel Xeon Processor", as on these machines) it falls back to its SSE3 (Prescott) kernels:
// mapping one ResNet-50 layer took 7.3 s with them and 4.0 s with the AVX-512 ones.
void prepare_openblas_environment();

// Torch's intra-op threads: `requested` when positive (the command's explicit choice), else
// `omp_num_threads` (OMP_NUM_THREADS, may be null) when it starts a positive whole number (a
// list "4,2" gives its first), else `fallback`.
int resolve_threads(int requested, const char* omp_num_threads, int fallback);

// Opens the library and sets its threads to resolve_threads(requested, OMP_NUM_THREADS, fallback),
// and OpenBLAS's to the same unless OPENBLAS_NUM_THREADS is set (read when the library first
// opens: call this before anything loads a predictor).
void set_learned_model_threads(int requested, int fallback);

}  // namespace dcp

// The symbol learned_model_library() looks up in the shared library.
extern "C" const dcp::LearnedModelLibrary* dcp_learned_model_library();
