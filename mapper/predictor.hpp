#pragma once
// The neural cost model of DCP: an MLP that maps (layer, hardware, dataflow code) to log cycles
// and log energy. It is differentiable in the code, which is what propagation descends on.
// The saved file carries everything needed to use it safely: the feature schema, the
// normalisation statistics, the hardware range it was trained on, the split and the seed.
// The model itself is a LearnedModel (learned_model.hpp); this class adds what is not torch:
// the features, the split and the trained hardware range.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "mapper/learned_model.hpp"
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

// Appends one row (the context of `layer` on `arch` and the code of `dataflow`) to `rows`.
void append_feature_row(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                        FeatureRows& rows);

class Predictor {
 public:
  // A fresh, untrained model (weights drawn from config.seed).
  explicit Predictor(const PredictorConfig& config);

  // Predicted [cycles, energy pJ] per row.
  std::vector<std::array<double, kNumTargets>> predict(const FeatureRows& rows);

  void record_hardware_range(const std::vector<ArchSpec>& archs);
  // Widens the recorded range to cover `arch` (after fine-tuning on it).
  void include_in_hardware_range(const ArchSpec& arch);
  // Hardware parameters of `arch` outside the training range, one message per parameter
  // ("l2_bytes = 65536 is outside the trained range 110592..110592").
  std::vector<std::string> out_of_range_warnings(const ArchSpec& arch) const;
  bool is_test_layer(const std::string& layer_key) const;

  LearnedModel& model() { return *model_; }
  const PredictorConfig& config() const { return info_.config; }
  const PredictorInfo& info() const { return info_; }
  void set_training_summary(const std::string& summary) { info_.training_summary = summary; }
  const std::string& training_summary() const { return info_.training_summary; }

  // An independent copy (weights and statistics), to fine-tune without touching this one.
  Predictor clone() const;

  void save(const std::string& path) const;
  // Throws InputError naming the file for a missing, truncated or foreign file, or one made for
  // another feature schema.
  static Predictor load(const std::string& path);

 private:
  Predictor(PredictorInfo info, std::unique_ptr<LearnedModel> model);
  PredictorInfo info_;
  std::unique_ptr<LearnedModel> model_;
};

// Whether `layer_key` is in the held-out split for this seed and fraction: a stable hash, so
// `dcp train` and `dcp eval` agree without storing the key list.
bool is_held_out_layer(const std::string& layer_key, uint64_t seed, double test_fraction);

}  // namespace dcp
