#pragma once
// The neural cost model of DCP: an MLP that maps (layer, hardware, dataflow code) to log cycles
// and log energy. It is differentiable in the code, which is what propagation descends on.
// The saved file carries everything needed to use it safely: the feature schema, the
// normalisation statistics, the hardware range it was trained on, the split and the seed.
#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "mapper/dataflow_code.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// Context features: log2 layer dims and log2 hardware parameters, one row per (layer, arch).
const std::vector<std::string>& context_feature_names();
std::vector<float> context_features(const Layer& layer, const ArchSpec& arch);
// The hardware parameters the predictor sees, in their own units (their ranges are recorded).
const std::vector<std::string>& hardware_parameter_names();
std::vector<double> hardware_parameters(const ArchSpec& arch);
// The predictor's feature schema: "v<version> code[<layout>] context[<names>] targets[...]". A
// file with another schema is refused on load, naming the version and code it was made for.
std::string feature_schema();

// What a batch of codes means in absolute terms, differentiably: the quantities the predictor
// sees besides the raw genes, and that propagation's penalties bound.
struct CodeGeometry {
  torch::Tensor spatial_share;    // [B, levels, dims]
  torch::Tensor priority;         // [B, levels, dims]
  torch::Tensor tile_fraction;    // [B, levels, dims]
  torch::Tensor log2_tile;        // [B, levels, dims]: absolute tiles
  torch::Tensor log2_units;       // [B, levels]: PEs, PEs per cluster the L2 fan-out leaves, lanes
  torch::Tensor log2_dim_fanout;  // [B, levels, dims]: log2 units + share (0: not unrolled)
  torch::Tensor log2_fanout;      // [B, levels]: clusters, PEs per cluster, lanes (sum over dims)
  torch::Tensor log2_footprint;   // [B, levels, tensors]: elements, input halo included
};
// `context` is the raw context_features rows, `code` the [B, kCodeSize] codes.
CodeGeometry code_geometry(const torch::Tensor& context, const torch::Tensor& code);

// The targets, in natural log: [log cycles, log energy pJ].
constexpr int kNumTargets = 2;

struct PredictorConfig {
  std::vector<int64_t> hidden_sizes = {512, 512, 256};
  uint64_t seed = 1;
  double test_fraction = 0.2;  // share of layers held out, chosen by hashing the layer key
};

struct PredictorNetImpl : torch::nn::Module {
  PredictorNetImpl(int64_t input_size, const std::vector<int64_t>& hidden_sizes);
  torch::Tensor forward(torch::Tensor input);
  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(PredictorNet);

class Predictor {
 public:
  explicit Predictor(const PredictorConfig& config);

  // [B, context] and [B, kCodeSize] (raw, unnormalised) -> [B, 2] natural-log cycles and energy.
  torch::Tensor predict_log(const torch::Tensor& context, const torch::Tensor& code);

  // Fits the normalisation to training inputs (raw features and targets).
  void fit_normalisation(const torch::Tensor& context, const torch::Tensor& code,
                         const torch::Tensor& log_targets);
  // Normalised-target predictions, for the training loss.
  torch::Tensor predict_normalised(const torch::Tensor& context, const torch::Tensor& code);
  torch::Tensor normalise_targets(const torch::Tensor& log_targets) const;
  void record_hardware_range(const std::vector<ArchSpec>& archs);
  // Widens the recorded range to cover `arch` (after fine-tuning on it).
  void include_in_hardware_range(const ArchSpec& arch);
  // Hardware parameters of `arch` outside the training range, one message per parameter
  // ("l2_bytes = 65536 is outside the trained range 110592..110592").
  std::vector<std::string> out_of_range_warnings(const ArchSpec& arch) const;
  bool is_test_layer(const std::string& layer_key) const;

  PredictorNet& net() { return net_; }
  const PredictorConfig& config() const { return config_; }
  void set_training_summary(const std::string& summary) { training_summary_ = summary; }
  const std::string& training_summary() const { return training_summary_; }

  // exp(target mean): what a predict-the-mean baseline says, [cycles, energy pJ].
  std::array<double, kNumTargets> mean_prediction() const;

  // An independent copy (weights and statistics), to fine-tune without touching this one.
  Predictor clone() const;

  void save(const std::string& path) const;
  void write(torch::serialize::OutputArchive& archive) const;
  // Throws InputError naming the file for a missing, truncated or foreign file, or one made for
  // another feature schema.
  static Predictor load(const std::string& path);
  static Predictor read(torch::serialize::InputArchive& archive, const std::string& source);

 private:
  torch::Tensor input_features(const torch::Tensor& context, const torch::Tensor& code);
  PredictorConfig config_;
  PredictorNet net_{nullptr};
  torch::Tensor input_mean_, input_std_, target_mean_, target_std_;
  std::vector<double> hardware_min_, hardware_max_;
  std::string training_summary_;
};

// Whether `layer_key` is in the held-out split for this seed and fraction: a stable hash, so
// `dcp train` and `dcp eval` agree without storing the key list.
bool is_held_out_layer(const std::string& layer_key, uint64_t seed, double test_fraction);

}  // namespace dcp
