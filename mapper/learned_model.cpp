// The learned model on libtorch, after the libtorch C++ examples: an nn::Sequential MLP, Adam,
// and torch::serialize archives. Built alone as libdcp_learned.so (see learned_model.hpp).
#include "mapper/learned_model.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <sstream>

#include "common/input_error.hpp"

namespace dcp {
namespace {

constexpr const char* kFileFormat = "dcp-predictor";
constexpr int64_t kFileVersion = 1;

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

torch::Tensor rows_tensor(const std::vector<float>& values, int64_t columns) {
  return torch::from_blob(const_cast<float*>(values.data()),
                          {static_cast<int64_t>(values.size()) / columns, columns}, torch::kFloat32)
      .clone();
}

std::vector<double> doubles(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.to(torch::kFloat64).contiguous();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

torch::Tensor log2_sum_exp2(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::log2(torch::exp2(a) + torch::exp2(b));
}

// What a batch of codes means in absolute terms, differentiably: the quantities the model sees
// besides the raw genes, and that the descent's penalties bound.
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

// `context` is the raw context feature rows, `code` the [B, kCodeSize] codes.
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

// log(objective) from log predictions; the log keeps steps scale-free across layers whose
// cycles differ by orders of magnitude.
torch::Tensor log_objective(const torch::Tensor& log_predicted, const torch::Tensor& log_reference,
                            const Objective& objective) {
  const torch::Tensor ratio = torch::exp(log_predicted - log_reference);
  const torch::Tensor latency = ratio.select(1, 0), energy = ratio.select(1, 1);
  return torch::log(objective.latency * latency + objective.energy * energy +
                    objective.edp * latency * energy);
}

// Squared distance outside the legal region, from the analytic footprint: buffer overflow per
// level, shares and fractions above their whole, tiles and fan-outs below one, and levels whose
// fan-outs together take more units than they have.
torch::Tensor legality_penalty(const CodeGeometry& geometry, const torch::Tensor& log2_capacity) {
  const torch::Tensor log2_footprint =
      torch::logsumexp(geometry.log2_footprint * M_LN2, 2) / M_LN2;  // sum over tensors
  const auto squared = [](const torch::Tensor& excess) { return torch::relu(excess).pow(2); };
  return squared(log2_footprint - log2_capacity).sum(1) +
         squared(geometry.tile_fraction).sum({1, 2}) + squared(geometry.spatial_share).sum({1, 2}) +
         squared(-geometry.log2_tile).sum({1, 2}) + squared(-geometry.log2_dim_fanout).sum({1, 2}) +
         squared(geometry.log2_fanout - geometry.log2_units).sum(1);
}

struct NetImpl : torch::nn::Module {
  NetImpl(int64_t input_size, const std::vector<int64_t>& hidden_sizes) {
    int64_t width = input_size;
    for (int64_t hidden : hidden_sizes) {
      layers->push_back(torch::nn::Linear(width, hidden));
      layers->push_back(torch::nn::SiLU());
      width = hidden;
    }
    layers->push_back(torch::nn::Linear(width, kNumTargets));
    register_module("layers", layers);
  }
  torch::Tensor forward(torch::Tensor input) { return layers->forward(input); }
  torch::nn::Sequential layers;
};
TORCH_MODULE(Net);

class TorchModel : public LearnedModel {
 public:
  TorchModel(int64_t context_size, const PredictorConfig& config)
      : context_size_(context_size), config_(config) {
    const int64_t input_size =
        context_size +
        code_features(torch::zeros({1, context_size}), torch::zeros({1, kCodeSize})).size(1);
    torch::manual_seed(config.seed);
    net_ = Net(input_size, config.hidden_sizes);
    input_mean_ = torch::zeros({input_size});
    input_std_ = torch::ones({input_size});
    target_mean_ = torch::zeros({kNumTargets});
    target_std_ = torch::ones({kNumTargets});
  }

  std::unique_ptr<LearnedModel> clone() const override {
    // The copy's file fields are the model's own; the caller keeps the rest of its PredictorInfo.
    PredictorInfo info;
    info.config = config_;
    torch::serialize::OutputArchive archive;
    write(archive, info);
    std::ostringstream bytes;
    archive.save_to(bytes);
    std::istringstream copy(bytes.str());
    torch::serialize::InputArchive restored;
    restored.load_from(copy);
    return read(restored, "predictor copy", "", info);
  }

  void save(const std::string& path, const PredictorInfo& info) const override {
    torch::serialize::OutputArchive archive;
    write(archive, info);
    try {
      archive.save_to(path);
    } catch (const c10::Error&) {
      throw InputError(path, "", "cannot write the predictor file");
    }
  }

  std::vector<double> predict(const FeatureRows& rows) override {
    torch::NoGradGuard no_grad;
    return doubles(predict_log(context(rows), code(rows)).exp());
  }

  double mean_squared_log_error(const FeatureRows& rows) override {
    torch::NoGradGuard no_grad;
    return torch::mse_loss(predict_log(context(rows), code(rows)), targets(rows)).item<double>();
  }

  std::array<double, kNumTargets> mean_prediction() const override {
    return {std::exp(target_mean_[0].item<double>()), std::exp(target_mean_[1].item<double>())};
  }

  void fit(const FeatureRows& rows, const FitOptions& options, const PredictorInfo& info,
           const std::function<void(const EpochReport&)>& on_batch) override {
    const torch::Tensor context_rows = context(rows), code_rows = code(rows);
    fit_normalisation(context_rows, code_rows, targets(rows));
    const torch::Tensor normalised = normalise_targets(targets(rows));
    torch::optim::Adam optimizer(net_->parameters(),
                                 torch::optim::AdamOptions(options.learning_rate));
    const int first_epoch = resume_checkpoint(options, optimizer);

    const int64_t count = rows.rows();
    std::vector<int64_t> order(static_cast<size_t>(count));
    EpochReport report;
    for (int epoch = first_epoch; epoch < options.epochs; ++epoch) {
      // Cosine decay: large steps early, fine ones at the end. Set per epoch from the epoch index
      // alone, so a resumed run follows the same schedule.
      const double learning_rate =
          options.learning_rate * 0.5 * (1 + std::cos(M_PI * epoch / options.epochs));
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate);
      std::iota(order.begin(), order.end(), 0);
      std::mt19937_64 shuffle_rng(options.shuffle_seed * 1000003 + static_cast<uint64_t>(epoch));
      std::shuffle(order.begin(), order.end(), shuffle_rng);
      const torch::Tensor permutation = torch::tensor(order, torch::kInt64);
      double loss_sum = 0;
      int64_t batches = 0;
      report.epoch = epoch + 1;
      for (int64_t start = 0; start < count; start += options.batch_size) {
        const torch::Tensor batch =
            permutation.slice(0, start, std::min(count, start + options.batch_size));
        optimizer.zero_grad();
        const torch::Tensor loss =
            torch::mse_loss(predict_normalised(context_rows.index_select(0, batch),
                                               code_rows.index_select(0, batch)),
                            normalised.index_select(0, batch));
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>();
        ++batches;
        report.rows_done += batch.size(0);
        report.train_loss = loss_sum / static_cast<double>(batches);
        if (on_batch) on_batch(report);
      }
      if (!options.checkpoint_path.empty()) write_checkpoint(options, epoch + 1, info, optimizer);
    }
    if (!options.checkpoint_path.empty()) std::filesystem::remove(options.checkpoint_path);
  }

  void fine_tune(const FeatureRows& rows, int steps, double learning_rate,
                 const FeatureRows& anchors, double anchor_weight) override {
    const torch::Tensor context_rows = context(rows), code_rows = code(rows);
    const torch::Tensor normalised = normalise_targets(targets(rows));
    const bool anchored = anchors.rows() > 0;
    const torch::Tensor anchor_context = context(anchors), anchor_code = code(anchors);
    torch::Tensor anchor_targets;
    if (anchored) {
      torch::NoGradGuard no_grad;
      anchor_targets = predict_normalised(anchor_context, anchor_code);
    }
    torch::optim::Adam optimizer(net_->parameters(), torch::optim::AdamOptions(learning_rate));
    for (int step = 0; step < steps; ++step) {
      optimizer.zero_grad();
      torch::Tensor loss = torch::mse_loss(predict_normalised(context_rows, code_rows), normalised);
      if (anchored)
        loss =
            loss + anchor_weight * torch::mse_loss(predict_normalised(anchor_context, anchor_code),
                                                   anchor_targets);
      loss.backward();
      optimizer.step();
    }
  }

  std::unique_ptr<CodeDescent> descend(const DescentProblem& problem) override;

  torch::Tensor predict_log(const torch::Tensor& context, const torch::Tensor& code) {
    return predict_normalised(context, code) * target_std_ + target_mean_;
  }
  std::vector<torch::Tensor> parameters() { return net_->parameters(); }

  // Reads a model written by write(); `schema` empty accepts any (a copy of this process's).
  static std::unique_ptr<TorchModel> read(torch::serialize::InputArchive& archive,
                                          const std::string& source, const std::string& schema,
                                          PredictorInfo& info) {
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
      info.schema = value.toStringRef();
      if (!schema.empty() && info.schema != schema)
        throw refuse("schema", "the predictor was trained for feature schema '" +
                                   schema_name(info.schema) + "', this dcp reads '" +
                                   schema_name(schema) +
                                   "'; retrain it with this dcp (`dcp train`)");
      torch::Tensor tensor;
      archive.read("hidden_sizes", tensor);
      info.config.hidden_sizes.assign(tensor.data_ptr<int64_t>(),
                                      tensor.data_ptr<int64_t>() + tensor.numel());
      archive.read("seed", value);
      info.config.seed = static_cast<uint64_t>(value.toInt());
      archive.read("test_fraction", value);
      info.config.test_fraction = value.toDouble();
      archive.read("training_summary", value);
      info.training_summary = value.toStringRef();
      torch::Tensor input_mean, input_std, target_mean, target_std;
      archive.read("input_mean", input_mean);
      archive.read("input_std", input_std);
      archive.read("target_mean", target_mean);
      archive.read("target_std", target_std);
      const auto read_doubles = [&](const char* key) {
        torch::Tensor stored;  // a fresh tensor: reading into a defined one keeps its dtype
        archive.read(key, stored);
        return doubles(stored);
      };
      info.hardware_min = read_doubles("hardware_min");
      info.hardware_max = read_doubles("hardware_max");
      // The context's width is the inputs' less the code features', which the context's
      // values do not change.
      const int64_t code_width =
          code_features(torch::zeros({1, kContextLog2Lanes + 1}), torch::zeros({1, kCodeSize}))
              .size(1);
      if (input_mean.numel() != input_std.numel() || input_mean.numel() <= code_width ||
          target_mean.numel() != kNumTargets)
        throw refuse("input_mean", "normalisation statistics do not match the network");
      auto model = std::make_unique<TorchModel>(input_mean.numel() - code_width, info.config);
      torch::serialize::InputArchive net_archive;
      archive.read("net", net_archive);
      model->net_->load(net_archive);
      model->input_mean_ = input_mean;
      model->input_std_ = input_std;
      model->target_mean_ = target_mean;
      model->target_std_ = target_std;
      return model;
    } catch (const InputError&) {
      throw;
    } catch (const c10::Error& error) {
      throw refuse("", "corrupt predictor file: " + first_line(error.what_without_backtrace()));
    } catch (const std::exception& error) {
      throw refuse("", "corrupt predictor file: " + first_line(error.what()));
    }
  }

 private:
  torch::Tensor context(const FeatureRows& rows) const {
    return rows_tensor(rows.context, context_size_);
  }
  static torch::Tensor code(const FeatureRows& rows) { return rows_tensor(rows.code, kCodeSize); }
  static torch::Tensor targets(const FeatureRows& rows) {
    return rows_tensor(rows.log_targets, kNumTargets);
  }

  torch::Tensor input_features(const torch::Tensor& context, const torch::Tensor& code) {
    return torch::cat({context, code_features(context, code)}, 1);
  }

  void fit_normalisation(const torch::Tensor& context, const torch::Tensor& code,
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

  torch::Tensor normalise_targets(const torch::Tensor& log_targets) const {
    return (log_targets - target_mean_) / target_std_;
  }

  torch::Tensor predict_normalised(const torch::Tensor& context, const torch::Tensor& code) {
    return net_->forward((input_features(context, code) - input_mean_) / input_std_);
  }

  void write(torch::serialize::OutputArchive& archive, const PredictorInfo& info) const {
    archive.write("format", c10::IValue(std::string(kFileFormat)));
    archive.write("version", c10::IValue(kFileVersion));
    archive.write("schema", c10::IValue(info.schema));
    archive.write("hidden_sizes", torch::tensor(info.config.hidden_sizes, torch::kInt64));
    archive.write("seed", c10::IValue(static_cast<int64_t>(info.config.seed)));
    archive.write("test_fraction", c10::IValue(info.config.test_fraction));
    archive.write("training_summary", c10::IValue(info.training_summary));
    archive.write("input_mean", input_mean_);
    archive.write("input_std", input_std_);
    archive.write("target_mean", target_mean_);
    archive.write("target_std", target_std_);
    archive.write("hardware_min", torch::tensor(info.hardware_min, torch::kFloat64));
    archive.write("hardware_max", torch::tensor(info.hardware_max, torch::kFloat64));
    torch::serialize::OutputArchive net_archive;
    net_->save(net_archive);
    archive.write("net", net_archive);
  }

  void write_checkpoint(const FitOptions& options, int epochs_done, const PredictorInfo& info,
                        const torch::optim::Adam& optimizer) const {
    torch::serialize::OutputArchive archive;
    archive.write("fingerprint", c10::IValue(options.fingerprint));
    archive.write("epochs_done", c10::IValue(static_cast<int64_t>(epochs_done)));
    torch::serialize::OutputArchive model_archive;
    write(model_archive, info);
    archive.write("predictor", model_archive);
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    // Written aside and renamed, so a kill mid-write leaves the previous checkpoint intact.
    const std::string partial = options.checkpoint_path + ".partial";
    archive.save_to(partial);
    std::filesystem::rename(partial, options.checkpoint_path);
  }

  // Restores the weights and the optimizer from a matching checkpoint; returns the epochs it had
  // done (0 when there is none or it belongs to another run).
  int resume_checkpoint(const FitOptions& options, torch::optim::Adam& optimizer) {
    const std::string& path = options.checkpoint_path;
    if (path.empty() || !std::filesystem::exists(path)) return 0;
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(path);
      c10::IValue value;
      archive.read("fingerprint", value);
      if (value.toStringRef() != options.fingerprint) return 0;
      archive.read("epochs_done", value);
      torch::serialize::InputArchive model_archive;
      archive.read("predictor", model_archive);
      PredictorInfo info;
      const std::unique_ptr<TorchModel> restored = read(model_archive, path, "", info);
      torch::NoGradGuard no_grad;
      auto target = net_->parameters();
      auto source = restored->net_->parameters();
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

  int64_t context_size_;
  PredictorConfig config_;  // the network's shape and the seed it was drawn from
  Net net_{nullptr};
  torch::Tensor input_mean_, input_std_, target_mean_, target_std_;
};

class TorchDescent : public CodeDescent {
 public:
  TorchDescent(TorchModel& model, const DescentProblem& problem)
      : model_(model),
        parameters_(model.parameters()),
        groups_(problem.group_first_row),
        objective_(problem.objective),
        penalty_weight_(problem.penalty_weight),
        context_(rows_tensor(problem.start.context, problem.start.context_size)),
        reference_(rows_tensor(problem.log_reference, kNumTargets)),
        capacity_(rows_tensor(problem.log2_capacity, kNumLevels)),
        code_(rows_tensor(problem.start.code, kCodeSize).requires_grad_(true)),
        shared_(!problem.code_of_row.empty()),
        shape_code_(shared_ ? rows_tensor(problem.shape_code, kCodeSize).requires_grad_(true)
                            : torch::Tensor()),
        optimizer_(shared_ ? std::vector<torch::Tensor>{code_, shape_code_}
                           : std::vector<torch::Tensor>{code_},
                   torch::optim::AdamOptions(problem.learning_rate)),
        fraction_mask_(genes_of_kind({0, 2})) {
    if (shared_) {
      code_of_row_ = torch::tensor(problem.code_of_row, torch::kInt64);
      row_weight_ = torch::tensor(problem.row_weight, torch::kFloat32);
      shape_genes_ = genes_of_kind({1});
    }
    // Leaves the weights untouched by the backward passes over the codes (restored at the end).
    for (torch::Tensor& parameter : parameters_) parameter.set_requires_grad(false);
  }
  // The genes of the given kinds (0: spatial share, 1: priority, 2: tile) in a code row. Share
  // and tile genes are projected back to <= 0 after each step (a fraction of the units or of the
  // parent tile).
  static torch::Tensor genes_of_kind(std::initializer_list<int> kinds) {
    torch::Tensor mask =
        torch::zeros({kNumLevels, kCodeGenesPerLevel, kCodeFloatsPerGene}, torch::kBool);
    for (int kind : kinds) mask.select(2, kind).fill_(true);
    return mask.reshape({kCodeSize});
  }
  ~TorchDescent() override {
    for (torch::Tensor& parameter : parameters_) parameter.set_requires_grad(true);
  }

  std::vector<float> codes() const override {
    const torch::Tensor rows = effective_codes().detach().contiguous();
    return {rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel()};
  }

  DescentPrices price(const std::vector<float>& decoded) override {
    const torch::Tensor decoded_rows = rows_tensor(decoded, kCodeSize);
    const torch::Tensor rows = effective_codes();
    const torch::Tensor log_predicted =
        model_.predict_log(context_, rows + (decoded_rows - rows).detach());
    log_value_ = log_objective(log_predicted, reference_, objective_);
    torch::NoGradGuard no_grad;
    DescentPrices prices;
    prices.predicted = doubles(log_predicted.exp());
    const torch::Tensor value = log_value_.exp().to(torch::kFloat64);
    for (size_t group = 0; group + 1 < groups_.size(); ++group) {
      const torch::Tensor values = value.slice(0, groups_[group], groups_[group + 1]);
      prices.group_best.push_back(values.min().item<double>());
      prices.group_mean.push_back(values.mean().item<double>());
    }
    return prices;
  }

  void step() override {
    const torch::Tensor rows = effective_codes();
    const torch::Tensor penalty = legality_penalty(code_geometry(context_, rows), capacity_);
    torch::Tensor loss;
    if (shared_) {
      const torch::Tensor shape_objective =
          torch::zeros({shape_code_.size(0)})
              .index_add(0, code_of_row_, row_weight_ * log_value_.exp());
      loss = shape_objective.log().sum() + penalty_weight_ * (row_weight_ * penalty).sum();
    } else {
      loss = (log_value_ + penalty_weight_ * penalty).sum();
    }
    optimizer_.zero_grad();
    loss.backward();
    optimizer_.step();
    torch::NoGradGuard no_grad;
    code_.masked_fill_(fraction_mask_.unsqueeze(0) & (code_ > 0), 0.0f);
    if (shared_) shape_code_.masked_fill_(fraction_mask_.unsqueeze(0) & (shape_code_ > 0), 0.0f);
  }

 private:
  torch::Tensor effective_codes() const {
    if (!shared_) return code_;
    return torch::where(shape_genes_.unsqueeze(0), shape_code_.index_select(0, code_of_row_),
                        code_);
  }

 private:
  TorchModel& model_;
  std::vector<torch::Tensor> parameters_;
  std::vector<int64_t> groups_;
  Objective objective_;
  double penalty_weight_;
  torch::Tensor context_, reference_, capacity_, code_;
  bool shared_;  // rows share shapes
  torch::Tensor shape_code_;
  torch::optim::Adam optimizer_;
  torch::Tensor fraction_mask_, log_value_;
  torch::Tensor code_of_row_, row_weight_, shape_genes_;
};

std::unique_ptr<CodeDescent> TorchModel::descend(const DescentProblem& problem) {
  return std::make_unique<TorchDescent>(*this, problem);
}

class TorchLibrary : public LearnedModelLibrary {
 public:
  std::unique_ptr<LearnedModel> create(int64_t context_size,
                                       const PredictorConfig& config) const override {
    return std::make_unique<TorchModel>(context_size, config);
  }

  std::unique_ptr<LearnedModel> load(const std::string& path, const std::string& schema,
                                     PredictorInfo& info) const override {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(path);
    } catch (const std::exception&) {
      // Torch reports a damaged archive as c10::Error or, when the damage lands in the
      // archive's TorchScript code, as torch::jit::ErrorReport; both are std::exceptions.
      throw InputError(
          path, "",
          "not a readable dcp predictor file (missing, truncated or not a torch archive)");
    }
    return TorchModel::read(archive, path, schema, info);
  }

  void set_threads(int threads) const override { torch::set_num_threads(threads); }
};

}  // namespace
}  // namespace dcp

extern "C" const dcp::LearnedModelLibrary* dcp_learned_model_library() {
  static const dcp::TorchLibrary library;
  return &library;
}
