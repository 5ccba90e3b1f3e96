#include "mapper/predictor.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>

#include "arch/arch_fields.hpp"
#include "common/hash.hpp"
#include "common/input_error.hpp"

namespace dcp {
namespace {

const LayerType kLayerTypes[] = {LayerType::Conv, LayerType::DepthwiseConv, LayerType::Gemm,
                                 LayerType::Matmul};

// The hardware features, in the order of the feature schema that predictor files are saved with:
// the name the schema gives each, and the arch field (arch_fields.hpp column) it reads. The one
// without a column is the share of tensors double-buffered (double_buffered_share).
struct HardwareFeature {
  const char* name;
  const char* arch_column;
};
constexpr HardwareFeature kHardwareFeatures[] = {
    {"num_pes", "num_pes"},
    {"array_rows", "array_rows"},
    {"array_cols", "array_cols"},
    {"macs_per_pe", "macs_per_pe"},
    {"word_bytes", "word_bytes"},
    {"l0_bytes", "l0_bytes"},
    {"l1_bytes", "l1_bytes"},
    {"l2_bytes", "l2_bytes"},
    {"l1_bandwidth", "l1_bandwidth"},
    {"l2_bandwidth", "l2_bandwidth"},
    {"noc_bandwidth", "noc_bandwidth"},
    {"dram_bandwidth", "dram_bandwidth"},
    {"dram_latency", "dram_latency"},
    {"mac_pipeline_depth", "mac_pipeline_depth"},
    {"double_buffered", nullptr},
    {"systolic", "systolic"},
    {"energy.mac", "energy_mac_pj"},
    {"energy.l0", "energy_l0_pj"},
    {"energy.l1", "energy_l1_pj"},
    {"energy.l2", "energy_l2_pj"},
    {"energy.noc_hop", "energy_noc_hop_pj"},
    {"energy.dram", "energy_dram_pj"},
    {"energy.leakage_per_cycle", "energy_leakage_pj_per_cycle"},
};

double log2_positive(double value) {
  return std::log2(std::max(value, 1e-3));
}

}  // namespace

const std::vector<std::string>& hardware_parameter_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const HardwareFeature& feature : kHardwareFeatures) names.push_back(feature.name);
    return names;
  }();
  return kNames;
}

std::vector<double> hardware_parameters(const ArchSpec& arch) {
  // Where each feature's field sits in the arch table; looked up once, and a column the table
  // lacks fails here rather than feeding the model another field.
  static const std::vector<std::size_t> kPositions = [] {
    std::vector<std::size_t> positions;
    for (const HardwareFeature& feature : kHardwareFeatures)
      positions.push_back(feature.arch_column ? arch_field_position(feature.arch_column) : 0);
    return positions;
  }();
  const std::vector<double> fields = arch_field_numbers(arch);
  std::vector<double> parameters;
  for (std::size_t i = 0; i < std::size(kHardwareFeatures); ++i)
    parameters.push_back(kHardwareFeatures[i].arch_column ? fields[kPositions[i]]
                                                          : double_buffered_share(arch));
  return parameters;
}

const std::vector<std::string>& context_feature_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (Dim dim : kAllDims) names.push_back(std::string("log2_") + dim_letter(dim));
    names.push_back("log2_stride");
    names.push_back("log2_groups");
    for (LayerType type : kLayerTypes)
      names.push_back(std::string("type_") + layer_type_name(type));
    for (const std::string& parameter : hardware_parameter_names())
      names.push_back("log2_" + parameter);
    return names;
  }();
  return kNames;
}

std::vector<float> context_features(const Layer& layer, const ArchSpec& arch) {
  std::vector<float> features;
  for (int64_t dim : layer.dims()) features.push_back(static_cast<float>(std::log2(dim)));
  features.push_back(static_cast<float>(std::log2(layer.stride)));
  features.push_back(static_cast<float>(std::log2(layer.groups)));
  for (LayerType type : kLayerTypes) features.push_back(layer.type == type ? 1.0f : 0.0f);
  // Flags and zero energies go through log2 too (of at least 1e-3), so every hardware feature
  // has one meaning: a doubling of the parameter is one unit.
  for (double parameter : hardware_parameters(arch))
    features.push_back(static_cast<float>(log2_positive(parameter)));
  return features;
}

std::string feature_schema() {
  std::ostringstream schema;
  schema << "v2 code[" << kCodeSize << ": " << kNumLevels << " levels x " << kNumDims << " dims ";
  for (Dim dim : kAllDims) schema << dim_letter(dim);
  schema << " x (spatial share, priority, tile)] context[";
  for (const std::string& name : context_feature_names()) schema << name << ",";
  schema << "] targets[ln cycles, ln energy_pj]";
  return schema.str();
}

void append_feature_row(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                        FeatureRows& rows) {
  const std::vector<float> context = context_features(layer, arch);
  rows.context_size = static_cast<int64_t>(context.size());
  rows.context.insert(rows.context.end(), context.begin(), context.end());
  const CodeVector code = code_to_vector(encode_dataflow(layer, arch, dataflow));
  rows.code.insert(rows.code.end(), code.begin(), code.end());
}

Predictor::Predictor(const PredictorConfig& config)
    : Predictor(PredictorInfo{config, feature_schema(), {}, {}, {}},
                learned_model_library().create(static_cast<int64_t>(context_feature_names().size()),
                                               config)) {}

Predictor::Predictor(PredictorInfo info, std::unique_ptr<LearnedModel> model)
    : info_(std::move(info)), model_(std::move(model)) {}

std::vector<std::array<double, kNumTargets>> Predictor::predict(const FeatureRows& rows) {
  const std::vector<double> flat = model_->predict(rows);
  std::vector<std::array<double, kNumTargets>> values;
  for (size_t row = 0; row + 1 < flat.size(); row += kNumTargets)
    values.push_back({flat[row], flat[row + 1]});
  return values;
}

void Predictor::record_hardware_range(const std::vector<ArchSpec>& archs) {
  info_.hardware_min.clear();
  info_.hardware_max.clear();
  for (const ArchSpec& arch : archs) include_in_hardware_range(arch);
}

void Predictor::include_in_hardware_range(const ArchSpec& arch) {
  const std::vector<double> parameters = hardware_parameters(arch);
  if (info_.hardware_min.empty()) {
    info_.hardware_min = parameters;
    info_.hardware_max = parameters;
  }
  for (size_t i = 0; i < parameters.size(); ++i) {
    info_.hardware_min[i] = std::min(info_.hardware_min[i], parameters[i]);
    info_.hardware_max[i] = std::max(info_.hardware_max[i], parameters[i]);
  }
}

std::vector<std::string> Predictor::out_of_range_warnings(const ArchSpec& arch) const {
  std::vector<std::string> warnings;
  const std::vector<double> parameters = hardware_parameters(arch);
  const auto format = [](double value) {
    std::ostringstream text;
    text << value;
    return text.str();
  };
  for (size_t i = 0; i < parameters.size() && i < info_.hardware_min.size(); ++i) {
    if (parameters[i] < info_.hardware_min[i] || parameters[i] > info_.hardware_max[i]) {
      warnings.push_back(hardware_parameter_names()[i] + " = " + format(parameters[i]) +
                         " is outside the trained range " + format(info_.hardware_min[i]) + ".." +
                         format(info_.hardware_max[i]));
    }
  }
  return warnings;
}

bool is_held_out_layer(const std::string& layer_key, uint64_t seed, double test_fraction) {
  // The split was first written with this basis (FNV's offset basis missing a digit); it stays,
  // so that predictor files already trained keep the layers they held out.
  constexpr uint64_t kSplitBasis = 1469598103934665603ULL;
  const uint64_t mixed = mix64(fnv1a_64(layer_key, kSplitBasis) ^ (seed + kSplitmixIncrement));
  return static_cast<double>(mixed >> 11) / static_cast<double>(1ull << 53) < test_fraction;
}

bool Predictor::is_test_layer(const std::string& layer_key) const {
  return is_held_out_layer(layer_key, info_.config.seed, info_.config.test_fraction);
}

Predictor Predictor::clone() const {
  return Predictor(info_, model_->clone());
}

void Predictor::save(const std::string& path) const {
  model_->save(path, info_);
}

Predictor Predictor::load(const std::string& path) {
  PredictorInfo info;
  std::unique_ptr<LearnedModel> model = learned_model_library().load(path, feature_schema(), info);
  return Predictor(std::move(info), std::move(model));
}

}  // namespace dcp
