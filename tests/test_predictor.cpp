// The predictor: features, gradients, training on real simulator traces, save/load and the
// errors for files it must refuse. Run from the repository root.
// Torch is here only to write a foreign torch archive; its headers bring glog's CHECK macro,
// which would abort instead of reporting, so they come first and Catch's CHECK replaces it.
#include <torch/torch.h>

#include "mapper/dcp_map.hpp"
#include "mapper/predictor.hpp"
#include "mapper/training.hpp"
#include "mapper/transfer.hpp"
#undef CHECK

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"
#include "workloads/layer_identity.hpp"

namespace fs = std::filesystem;
using namespace dcp;

namespace {

constexpr const char* kBasePredictor = "mapper/predictors/edge-to-cloud.pt";

struct TempPath {
  explicit TempPath(const std::string& name)
      : path((fs::temp_directory_path() /
              ("dcp_test_predictor_" + std::to_string(getpid()) + "_" + name))
                 .string()) {}
  ~TempPath() {
    fs::remove(path);
    fs::remove(path + ".partial");
  }
  std::string path;
};

// `draws` random legal dataflows per layer, labelled by the simulator.
std::vector<TraceRecord> simulated_traces(const std::vector<Layer>& layers, const ArchSpec& arch,
                                          int draws, std::mt19937_64& rng) {
  std::vector<TraceRecord> traces;
  for (const Layer& layer : layers) {
    for (int draw = 0; draw < draws; ++draw) {
      TraceRecord record;
      record.sample_index = static_cast<int64_t>(traces.size());
      record.layer_key = layer.name;
      record.layer = layer;
      record.arch = arch;
      record.dataflow = random_legal_dataflow(layer, arch, rng);
      record.result = evaluate(layer, arch, record.dataflow);
      traces.push_back(record);
    }
  }
  return traces;
}

// Traces of 40 small convolutions on eyeriss: real labels, small enough to train on in a test.
const std::vector<TraceRecord>& small_traces() {
  static const std::vector<TraceRecord> records = [] {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int> channel_step(1, 8), size(4, 16), kernel(0, 1);
    std::vector<Layer> layers;
    for (int layer_index = 0; layer_index < 40; ++layer_index) {
      const int64_t k = 8 * channel_step(rng), c = 8 * channel_step(rng), hw = size(rng);
      const int64_t r = kernel(rng) == 0 ? 1 : 3;
      layers.push_back(make_conv("test", "layer" + std::to_string(layer_index), c, k, hw, hw, r, r,
                                 1, r / 2, 1));
    }
    return simulated_traces(layers, load_arch("arch/presets/eyeriss.yaml"), 30, rng);
  }();
  return records;
}

TrainingOptions small_options(int epochs = 25) {
  TrainingOptions options;
  options.predictor.hidden_sizes = {64, 64};
  options.predictor.seed = 3;
  options.fit.epochs = epochs;
  options.fit.batch_size = 64;
  return options;
}

FeatureRows feature_row(const TraceRecord& record) {
  FeatureRows rows;
  append_feature_row(record.layer, record.arch, record.dataflow, rows);
  return rows;
}

std::string load_error(const std::string& path) {
  try {
    Predictor::load(path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("torch threads: the command's choice, else OMP_NUM_THREADS, else the fallback") {
  CHECK(resolve_threads(3, "5", 2) == 3);
  CHECK(resolve_threads(0, "5", 2) == 5);
  CHECK(resolve_threads(0, "4,2", 2) == 4);  // nested parallelism: the outer level's count
  CHECK(resolve_threads(0, nullptr, 2) == 2);
  for (const char* ignored : {"", "0", "-4", "four", "2x"})
    CHECK(resolve_threads(0, ignored, 2) == 2);
}

TEST_CASE("OpenBLAS gets the widest kernels the CPU runs, and the user's choice stays") {
  CHECK(std::string(openblas_core_for(true, true)) == "SkylakeX");
  CHECK(std::string(openblas_core_for(false, true)) == "Haswell");
  CHECK(openblas_core_for(false, false) == nullptr);
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::optional<std::string> saved =
      before == nullptr ? std::nullopt : std::optional<std::string>(before);
  setenv("OPENBLAS_CORETYPE", "Sandybridge", 1);
  prepare_openblas_environment();
  CHECK(std::string(std::getenv("OPENBLAS_CORETYPE")) == "Sandybridge");
  if (saved)
    setenv("OPENBLAS_CORETYPE", saved->c_str(), 1);
  else
    unsetenv("OPENBLAS_CORETYPE");
}

TEST_CASE("OpenBLAS runs as many threads as torch, unless the user chose") {
  const char* before = std::getenv("OPENBLAS_NUM_THREADS");
  const std::optional<std::string> saved =
      before == nullptr ? std::nullopt : std::optional<std::string>(before);
  unsetenv("OPENBLAS_NUM_THREADS");
  set_learned_model_threads(3, 1);
  CHECK(std::string(std::getenv("OPENBLAS_NUM_THREADS")) == "3");
  setenv("OPENBLAS_NUM_THREADS", "5", 1);
  set_learned_model_threads(2, 1);
  CHECK(std::string(std::getenv("OPENBLAS_NUM_THREADS")) == "5");
  learned_model_library().set_threads(1);
  if (saved)
    setenv("OPENBLAS_NUM_THREADS", saved->c_str(), 1);
  else
    unsetenv("OPENBLAS_NUM_THREADS");
}

TEST_CASE("OpenMP waits passively unless the user chose a wait policy or spin count") {
  // The environment as the test found it comes back at the end.
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    const char* value = std::getenv(name);
    saved.emplace_back(name, value == nullptr ? std::nullopt : std::optional<std::string>(value));
  }
  const auto policy_after = [](const char* policy, const char* spin_count) {
    for (const auto& [name, value] :
         {std::pair{"OMP_WAIT_POLICY", policy}, std::pair{"GOMP_SPINCOUNT", spin_count}}) {
      if (value == nullptr)
        unsetenv(name);
      else
        setenv(name, value, 1);
    }
    prepare_openmp_environment();
    const char* result = std::getenv("OMP_WAIT_POLICY");
    return std::string(result == nullptr ? "(unset)" : result);
  };
  CHECK(policy_after(nullptr, nullptr) == "PASSIVE");
  CHECK(policy_after("active", nullptr) == "active");
  CHECK(policy_after("passive", nullptr) == "passive");
  CHECK(policy_after(nullptr, "10000") == "(unset)");
  for (const auto& [name, value] : saved) {
    if (value)
      setenv(name.c_str(), value->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
}

TEST_CASE("context features name every column") {
  const Layer layer = make_conv("test", "c", 16, 32, 8, 8, 3, 3, 1, 1, 1);
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  CHECK(context_features(layer, arch).size() == context_feature_names().size());
  CHECK(hardware_parameters(arch).size() == hardware_parameter_names().size());
  CHECK(context_features(layer, arch)[0] == Approx(5.0));  // log2 K
}

TEST_CASE("training on simulator traces beats predicting the mean on held-out layers") {
  learned_model_library().set_threads(1);
  Predictor predictor = train_predictor(small_traces(), small_options(), nullptr);
  const PredictorMetrics held_out = measure_predictor(predictor, small_traces(), true);
  INFO("held-out rows " << held_out.rows << " layers " << held_out.layers);
  REQUIRE(held_out.layers >= 3);
  CHECK(held_out.rows < static_cast<int64_t>(small_traces().size()) / 2);
  for (const TargetMetrics& metrics : {held_out.cycles, held_out.energy}) {
    INFO("median error " << metrics.median_abs_pct_error << "% vs mean baseline "
                         << metrics.mean_baseline_median_abs_pct_error << "%, rho "
                         << metrics.spearman_rho);
    CHECK(metrics.median_abs_pct_error < 0.5 * metrics.mean_baseline_median_abs_pct_error);
    CHECK(metrics.spearman_rho > 0.8);
  }
}

TEST_CASE("one descent step moves every kind of gene: the gradient reaches the whole code") {
  Predictor predictor = train_predictor(small_traces(), small_options(2), nullptr);
  const TraceRecord& record = small_traces()[7];
  DescentProblem problem;
  problem.start = feature_row(record);
  problem.log_reference = {0, 0};
  // Room enough everywhere that no penalty acts: the step follows the prediction alone.
  problem.log2_capacity = {60, 60, 60};
  problem.group_first_row = {0, 1};
  problem.objective = parse_objective("edp", "--objective");
  const std::unique_ptr<CodeDescent> descent = predictor.model().descend(problem);
  const std::vector<float> before = descent->codes();
  const DescentPrices prices = descent->price(before);
  REQUIRE(prices.predicted.size() == 2);
  CHECK(std::isfinite(prices.group_best[0]));
  descent->step();
  const std::vector<float> after = descent->codes();
  // Spatial shares, priorities and tiles all reach the output (a share or tile already at 0
  // could be held there by the projection, so these are below it).
  for (int index : {code_index_spatial_share(0, Dim::K), code_index_spatial_share(1, Dim::N),
                    code_index_priority(1, Dim::C), code_index_tile(2, Dim::X)}) {
    INFO("code index " << index << ": " << before[index] << " -> " << after[index]);
    CHECK(std::isfinite(after[index]));
    if (before[index] < -0.5f || index == code_index_priority(1, Dim::C))
      CHECK(after[index] != before[index]);
  }
}

TEST_CASE("save and load give the same predictions, split and hardware range") {
  Predictor predictor = train_predictor(small_traces(), small_options(1), nullptr);
  const TempPath file("roundtrip.pt");
  predictor.save(file.path);
  Predictor loaded = Predictor::load(file.path);
  const TraceRecord& record = small_traces()[3];
  CHECK((predictor.predict(feature_row(record)) == loaded.predict(feature_row(record))));
  CHECK(loaded.is_test_layer("layer5") == predictor.is_test_layer("layer5"));
  CHECK(loaded.out_of_range_warnings(record.arch) == std::vector<std::string>{});
  ArchSpec bigger = record.arch;
  bigger.l2_bytes *= 4;
  const std::vector<std::string> warnings = loaded.out_of_range_warnings(bigger);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("l2_bytes") != std::string::npos);
}

TEST_CASE("each shipped predictor loads and covers the preset it was trained for") {
  const std::vector<std::pair<std::string, std::string>> shipped = {
      {"mapper/predictors/eyeriss.pt", "arch/presets/eyeriss.yaml"},
      {"mapper/predictors/edge.pt", "arch/presets/edge.yaml"},
      {kBasePredictor, "arch/presets/edge.yaml"}};
  for (const auto& [predictor_path, arch_path] : shipped) {
    INFO(predictor_path << " on " << arch_path);
    const Predictor predictor = Predictor::load(predictor_path);
    CHECK(predictor.out_of_range_warnings(load_arch(arch_path)).empty());
  }
}

TEST_CASE("an interrupted training run resumes from its checkpoint to the same predictor") {
  learned_model_library().set_threads(1);
  TrainingOptions options = small_options(4);
  Predictor straight = train_predictor(small_traces(), options, nullptr);

  const TempPath checkpoint("resume.ckpt");
  options.fit.checkpoint_path = checkpoint.path;
  struct Interrupted {};
  CHECK_THROWS_AS(train_predictor(small_traces(), options,
                                  [](const EpochReport& report) {
                                    if (report.epoch == 3) throw Interrupted{};
                                  }),
                  Interrupted);
  REQUIRE(fs::exists(checkpoint.path));
  int first_epoch_seen = 0;
  Predictor resumed = train_predictor(small_traces(), options, [&](const EpochReport& report) {
    if (first_epoch_seen == 0) first_epoch_seen = report.epoch;
  });
  CHECK(first_epoch_seen == 3);
  CHECK_FALSE(fs::exists(checkpoint.path));
  // Equal weights give bit-equal predictions on every row.
  const FeatureRows rows = make_training_set(small_traces());
  CHECK((straight.predict(rows) == resumed.predict(rows)));
}

TEST_CASE("missing, truncated, foreign and mismatched predictor files give one-line errors") {
  const TempPath missing("missing.pt");
  CHECK(load_error(missing.path).find(missing.path) == 0);

  Predictor predictor(small_options().predictor);
  const TempPath good("good.pt");
  predictor.save(good.path);
  std::string bytes;
  {
    std::ifstream in(good.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const TempPath truncated("truncated.pt");
  std::ofstream(truncated.path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);

  const TempPath foreign("foreign.pt");
  {
    torch::serialize::OutputArchive archive;
    archive.write("weights", torch::ones({3}));
    archive.save_to(foreign.path);
  }
  // A predictor of the first code: one parallel dim and fan-out per level, six dims.
  const TempPath other_schema("other_schema.pt");
  {
    PredictorInfo info = predictor.info();
    info.schema =
        "v1 context[log2_K,log2_C,log2_Y,log2_X,log2_R,log2_S,] code[57: levels x (6 parallel "
        "logits, fanout, 6 x (priority, tile))] targets[ln cycles, ln energy_pj]";
    predictor.model().save(other_schema.path, info);
  }
  const TempPath text("text.pt");
  std::ofstream(text.path) << "not a predictor\n";
  // A flipped byte in the name of a TorchScript code file, in the archive's central directory at
  // the end of the file, made torch throw torch::jit::ErrorReport, which is no c10::Error, and
  // dcp abort (found by scripts/fault_tests).
  const TempPath flipped("flipped.pt");
  {
    std::ifstream in("mapper/predictors/eyeriss.pt", std::ios::binary);
    std::string shipped(std::istreambuf_iterator<char>(in), {});
    // The code file's entry in the central directory: its name, then the next entry.
    const std::size_t code_name = shipped.find("code/__torch__/___torch_mangle_6.pyPK\x01\x02");
    REQUIRE(code_name != std::string::npos);
    const std::size_t in_name = code_name + 19;  // the 'o' of the second "torch"
    REQUIRE(shipped[in_name] == 'o');
    shipped[in_name] = static_cast<char>(shipped[in_name] ^ 0xFF);
    std::ofstream(flipped.path, std::ios::binary) << shipped;
  }

  for (const std::string& path :
       {truncated.path, foreign.path, other_schema.path, text.path, flipped.path}) {
    const std::string message = load_error(path);
    INFO(message);
    CHECK(message.find(path) == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
  const std::string schema_error = load_error(other_schema.path);
  CHECK(schema_error.find("schema") != std::string::npos);
  CHECK(schema_error.find("'v1 code[57: levels x (6 parallel logits, fanout, 6 x (priority, "
                          "tile))]'") != std::string::npos);
  CHECK(schema_error.find("'v2 code[63: 3 levels x 7 dims KCYXRSN x (spatial share, priority, "
                          "tile)]'") != std::string::npos);
  CHECK(load_error(foreign.path).find("not a dcp predictor") != std::string::npos);
}

TEST_CASE("spearman rho of monotone, reversed and tied data") {
  CHECK(spearman_rho({1, 2, 3, 4}, {10, 20, 30, 400}) == Approx(1.0));
  CHECK(spearman_rho({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1.0));
  CHECK(spearman_rho({1, 1, 2, 2}, {5, 5, 7, 7}) == Approx(1.0));
}

namespace {

// Four single-lane PEs: small enough that exhaustive search can walk tiny layers' spaces.
ArchSpec four_pe_arch() {
  ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  arch.name = "four_pe";
  arch.num_pes = 4;
  arch.array_rows = 2;
  arch.array_cols = 2;
  return arch;
}

Layer tiny_conv(int64_t k, int64_t c, int64_t size) {
  return make_conv(
      "test", "tiny_k" + std::to_string(k) + "_c" + std::to_string(c) + "_" + std::to_string(size),
      c, k, size, size, 1, 1, 1, 0, 1);
}

// Traces of tiny layers on four_pe_arch, labelled by the simulator.
std::vector<TraceRecord> tiny_traces() {
  std::vector<Layer> layers;
  for (int64_t k : {2, 4, 8})
    for (int64_t c : {2, 4, 8})
      for (int64_t size : {2, 4, 6}) layers.push_back(tiny_conv(k, c, size));
  std::mt19937_64 rng(9);
  return simulated_traces(layers, four_pe_arch(), 40, rng);
}

}  // namespace

TEST_CASE("DCP's verified EDP on tiny layers is within 1.15x of the exhaustive optimum") {
  learned_model_library().set_threads(1);
  TrainingOptions options = small_options(40);
  Predictor predictor = train_predictor(tiny_traces(), options, nullptr);
  const ArchSpec arch = four_pe_arch();
  const Objective edp = parse_objective("edp", "--objective");
  // Small enough that exhaustive search stays under its candidate cap with several dims unrolled.
  const std::vector<Layer> layers = {tiny_conv(4, 2, 2), tiny_conv(2, 4, 2), tiny_conv(2, 2, 2)};
  const std::vector<LayerMapping> mappings = map_layers(predictor, layers, arch, edp, {}, nullptr);
  for (const LayerMapping& mapping : mappings) {
    const SearchResult optimum = search_exhaustive(mapping.layer, arch, edp, mapping.fixed, {});
    INFO(mapping.layer.name << ": dcp " << mapping.best_objective << " vs optimum "
                            << optimum.best_objective << " (best fixed "
                            << mapping.fixed.best_run().objective << ")");
    CHECK(legality_violations(mapping.layer, arch, mapping.best).empty());
    CHECK(mapping.best_objective >= optimum.best_objective);
    CHECK(mapping.best_objective <= 1.15 * optimum.best_objective);
    // The reported numbers are the simulator's, for the returned dataflow.
    CHECK(evaluate(mapping.layer, arch, mapping.best).cycles == mapping.best_result.cycles);
    CHECK(mapping.simulator_calls <=
          static_cast<int64_t>(fixed_dataflow_names().size()) + MapOptions{}.verify_top_k);
  }
}

TEST_CASE("DCP mapping is deterministic for a seed") {
  learned_model_library().set_threads(1);
  TrainingOptions options = small_options(3);
  Predictor predictor = train_predictor(small_traces(), options, nullptr);
  const ArchSpec arch = small_traces().front().arch;
  const Objective latency = parse_objective("latency", "--objective");
  MapOptions map_options;
  map_options.propagation.steps = 30;
  const std::vector<Layer> layers = {small_traces()[0].layer, small_traces()[100].layer};
  const auto first = map_layers(predictor, layers, arch, latency, map_options, nullptr);
  const auto second = map_layers(predictor, layers, arch, latency, map_options, nullptr);
  for (size_t i = 0; i < layers.size(); ++i) {
    CHECK(first[i].best == second[i].best);
    CHECK(first[i].curve.size() == second[i].curve.size());
    CHECK(first[i].curve.back().best_objective == second[i].curve.back().best_objective);
  }
}

TEST_CASE("a round simulates at most family_cap near copies, first one wide dataflow per dim") {
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  const Layer layer = make_conv("test", "conv", 64, 64, 16, 16, 3, 3, 1, 1, 1);
  Dataflow wide = make_fixed_dataflow("nvdla", layer, arch);
  wide.levels[0].set_single_spatial(Dim::K, 12);
  wide.levels[1].set_single_spatial(Dim::C, 14);
  wide.levels[2].set_single_spatial(Dim::K, 1);
  const auto candidate = [](const Dataflow& dataflow) { return Candidate{dataflow, 1, 1, 1, 0}; };
  std::vector<Candidate> ranked;
  // Six near copies (tiles that round to the same power of two), then seven other families.
  for (const int64_t tile : {16, 15, 14, 13, 12, 17}) {
    Dataflow copy = wide;
    copy.levels[0].tile[dim_index(Dim::K)] = tile;
    ranked.push_back(candidate(copy));
  }
  for (const Dim dim : kAllDims) {
    Dataflow other = wide;
    other.levels[0].tile[dim_index(Dim::K)] = 2;
    other.levels[2].set_single_spatial(dim, 2);
    ranked.push_back(candidate(other));
  }
  REQUIRE(dataflow_family(ranked[0].dataflow) == dataflow_family(ranked[5].dataflow));
  REQUIRE(dataflow_family(ranked[0].dataflow) != dataflow_family(ranked[6].dataflow));
  const auto chosen_indices = [&](const std::set<std::vector<int64_t>>& simulated, int count,
                                  bool explore) {
    std::vector<size_t> indices;
    for (const Candidate* chosen :
         choose_candidates_to_verify(ranked, simulated, arch, count, 2, explore))
      indices.push_back(static_cast<size_t>(chosen - ranked.data()));
    return indices;
  };
  CHECK(chosen_indices({}, 6, false) == std::vector<size_t>{0, 1, 6, 7, 8, 9});
  // Near copies beyond the cap come last, when the other families run out.
  CHECK(chosen_indices({}, 11, false) == std::vector<size_t>{0, 1, 6, 7, 8, 9, 10, 11, 12, 2, 3});
  // Simulated dataflows are never chosen again.
  CHECK(chosen_indices({dataflow_key(ranked[0].dataflow)}, 3, false) ==
        std::vector<size_t>{1, 2, 6});

  // Exploration: the best wide candidate of each main L2 spatial dim comes first; a narrow one (on
  // 4 of 168 PEs) does not count.
  ranked[0].dataflow.levels[0].set_single_spatial(Dim::K, 2);
  ranked[0].dataflow.levels[1].set_single_spatial(Dim::C, 2);
  ranked[1].dataflow.levels[0].set_single_spatial(Dim::C, 12);
  ranked[2].dataflow.levels[0].set_single_spatial(Dim::Y, 12);
  // Y has the larger fan-out, so the map counts as Y's.
  ranked[3].dataflow.levels[0].fanout[dim_index(Dim::Y)] = 12;
  ranked[3].dataflow.levels[0].fanout[dim_index(Dim::K)] = 2;
  CHECK(chosen_indices({}, 4, true) == std::vector<size_t>{1, 2, 4, 0});
}

TEST_CASE("transfer: shots are distinct, legal, deterministic and split as asked") {
  learned_model_library().set_threads(1);
  Predictor predictor = Predictor::load("mapper/predictors/eyeriss.pt");
  const ArchSpec edge = load_arch("arch/presets/edge.yaml");
  const std::vector<Layer> layers = load_network("tests/data/sweep_layers.yaml").layers;
  const Objective edp = parse_objective("edp", "--objective");
  TransferOptions options;
  options.shots = 20;
  options.search_share = 0.25;
  const std::vector<Shot> shots = choose_shots(predictor, layers, edge, edp, options);
  REQUIRE(shots.size() == 20);
  std::set<std::pair<std::string, std::vector<int64_t>>> distinct;
  int from_search = 0;
  for (const Shot& shot : shots) {
    CHECK(legality_violations(shot.layer, edge, shot.dataflow).empty());
    distinct.insert({shot.layer.name, dataflow_key(shot.dataflow)});
    from_search += shot.from_search ? 1 : 0;
  }
  CHECK(distinct.size() == shots.size());
  CHECK(from_search == 5);
  const std::vector<Shot> again = choose_shots(predictor, layers, edge, edp, options);
  for (size_t i = 0; i < shots.size(); ++i) CHECK(again[i].dataflow == shots[i].dataflow);
}

TEST_CASE("transfer: fine-tuning on 32 shots of an unseen arch lowers the error on other rows") {
  learned_model_library().set_threads(1);
  // The shipped base predictor, trained over the edge preset's space, on another chip.
  Predictor predictor = Predictor::load(kBasePredictor);
  const ArchSpec eyeriss = load_arch("arch/presets/eyeriss.yaml");
  REQUIRE_FALSE(predictor.out_of_range_warnings(eyeriss).empty());
  const std::vector<Layer> layers = load_network("tests/data/sweep_layers.yaml").layers;
  TransferOptions options;
  options.eval_samples = 64;
  int64_t calls = 0;
  const TransferReport report = transfer_predictor(
      predictor, layers, eyeriss, parse_objective("edp", "--objective"), options, [&] { ++calls; });
  CHECK(report.shots.size() == 32);
  CHECK(report.eval_rows.size() == 64);
  CHECK(calls == 96);
  CHECK(report.simulator_calls == calls);
  // The shots and the rows that measure the error never share a dataflow.
  std::set<std::pair<std::string, std::vector<int64_t>>> shot_keys;
  for (const TraceRecord& shot : report.shots)
    shot_keys.insert({layer_key(shot.layer), dataflow_key(shot.dataflow)});
  for (const TraceRecord& row : report.eval_rows)
    CHECK(shot_keys.count({layer_key(row.layer), dataflow_key(row.dataflow)}) == 0);
  Predictor base = Predictor::load(kBasePredictor);
  const double before = mean_squared_log_error(base, report.eval_rows);
  const double after = mean_squared_log_error(predictor, report.eval_rows);
  INFO("mean squared ln error before " << before << ", after " << after << " ("
                                       << report.fine_tune_steps << " steps)");
  CHECK(report.fine_tune_steps > 0);
  // 0.49 -> 0.44 when written: the anchors hold most of the base predictor's shape.
  CHECK(after < before);
  CHECK(predictor.out_of_range_warnings(eyeriss).empty());
}

TEST_CASE(
    "per-network DCP: one shape's layers share loop orders and spatial dims; the best "
    "re-simulates to its score and never loses to the best fixed dataflow") {
  learned_model_library().set_threads(1);
  Predictor predictor = Predictor::load("mapper/predictors/eyeriss.pt");
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  const Objective edp = parse_objective("edp", "--objective");
  std::vector<Layer> layers = {make_conv("a", "conv", 32, 64, 14, 14, 3, 3, 1, 1, 1),
                               make_conv("b", "conv", 64, 16, 28, 28, 1, 1, 1, 0, 1),
                               make_conv("c", "conv", 16, 48, 7, 7, 3, 3, 1, 1, 1)};
  layers[1].count = 3;
  const NetworkProblem problem = make_network_problem(layers, arch, edp);

  PropagationOptions propagation;
  propagation.random_starts = 4;
  propagation.steps = 8;
  std::vector<ShapeStart> starts;
  for (const ShapeRun& fixed : fixed_dataflows_over_network(problem, edp))
    starts.push_back(shape_start(problem, arch, fixed.fitted, representative_layer(problem)));
  // Starts whose layers unroll different dims: the shape must still impose one set.
  std::mt19937_64 rng(7);
  for (size_t draw = 0; draw < 6; ++draw) {
    std::vector<Dataflow> unrelated;
    for (const Layer& layer : layers) unrelated.push_back(random_legal_dataflow(layer, arch, rng));
    starts.push_back(shape_start(problem, arch, unrelated, draw % layers.size()));
  }
  const std::vector<ShapeCandidate> candidates =
      propagate_shapes(predictor, problem, arch, starts, edp, propagation);
  REQUIRE(candidates.size() >= 10);
  for (const ShapeCandidate& candidate : candidates) {
    REQUIRE(candidate.layer_dataflows.size() == layers.size());
    for (int level = 0; level < kNumLevels; ++level) {
      // One layer (the one that set the shape) unrolls every dim any layer unrolls.
      bool one_holds_all = false;
      for (const Dataflow& holder : candidate.layer_dataflows) {
        const std::vector<Dim> held = holder.levels[level].spatial_dims();
        bool holds_all = true;
        for (const Dataflow& dataflow : candidate.layer_dataflows)
          for (Dim dim : dataflow.levels[level].spatial_dims())
            holds_all = holds_all && std::find(held.begin(), held.end(), dim) != held.end();
        one_holds_all = one_holds_all || holds_all;
      }
      CHECK(one_holds_all);
    }
    for (size_t l = 0; l < layers.size(); ++l) {
      CHECK(legality_violations(layers[l], arch, candidate.layer_dataflows[l]).empty());
      for (int level = 0; level < kNumLevels; ++level)
        CHECK(candidate.layer_dataflows[l].levels[level].order ==
              candidate.layer_dataflows[0].levels[level].order);
    }
  }
  for (size_t c = 1; c < candidates.size(); ++c)
    CHECK(candidates[c - 1].predicted_objective <= candidates[c].predicted_objective);

  MapOptions options;
  options.propagation = propagation;
  options.rounds = 2;
  options.verify_top_k = 6;
  options.fine_tune_steps = 3;
  int simulations = 0;
  const NetworkShapeMapping mapping =
      map_network_shape(predictor, problem, arch, edp, options, {}, [&] { ++simulations; });
  CHECK(mapping.verified.size() == 6);
  CHECK(mapping.simulator_calls == 6 * static_cast<int64_t>(layers.size()));
  CHECK(simulations == mapping.simulator_calls);
  CHECK(mapping.best.objective <= mapping.fixed[mapping.best_fixed].objective);
  for (const ShapeRun& run : mapping.verified) CHECK(mapping.best.objective <= run.objective);
  // A network DCP found is one chip: its layers keep the orders inside the chip.
  if (!mapping.best_is_fixed) CHECK(shared_structure(mapping.best.fitted).has_value());
  const ShapeRun again =
      simulate_layers(problem, arch, edp, mapping.best.shape, mapping.best.fitted);
  CHECK(again.objective == mapping.best.objective);
  CHECK(again.cost.cycles == mapping.best.cost.cycles);
  const NetworkShapeMapping repeat =
      map_network_shape(predictor, problem, arch, edp, options, {}, nullptr);
  const bool same_dataflows = repeat.best.fitted == mapping.best.fitted;
  CHECK(same_dataflows);
  CHECK(repeat.best.objective == mapping.best.objective);
}
