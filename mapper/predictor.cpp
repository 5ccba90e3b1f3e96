#include "mapper/predictor.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/hash.hpp"
#include "common/input_error.hpp"

namespace dcp {
namespace {

constexpr const char* kFileFormat = "dcp-predictor";
constexpr int64_t kFileVersion = 1;

const LayerType kLayerTypes[] = {LayerType::Conv, LayerType::DepthwiseConv, LayerType::Gemm,
                                 LayerType::Matmul};

// Positions in the context row that the code features need.
constexpr int kContextLog2Dim = 0;  // K, C, Y, X, R, S, N follow in order
constexpr int kContextLog2Stride = kNumDims;
constexpr int kContextTypeMatmul = kNumDims + 2 + 3;  // the one-hot after dims, stride, groups
constexpr int kNumLayerFeatures = kNumDims + 2 + 4;   // dims, stride, groups, type one-hot
constexpr int kContextLog2Pes = kNumLayerFeatures;
constexpr int kContextLog2Lanes = kNumLayerFeatures + 3;  // after num_pes, rows, cols

double log2_positive(double value) {
  return std::log2(std::max(value, 1e-3));
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// What tells feature schemas apart, short enough for an error line: the version and the code
// layout ("v2 code[63: ...]"), without the context's names.
std::string schema_name(const std::string& schema) {
  const std::string version = schema.substr(0, schema.find(' '));
  const std::size_t code = schema.find("code[");
  if (code == std::string::npos) return version;
  return version + " " + schema.substr(code, schema.find(']', code) + 1 - code);
}

torch::Tensor log2_sum_exp2(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::log2(torch::exp2(a) + torch::exp2(b));
}

}  // namespace

const std::vector<std::string>& hardware_parameter_names() {
  static const std::vector<std::string> kNames = {"num_pes",
                                                  "array_rows",
                                                  "array_cols",
                                                  "macs_per_pe",
                                                  "word_bytes",
                                                  "l0_bytes",
                                                  "l1_bytes",
                                                  "l2_bytes",
                                                  "l1_bandwidth",
                                                  "l2_bandwidth",
                                                  "noc_bandwidth",
                                                  "dram_bandwidth",
                                                  "dram_latency",
                                                  "mac_pipeline_depth",
                                                  "double_buffered",
                                                  "systolic",
                                                  "energy.mac",
                                                  "energy.l0",
                                                  "energy.l1",
                                                  "energy.l2",
                                                  "energy.noc_hop",
                                                  "energy.dram",
                                                  "energy.leakage_per_cycle"};
  return kNames;
}

std::vector<double> hardware_parameters(const ArchSpec& arch) {
  const auto as_double = [](int64_t value) { return static_cast<double>(value); };
  return {as_double(arch.num_pes),
          as_double(arch.array_rows),
          as_double(arch.array_cols),
          as_double(arch.macs_per_pe),
          as_double(arch.word_bytes),
          as_double(arch.l0_bytes),
          as_double(arch.l1_bytes),
          as_double(arch.l2_bytes),
          arch.l1_bandwidth,
          arch.l2_bandwidth,
          arch.noc_bandwidth,
          arch.dram_bandwidth,
          as_double(arch.dram_latency),
          as_double(arch.mac_pipeline_depth),
          double_buffered_share(arch),
          arch.systolic ? 1.0 : 0.0,
          arch.energy.mac_pj,
          arch.energy.l0_pj,
          arch.energy.l1_pj,
          arch.energy.l2_pj,
          arch.energy.noc_hop_pj,
          arch.energy.dram_pj,
          arch.energy.leakage_pj_per_cycle};
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

PredictorNetImpl::PredictorNetImpl(int64_t input_size, const std::vector<int64_t>& hidden_sizes) {
  layers = torch::nn::Sequential();
  int64_t width = input_size;
  for (int64_t hidden : hidden_sizes) {
    layers->push_back(torch::nn::Linear(width, hidden));
    layers->push_back(torch::nn::SiLU());
    width = hidden;
  }
  layers->push_back(torch::nn::Linear(width, kNumTargets));
  register_module("layers", layers);
}

torch::Tensor PredictorNetImpl::forward(torch::Tensor input) {
  return layers->forward(input);
}

CodeGeometry code_geometry(const torch::Tensor& context, const torch::Tensor& code) {
  const int64_t batch = code.size(0);
  const torch::Tensor genes =
      code.reshape({batch, kNumLevels, kCodeGenesPerLevel, kCodeFloatsPerGene});
  CodeGeometry geometry;
  geometry.spatial_share = genes.select(3, 0);
  geometry.priority = genes.select(3, 1);
  geometry.tile_fraction = genes.select(3, 2);

  // Absolute tiles and fan-outs in log2: the buffer and parallelism the dataflow actually uses,
  // which the fractions only give relative to their parents and units.
  const torch::Tensor log2_dims =
      context.slice(1, kContextLog2Dim, kContextLog2Dim + kNumDims).unsqueeze(1);
  geometry.log2_tile = log2_dims + torch::cumsum(geometry.tile_fraction, 1);
  const torch::Tensor log2_pes = context.select(1, kContextLog2Pes);
  const torch::Tensor log2_lanes = context.select(1, kContextLog2Lanes);
  const auto dim_fanouts = [&](const torch::Tensor& log2_units, int level) {
    return log2_units.unsqueeze(1) + geometry.spatial_share.select(1, level);
  };
  const torch::Tensor l2_fanouts = dim_fanouts(log2_pes, 0);
  const torch::Tensor log2_clusters = l2_fanouts.sum(1);
  const torch::Tensor log2_pes_per_cluster = log2_pes - log2_clusters;
  const torch::Tensor l1_fanouts = dim_fanouts(log2_pes_per_cluster, 1);
  const torch::Tensor l0_fanouts = dim_fanouts(log2_lanes, 2);
  geometry.log2_units = torch::stack({log2_pes, log2_pes_per_cluster, log2_lanes}, 1);
  geometry.log2_dim_fanout = torch::stack({l2_fanouts, l1_fanouts, l0_fanouts}, 1);
  geometry.log2_fanout = geometry.log2_dim_fanout.sum(2);

  // Footprints per level and tensor in log2 elements; the input halo is (y - 1) * stride + r.
  // Inputs and outputs have one copy per sample; weights too in a matmul, whose second operand
  // is an activation.
  const torch::Tensor log2_stride = context.select(1, kContextLog2Stride).unsqueeze(1);
  const torch::Tensor is_matmul = context.select(1, kContextTypeMatmul).unsqueeze(1);
  const auto tile = [&](Dim dim) { return geometry.log2_tile.select(2, dim_index(dim)); };
  const auto halo = [&](Dim out, Dim filter) {
    const torch::Tensor strided =
        torch::log2(torch::clamp_min(torch::exp2(tile(out)) - 1, 0) + 1e-6) + log2_stride;
    return log2_sum_exp2(strided, tile(filter));
  };
  const torch::Tensor log2_input =
      tile(Dim::C) + halo(Dim::Y, Dim::R) + halo(Dim::X, Dim::S) + tile(Dim::N);
  const torch::Tensor log2_weight =
      tile(Dim::K) + tile(Dim::C) + tile(Dim::R) + tile(Dim::S) + is_matmul * tile(Dim::N);
  const torch::Tensor log2_output = tile(Dim::K) + tile(Dim::Y) + tile(Dim::X) + tile(Dim::N);
  geometry.log2_footprint = torch::stack({log2_input, log2_weight, log2_output}, 2);
  return geometry;
}

namespace {

torch::Tensor code_features(const torch::Tensor& context, const torch::Tensor& code) {
  const CodeGeometry geometry = code_geometry(context, code);
  const int64_t batch = code.size(0);
  return torch::cat(
      {geometry.spatial_share.reshape({batch, -1}), geometry.priority.reshape({batch, -1}),
       geometry.tile_fraction.reshape({batch, -1}), geometry.log2_tile.reshape({batch, -1}),
       geometry.log2_dim_fanout.reshape({batch, -1}), geometry.log2_fanout,
       geometry.log2_footprint.reshape({batch, -1})},
      1);
}

}  // namespace

Predictor::Predictor(const PredictorConfig& config) : config_(config) {
  const int64_t input_size =
      static_cast<int64_t>(context_feature_names().size()) +
      code_features(torch::zeros({1, static_cast<int64_t>(context_feature_names().size())}),
                    torch::zeros({1, kCodeSize}))
          .size(1);
  torch::manual_seed(config.seed);
  net_ = PredictorNet(input_size, config.hidden_sizes);
  input_mean_ = torch::zeros({input_size});
  input_std_ = torch::ones({input_size});
  target_mean_ = torch::zeros({kNumTargets});
  target_std_ = torch::ones({kNumTargets});
}

torch::Tensor Predictor::input_features(const torch::Tensor& context, const torch::Tensor& code) {
  return torch::cat({context, code_features(context, code)}, 1);
}

void Predictor::fit_normalisation(const torch::Tensor& context, const torch::Tensor& code,
                                  const torch::Tensor& log_targets) {
  torch::NoGradGuard no_grad;
  const torch::Tensor inputs = input_features(context, code);
  input_mean_ = inputs.mean(0);
  // A feature constant over the training set (one arch's parameters) keeps unit scale, so it
  // stays 0 after centring instead of dividing by zero.
  input_std_ = inputs.std(0);
  input_std_ = torch::where(input_std_ < 1e-6, torch::ones_like(input_std_), input_std_);
  target_mean_ = log_targets.mean(0);
  target_std_ = log_targets.std(0).clamp_min(1e-6);
}

torch::Tensor Predictor::normalise_targets(const torch::Tensor& log_targets) const {
  return (log_targets - target_mean_) / target_std_;
}

torch::Tensor Predictor::predict_normalised(const torch::Tensor& context,
                                            const torch::Tensor& code) {
  return net_->forward((input_features(context, code) - input_mean_) / input_std_);
}

torch::Tensor Predictor::predict_log(const torch::Tensor& context, const torch::Tensor& code) {
  return predict_normalised(context, code) * target_std_ + target_mean_;
}

void Predictor::record_hardware_range(const std::vector<ArchSpec>& archs) {
  hardware_min_.clear();
  hardware_max_.clear();
  for (const ArchSpec& arch : archs) include_in_hardware_range(arch);
}

void Predictor::include_in_hardware_range(const ArchSpec& arch) {
  const std::vector<double> parameters = hardware_parameters(arch);
  if (hardware_min_.empty()) {
    hardware_min_ = parameters;
    hardware_max_ = parameters;
  }
  for (size_t i = 0; i < parameters.size(); ++i) {
    hardware_min_[i] = std::min(hardware_min_[i], parameters[i]);
    hardware_max_[i] = std::max(hardware_max_[i], parameters[i]);
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
  for (size_t i = 0; i < parameters.size() && i < hardware_min_.size(); ++i) {
    if (parameters[i] < hardware_min_[i] || parameters[i] > hardware_max_[i]) {
      warnings.push_back(hardware_parameter_names()[i] + " = " + format(parameters[i]) +
                         " is outside the trained range " + format(hardware_min_[i]) + ".." +
                         format(hardware_max_[i]));
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
  return is_held_out_layer(layer_key, config_.seed, config_.test_fraction);
}

std::array<double, kNumTargets> Predictor::mean_prediction() const {
  return {std::exp(target_mean_[0].item<double>()), std::exp(target_mean_[1].item<double>())};
}

Predictor Predictor::clone() const {
  torch::serialize::OutputArchive archive;
  write(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  std::istringstream copy(bytes.str());
  torch::serialize::InputArchive restored;
  restored.load_from(copy);
  return read(restored, "predictor copy");
}

void Predictor::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  write(archive);
  try {
    archive.save_to(path);
  } catch (const c10::Error&) {
    throw InputError(path, "", "cannot write the predictor file");
  }
}

void Predictor::write(torch::serialize::OutputArchive& archive) const {
  archive.write("format", c10::IValue(std::string(kFileFormat)));
  archive.write("version", c10::IValue(kFileVersion));
  archive.write("schema", c10::IValue(feature_schema()));
  archive.write("hidden_sizes", torch::tensor(config_.hidden_sizes, torch::kInt64));
  archive.write("seed", c10::IValue(static_cast<int64_t>(config_.seed)));
  archive.write("test_fraction", c10::IValue(config_.test_fraction));
  archive.write("training_summary", c10::IValue(training_summary_));
  archive.write("input_mean", input_mean_);
  archive.write("input_std", input_std_);
  archive.write("target_mean", target_mean_);
  archive.write("target_std", target_std_);
  archive.write("hardware_min", torch::tensor(hardware_min_, torch::kFloat64));
  archive.write("hardware_max", torch::tensor(hardware_max_, torch::kFloat64));
  torch::serialize::OutputArchive net_archive;
  net_->save(net_archive);
  archive.write("net", net_archive);
}

Predictor Predictor::load(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception&) {
    // Torch reports a damaged archive as c10::Error or, when the damage lands in the archive's
    // TorchScript code, as torch::jit::ErrorReport; both are std::exceptions.
    throw InputError(
        path, "", "not a readable dcp predictor file (missing, truncated or not a torch archive)");
  }
  return read(archive, path);
}

Predictor Predictor::read(torch::serialize::InputArchive& archive, const std::string& source) {
  const auto refuse = [&](const std::string& field, const std::string& problem) {
    return InputError(source, field, problem);
  };
  try {
    c10::IValue value;
    if (!archive.try_read("format", value) || !value.isString() ||
        value.toStringRef() != kFileFormat)
      throw refuse("format", "not a dcp predictor file");
    archive.read("version", value);
    if (value.toInt() != kFileVersion)
      throw refuse("version", std::to_string(value.toInt()) + " is not supported (allowed: " +
                                  std::to_string(kFileVersion) + ")");
    archive.read("schema", value);
    if (value.toStringRef() != feature_schema())
      throw refuse("schema", "the predictor was trained for feature schema '" +
                                 schema_name(value.toStringRef()) + "', this dcp reads '" +
                                 schema_name(feature_schema()) +
                                 "'; retrain it with this dcp (`dcp train`)");
    PredictorConfig config;
    torch::Tensor tensor;
    archive.read("hidden_sizes", tensor);
    config.hidden_sizes.assign(tensor.data_ptr<int64_t>(),
                               tensor.data_ptr<int64_t>() + tensor.numel());
    archive.read("seed", value);
    config.seed = static_cast<uint64_t>(value.toInt());
    archive.read("test_fraction", value);
    config.test_fraction = value.toDouble();
    Predictor predictor(config);
    archive.read("training_summary", value);
    predictor.training_summary_ = value.toStringRef();
    archive.read("input_mean", predictor.input_mean_);
    archive.read("input_std", predictor.input_std_);
    archive.read("target_mean", predictor.target_mean_);
    archive.read("target_std", predictor.target_std_);
    const auto read_doubles = [&](const char* key, std::vector<double>& values) {
      torch::Tensor stored;  // a fresh tensor: reading into a defined one keeps its dtype
      archive.read(key, stored);
      stored = stored.to(torch::kFloat64).contiguous();
      values.assign(stored.data_ptr<double>(), stored.data_ptr<double>() + stored.numel());
    };
    read_doubles("hardware_min", predictor.hardware_min_);
    read_doubles("hardware_max", predictor.hardware_max_);
    torch::serialize::InputArchive net_archive;
    archive.read("net", net_archive);
    predictor.net_->load(net_archive);
    if (predictor.input_mean_.numel() != predictor.input_std_.numel() ||
        predictor.target_mean_.numel() != kNumTargets)
      throw refuse("input_mean", "normalisation statistics do not match the network");
    return predictor;
  } catch (const InputError&) {
    throw;
  } catch (const c10::Error& error) {
    throw refuse("", "corrupt predictor file: " + first_line(error.what_without_backtrace()));
  } catch (const std::exception& error) {
    throw refuse("", "corrupt predictor file: " + first_line(error.what()));
  }
}

}  // namespace dcp
