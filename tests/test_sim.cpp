// Properties of the simulator that must hold for every layer and dataflow: functional exactness,
// physical bounds, energy traceable to counts, steady-state skipping equal to full simulation,
// and systolic timing against the fold formula.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/dataflow_line.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "dataflow/repair.hpp"
#include "sim/evaluate.hpp"
#include "sim/schedule.hpp"
#include "test_support.hpp"

using namespace dcp;
using test::plain_eyeriss;

namespace {

const ArchSpec& preset(const std::string& name) {
  static std::map<std::string, ArchSpec> cache;
  auto found = cache.find(name);
  if (found == cache.end())
    found = cache.emplace(name, load_arch("arch/presets/" + name + ".yaml")).first;
  return found->second;
}

// Small layers of every kind the simulator supports, drawn from `rng`; every third runs a batch,
// so the N dim is tiled, ordered and unrolled too.
Layer random_small_layer(std::mt19937_64& rng, int which) {
  auto pick = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
  };
  const std::string name = "random" + std::to_string(which);
  Layer layer;
  switch (which % 5) {
    case 0:  // plain conv, stride 1 or 2, padded
    case 1: {
      const int64_t kernel = 2 * pick(0, 2) + 1;
      layer = make_conv("test", name, pick(1, 6), pick(1, 8), pick(kernel, 12), pick(kernel, 12),
                        kernel, kernel, pick(1, 2), pick(0, kernel / 2), 1);
      break;
    }
    case 2: {  // depthwise
      const int64_t channels = pick(1, 8);
      layer = make_conv("test", name, channels, channels, pick(3, 12), pick(3, 12), 3, 3,
                        pick(1, 2), 1, channels);
      break;
    }
    case 3: {  // grouped, non-square kernel
      const int64_t groups = pick(1, 3);
      layer = make_conv("test", name, groups * pick(1, 3), groups * pick(1, 3), pick(4, 10),
                        pick(4, 10), 3, 1, pick(1, 2), 1, groups);
      break;
    }
    default:
      layer = make_gemm(name, which % 2 == 0 ? LayerType::Gemm : LayerType::Matmul, pick(1, 24),
                        pick(1, 24), pick(1, 24), 1);
  }
  if (which % 3 == 1) layer.N = pick(2, 3);
  return layer;
}

double expected_energy(const Result& result, const ArchSpec& arch) {
  const EnergyTable& table = arch.energy;
  const std::array<double, kNumCostLevels> per_access = {table.dram_pj, table.l2_pj, 0.0,
                                                         table.l1_pj, table.l0_pj};
  double energy = static_cast<double>(result.macs) * table.mac_pj +
                  static_cast<double>(result.cycles) * table.leakage_pj_per_cycle;
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor)
      energy += per_access[level] * static_cast<double>(result.counts.reads[level][tensor] +
                                                        result.counts.writes[level][tensor]);
  // The NoC is charged per word per link of the multicast or reduction tree it crossed.
  for (const int64_t link_words : result.counts.noc_link_words)
    energy += table.noc_hop_pj * static_cast<double>(link_words);
  return energy;
}

void check_bounds(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                  const Result& result) {
  INFO(layer.name << " under " << dataflow_to_yaml(dataflow));
  const int64_t compute_bound =
      (layer.macs() + arch.num_pes * arch.macs_per_pe - 1) / (arch.num_pes * arch.macs_per_pe);
  CHECK(result.cycles >= compute_bound);
  CHECK(result.dram_bytes >= compulsory_dram_bytes(layer, arch));
  CHECK(result.total_energy_pj == Approx(expected_energy(result, arch)).epsilon(1e-9));
  CHECK(result.macs == layer.macs());
  CHECK(result.pe_utilization <= 1.0);
}

// No resource is busier than the run, and the stalls partition the cycles the PEs do not compute.
void check_accounting(const Result& result) {
  CHECK(result.busy.compute <= result.cycles);
  CHECK(result.busy.l2 <= result.cycles);
  CHECK(result.busy.noc <= result.cycles);
  CHECK(result.busy.dram <= result.cycles);
  int64_t stalls = 0;
  for (const int64_t cycles : result.stall_cycles) stalls += cycles;
  CHECK(result.busy.compute + stalls == result.cycles);
}

// Evaluates with steady-state skipping and checks it against simulating every iteration, and
// that simulating every iteration with the model's state written and loaded back at each
// iteration boundary changes nothing (what replays rely on).
Result evaluate_checking_skips(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow) {
  EvalOptions every_iteration;
  every_iteration.skip_steady_state = false;
  EvalOptions reloading = every_iteration;
  reloading.reload_state = true;
  const Result fast = evaluate(layer, arch, dataflow);
  const Result full = evaluate(layer, arch, dataflow, every_iteration);
  const Result reloaded = evaluate(layer, arch, dataflow, reloading);
  CHECK(fast.cycles == full.cycles);
  CHECK(fast.counts == full.counts);
  CHECK(fast.stall_cycles == full.stall_cycles);
  CHECK(fast.busy == full.busy);
  CHECK(full.simulated_steps == full.total_steps);
  CHECK(reloaded.cycles == full.cycles);
  CHECK(reloaded.stall_cycles == full.stall_cycles);
  CHECK(reloaded.counts == full.counts);
  CHECK(reloaded.busy == full.busy);
  return fast;
}

}  // namespace

TEST_CASE("functional mode matches a reference convolution on random layers and dataflows") {
  std::mt19937_64 rng(2024);
  for (int which = 0; which < 40; ++which) {
    const Layer layer = random_small_layer(rng, which);
    const ArchSpec& arch = preset(which % 2 == 0 ? "eyeriss" : "edge");
    const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
    INFO(layer.name << " " << layer_type_name(layer.type) << " K" << layer.K << " C" << layer.C
                    << " Y" << layer.Y << " X" << layer.X << " R" << layer.R << " S" << layer.S
                    << " stride " << layer.stride << " groups " << layer.groups << "\n"
                    << dataflow_to_yaml(dataflow));
    const FunctionalReport report = run_functional(layer, arch, dataflow, 7 + which);
    CHECK(report.outputs_match);
    CHECK(report.macs_performed == report.macs_expected);
    CHECK(report.duplicated_macs == 0);
  }
}

TEST_CASE("functional mode also holds for every fixed dataflow") {
  std::mt19937_64 rng(99);
  for (int which = 0; which < 10; ++which) {
    const Layer layer = random_small_layer(rng, which);
    for (const std::string& name : fixed_dataflow_names()) {
      const Dataflow dataflow = make_fixed_dataflow(name, layer, preset("eyeriss"));
      INFO(name << " on " << layer.name);
      CHECK(run_functional(layer, preset("eyeriss"), dataflow, which).ok());
    }
  }
}

TEST_CASE("functional mode refuses layers above its MAC limit") {
  const Layer layer = make_conv("test", "small", 2, 3, 6, 6, 3, 3, 1, 1, 1);
  const Dataflow dataflow = make_fixed_dataflow("nvdla", layer, preset("eyeriss"));
  CHECK(run_functional(layer, preset("eyeriss"), dataflow, 3).ok());
  CHECK_THROWS_AS(run_functional(layer, preset("eyeriss"), dataflow, 3, layer.macs() - 1),
                  InputError);
}

TEST_CASE("cycles, DRAM traffic and energy respect their bounds on every simulated case") {
  std::mt19937_64 rng(7);
  for (int which = 0; which < 60; ++which) {
    const Layer layer = random_small_layer(rng, which);
    const ArchSpec& arch = preset(which % 3 == 0 ? "edge" : "eyeriss");
    const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
    check_bounds(layer, arch, dataflow, evaluate(layer, arch, dataflow));
  }
  const Network resnet = load_network("workloads/models/resnet50.yaml");
  for (const Layer& layer : resnet.layers)
    for (const std::string& name : fixed_dataflow_names()) {
      const Dataflow dataflow = make_fixed_dataflow(name, layer, preset("eyeriss"));
      check_bounds(layer, preset("eyeriss"), dataflow,
                   evaluate(layer, preset("eyeriss"), dataflow));
    }
}

TEST_CASE("advancing the steady state gives the same cycles and counts as every iteration") {
  std::mt19937_64 rng(11);
  int64_t skipped_somewhere = 0;
  for (int which = 0; which < 40; ++which) {
    Layer layer = make_conv("test", "layer" + std::to_string(which), 16, 32, 28, 28, 3, 3,
                            1 + which % 2, 1, 1);
    layer.N = 1 + which % 3;
    const ArchSpec& arch = preset(which % 2 == 0 ? "eyeriss" : "edge");
    const std::size_t fixed = fixed_dataflow_names().size();
    const Dataflow dataflow = static_cast<std::size_t>(which) < fixed
                                  ? make_fixed_dataflow(fixed_dataflow_names()[which], layer, arch)
                                  : random_legal_dataflow(layer, arch, rng);
    INFO(dataflow_to_yaml(dataflow));
    const Result fast = evaluate_checking_skips(layer, arch, dataflow);
    skipped_somewhere += fast.total_steps - fast.simulated_steps;
  }
  CHECK(skipped_somewhere > 0);
}

TEST_CASE("a transfer takes ceil(bytes / bandwidth) cycles whether the bandwidth is whole or not") {
  std::mt19937_64 rng(5);
  for (const double bandwidth : {1.0, 2.0, 8.0, 12.0, 64.0, 100.0, 2048.0, 0.5, 2.5, 7.75}) {
    for (int draw = 0; draw < 2000; ++draw) {
      const auto bytes = static_cast<int64_t>(rng() % (draw % 2 == 0 ? 5000 : 1'000'000'000'000));
      // Reference: the smallest whole number of cycles that moves every byte.
      const auto reference = static_cast<int64_t>(
          std::ceil(static_cast<long double>(bytes) / static_cast<long double>(bandwidth)));
      INFO(bytes << " bytes at " << bandwidth << " B/cycle");
      CHECK(sim::transfer_cycles(bytes, bandwidth) == reference);
    }
  }
}

namespace {

// A 1x1 layer under a dataflow written on one line, at the eyeriss preset, checked as
// evaluate_checking_skips does.
Result pointwise_checking_skips(int64_t in_channels, int64_t out_channels, int64_t in_h,
                                int64_t in_w, const std::string& dataflow_line) {
  const Layer layer =
      make_conv("test", "pointwise", in_channels, out_channels, in_h, in_w, 1, 1, 1, 0, 1);
  const Dataflow dataflow = parse_dataflow_line(dataflow_line, "test");
  const ArchSpec& arch = preset("eyeriss");
  REQUIRE(legality_violations(layer, arch, dataflow).empty());
  return evaluate_checking_skips(layer, arch, dataflow);
}

}  // namespace

TEST_CASE("iterations whose state repeats every second iteration are skipped exactly") {
  // Found among random dataflows: with K innermost at L2, the 16 K tiles of each C tile start
  // in states that alternate (the global buffer's two slots), so consecutive iterations never
  // match but every second one does.
  const Result fast = pointwise_checking_skips(
      6, 16, 14, 14, "-:XSRNCYK:1,3,10,3,1,1,1|-:SKXNYCR:1,3,2,1,1,1,1|-:XKCSYRN:1,3,2,1,1,1,1");
  CHECK(fast.simulated_steps < fast.total_steps / 4);
}

TEST_CASE("an iteration is not taken for a repeat while the step it hands over differs") {
  // Found among random dataflows: the sink gets each step only when the walk emits the next, so
  // at an iteration's start the previous iteration's last step is still to come. Iteration 0's
  // last step fills more bytes over the NoC than the later iterations' last steps, yet the
  // model's states at iterations 1 and 2 matched: advancing from there put 486 more busy cycles
  // on the global buffer's port than simulating every iteration does.
  const Layer layer = make_conv("test", "conv", 1, 64, 30, 20, 3, 3, 1, 1, 1);
  const Dataflow dataflow = parse_dataflow_line(
      "K13:XNCRYKS:64,1,29,10,2,1,1|-:XSCKRYN:5,1,1,1,1,1,1|-:SCKRXNY:1,1,1,1,1,1,1", "test");
  const ArchSpec& arch = preset("edge");
  REQUIRE(legality_violations(layer, arch, dataflow).empty());
  const Result fast = evaluate_checking_skips(layer, arch, dataflow);
  CHECK(fast.total_steps == 5400);
  CHECK(fast.simulated_steps < 400);
}

TEST_CASE("iterations that repeat but for the clock of a longer transfer are advanced exactly") {
  // Found among random dataflows: one PE, 23 L1 steps along Y per L1 tile, each 38 cycles long,
  // while the next L2 tile's fetch counts down for thousands of cycles. The iterations' states
  // never repeat (that countdown differs), but they differ only in it and in how long processes
  // have waited for it, by one iteration's length each time. Advancing only exact repeats walks
  // 646 of the 8,004 steps.
  const Result fast = pointwise_checking_skips(
      6, 22, 46, 29, "-:RYSCNXK:11,3,46,29,1,1,1|-:NCRKXSY:5,3,2,1,1,1,1|-:CNRKXYS:5,3,2,1,1,1,1");
  CHECK(fast.total_steps == 8004);
  CHECK(fast.simulated_steps < 400);
}

TEST_CASE("DRAM ready times that nothing reads may run out inside advanced iterations") {
  // tpu-ws on a 1x1 layer: while an L2 tile's fetch counts down, the DRAM banks it opened
  // become ready one after another. No request reads them, so they need not bound how far the
  // iterations are advanced (bounding them too walks 1,742 of the 13,440 steps).
  const Layer layer = make_conv("test", "conv2_1a", 64, 64, 56, 56, 1, 1, 1, 0, 1);
  const ArchSpec& arch = preset("eyeriss");
  const Dataflow dataflow = make_fixed_dataflow("tpu-ws", layer, arch);
  const Result fast = evaluate_checking_skips(layer, arch, dataflow);
  CHECK(fast.total_steps == 13440);
  CHECK(fast.simulated_steps < 1200);
}

namespace {

// A 1x1 conv K4 C2 Y4 X4 whose whole layer is one L2 tile, split over 2 x 2 clusters along K
// and C: one L1 step, every count by hand.
Dataflow split_over_k_and_c() {
  Dataflow dataflow;
  dataflow.levels[0].tile = {4, 2, 4, 4, 1, 1, 1};
  dataflow.levels[0].fanout[dim_index(Dim::K)] = 2;
  dataflow.levels[0].fanout[dim_index(Dim::C)] = 2;
  dataflow.levels[1].tile = {2, 1, 4, 4, 1, 1, 1};
  dataflow.levels[2].tile = {2, 1, 4, 4, 1, 1, 1};
  return dataflow;
}

}  // namespace

TEST_CASE("multicast and spatial reduction over several unrolled dims match hand counts") {
  const Layer layer = make_conv("test", "pointwise", 2, 4, 4, 4, 1, 1, 1, 0, 1);
  const ArchSpec arch = plain_eyeriss();
  const Dataflow dataflow = split_over_k_and_c();
  REQUIRE(legality_violations(layer, arch, dataflow).empty());
  const Result result = evaluate(layer, arch, dataflow);
  const auto noc = static_cast<int>(CostLevel::Noc), l1 = static_cast<int>(CostLevel::L1);
  const auto input = static_cast<int>(Tensor::Input), weight = static_cast<int>(Tensor::Weight),
             output = static_cast<int>(Tensor::Output);
  // Clusters that differ only along K share their input channel: the NoC carries the 2 x 16
  // input words once, and each of the 4 clusters stores its own channel's 16.
  CHECK(result.counts.reads[noc][input] == 2 * 16);
  CHECK(result.counts.writes[l1][input] == 4 * 16);
  // Every weight goes to exactly one cluster: 8 words, 2 per cluster.
  CHECK(result.counts.reads[noc][weight] == 8);
  CHECK(result.counts.writes[l1][weight] == 4 * 2);
  // Clusters that differ only along C reduce their partial sums on the way back: 4 x 16 output
  // words leave the NoC, from 4 clusters each reading its 2 x 16 partial sums out of L1.
  CHECK(result.counts.writes[noc][output] == 4 * 16);
  CHECK(result.counts.reads[l1][output] == 4 * 2 * 16);
  CHECK(result.macs == 4 * 2 * 16);
  // A 2-level tree over the 4 clusters plus the link into L2. An input word goes to the 2
  // clusters along K (a subtree of 2: 1 + 1 links down to it, 2 links to the leaves: 4 links),
  // a weight word to one cluster (1 + 2 links), an output word is reduced from 2 clusters.
  CHECK(result.counts.noc_link_words[input] == 2 * 16 * 4);
  CHECK(result.counts.noc_link_words[weight] == 8 * 3);
  CHECK(result.counts.noc_link_words[output] == 4 * 16 * 4);
}

TEST_CASE("weights stay for the whole batch: DRAM weight reads do not grow with N") {
  const ArchSpec arch = plain_eyeriss();
  Dataflow dataflow = split_over_k_and_c();
  dataflow.levels[0].order = {Dim::K, Dim::C, Dim::R, Dim::S, Dim::N, Dim::Y, Dim::X};
  const auto dram = static_cast<int>(CostLevel::Dram);
  const auto reads = [&](int64_t batch, Tensor tensor) {
    Layer layer = make_conv("test", "pointwise", 2, 4, 4, 4, 1, 1, 1, 0, 1);
    layer.N = batch;
    REQUIRE(legality_violations(layer, arch, dataflow).empty());
    const Result result = evaluate(layer, arch, dataflow);
    CHECK(result.macs == layer.macs());
    return result.counts.reads[dram][static_cast<int>(tensor)];
  };
  CHECK(reads(1, Tensor::Weight) == 4 * 2);
  CHECK(reads(4, Tensor::Weight) == 4 * 2);
  CHECK(reads(4, Tensor::Input) == 4 * reads(1, Tensor::Input));
}

TEST_CASE("counts beyond int64 are exact up to the limit and refused past it") {
  const ArchSpec arch = plain_eyeriss();
  // The largest gemm the loader admits: 2^20 on every side, 2^60 MACs.
  const auto gemm = [](int64_t repeat) {
    return make_gemm("huge", LayerType::Gemm, 1 << 20, 1 << 20, 1 << 20, repeat);
  };
  const Dataflow dataflow = make_fixed_dataflow("nvdla", gemm(1), arch);
  const Result single = evaluate(gemm(1), arch, dataflow);
  CHECK(single.macs == int64_t{1} << 60);
  int64_t largest = 0;
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor)
      largest = std::max(
          {largest, single.counts.reads[level][tensor], single.counts.writes[level][tensor]});
  // Repeats scale every count; the most that keep the largest count inside int64 are exact.
  const int64_t most_repeats = std::numeric_limits<int64_t>::max() / largest;
  REQUIRE(most_repeats >= 1);
  const Result repeated = evaluate(gemm(most_repeats), arch, dataflow);
  CHECK(repeated.counts == single.counts.scaled(most_repeats));
  CHECK(repeated.cycles == single.cycles * most_repeats);
  // One more overflows a count (or the MAC count itself): refused, never wrapped.
  try {
    evaluate(gemm(most_repeats + 1), arch, dataflow);
    FAIL("a result with wrapped or saturated counts was returned");
  } catch (const InputError& error) {
    CHECK_THAT(error.what(), Catch::Contains("huge") && Catch::Contains("exceeds the int64 range"));
  }
}

TEST_CASE("eyeriss-rs's DRAM estimate is the traffic the simulator moves on halo-free passes") {
  // Filters bypass the eyeriss preset's global buffer, so a pass keeps them only in the PEs:
  // AlexNet CONV3 at N = 4 fetches them once per pass over the images, conv2_1a's fit the array
  // and are fetched once. Its passes cover whole rows and columns, so no halo is refetched.
  // CONV4's two groups of 192 filters take 48 per pass, so each pass reads one group's channels;
  // CONV5's two groups of 128 likewise, in passes of 64.
  // ViT's 16 x 16 patch filter rows are split to fit the spads; each part stays while every
  // pixel passes.
  const ArchSpec& eyeriss = preset("eyeriss");
  const std::vector<std::pair<std::string, int64_t>> layers = {
      {"workloads/models/alexnet.yaml:conv3", 4},
      {"workloads/models/alexnet.yaml:conv4", 4},
      {"workloads/models/alexnet.yaml:conv5", 4},
      {"workloads/models/vit_b16.yaml:patch_embed", 1},
      {"workloads/models/resnet50.yaml:conv2_1a", 1},
      {"workloads/models/resnet50.yaml:conv3_1c", 4},
      {"workloads/models/vit_b16.yaml:mlp_fc1", 1},
      {"workloads/models/bert_base.yaml:qkv", 1},
  };
  for (const auto& [reference, batch] : layers) {
    Layer layer = load_layer_ref(reference);
    layer.N = batch;
    const Dataflow dataflow = make_fixed_dataflow("eyeriss-rs", layer, eyeriss);
    DimArray array_tile = dataflow.levels[1].tile;
    for (int d = 0; d < kNumDims; ++d) array_tile[d] *= dataflow.levels[0].fanout[d];
    const double estimate = pass_dram_words(layer, eyeriss, dataflow.levels[0].tile,
                                            dataflow.levels[0].order, array_tile);
    const Result result = evaluate(layer, eyeriss, dataflow);
    INFO(reference << " N=" << batch << "\n" << dataflow_to_yaml(dataflow));
    CHECK(static_cast<double>(result.dram_bytes) == estimate * eyeriss.word_bytes);
  }
}

TEST_CASE("a grouped layer whose tiles stay within groups costs its groups run one by one") {
  // AlexNet CONV5 (two groups of 128 filters over 192 channels each) under eyeriss-rs walks its
  // filters outermost in passes that nest evenly inside a group, so it does exactly twice the
  // work of one group alone under the same dataflow: each PE receives one group's channels.
  const Layer grouped = load_layer_ref("workloads/models/alexnet.yaml:conv5");
  REQUIRE(grouped.groups == 2);
  const ArchSpec& eyeriss = preset("eyeriss");
  const Dataflow dataflow = make_fixed_dataflow("eyeriss-rs", grouped, eyeriss);
  INFO(dataflow_to_yaml(dataflow));
  REQUIRE(dataflow.levels[0].order[0] == Dim::K);
  REQUIRE(grouped.output_channels_per_group() % dataflow.levels[0].tile[dim_index(Dim::K)] == 0);
  for (int level = 0; level < kNumLevels; ++level)
    REQUIRE(k_origin(dataflow, level) == KOrigin::MultipleOfSize);
  Layer one_group = grouped;
  one_group.groups = 1;
  one_group.K = grouped.output_channels_per_group();
  REQUIRE(legality_violations(one_group, eyeriss, dataflow).empty());
  const Result both = evaluate(grouped, eyeriss, dataflow);
  const Result single = evaluate(one_group, eyeriss, dataflow);
  CHECK(both.macs == 2 * single.macs);
  CHECK(both.counts == single.counts.scaled(2));
}

TEST_CASE("repeated evaluations in one process give identical results") {
  const Layer layer = load_layer_ref("workloads/models/resnet50.yaml:conv2_1b");
  const Dataflow dataflow = make_fixed_dataflow("eyeriss-rs", layer, preset("eyeriss"));
  const Result first = evaluate(layer, preset("eyeriss"), dataflow);
  for (int run = 0; run < 5; ++run) {
    const Result again = evaluate(layer, preset("eyeriss"), dataflow);
    CHECK(again.cycles == first.cycles);
    CHECK(again.counts == first.counts);
  }
}

TEST_CASE("systolic array cycles follow the weight-stationary fold formula") {
  // The formula assumes bandwidth is never the limit: the tpu preset with every link unbounded.
  ArchSpec tpu = preset("tpu");
  tpu.l1_bandwidth = tpu.l2_bandwidth = tpu.noc_bandwidth = tpu.dram_bandwidth = 1e12;
  tpu.dram_latency = 0;
  const int64_t rows = tpu.array_rows, cols = tpu.array_cols;
  // rows x in_features x out_features
  const std::vector<std::array<int64_t, 3>> shapes = {
      {1024, 512, 512}, {784, 1024, 512}, {2048, 768, 768}, {512, 2048, 1024}, {3136, 1000, 300}};
  for (const auto& shape : shapes) {
    const Layer layer = make_gemm("gemm", LayerType::Gemm, shape[0], shape[1], shape[2], 1);
    // SCALE-Sim's fold: each fold pins a rows x cols block of weights, then streams every input
    // row through it: 2*rows + cols + T - 2 cycles (weights in, skewed fill, drain), the edge
    // folds as long as the full ones.
    const double formula =
        static_cast<double>((2 * rows + cols + layer.Y - 2) * ((layer.C + rows - 1) / rows) *
                            ((layer.K + cols - 1) / cols));
    const Dataflow dataflow = make_fixed_dataflow("tpu-ws", layer, tpu);
    const Result result = evaluate(layer, tpu, dataflow);
    INFO("GEMM " << shape[0] << "x" << shape[1] << "x" << shape[2] << ": simulated "
                 << result.cycles << ", fold formula " << formula << "\n"
                 << dataflow_to_yaml(dataflow));
    CHECK(std::fabs(static_cast<double>(result.cycles) - formula) / formula <= 0.05);
  }
}

TEST_CASE("a systolic fold that occupies part of the array fills and drains the whole array") {
  // Weights shift in through every row and results leave through the far edge's de-skew
  // registers, so a fold of 8 x 8 weights on the 128 x 128 tpu array costs as much skew as a
  // full one: 2*128 + 128 - 2 cycles besides its T streamed rows, not 2*8 + 8 - 2.
  ArchSpec tpu = preset("tpu");
  tpu.l1_bandwidth = tpu.l2_bandwidth = tpu.noc_bandwidth = tpu.dram_bandwidth = 1e12;
  tpu.dram_latency = 0;
  tpu.dram = DramTiming{};
  for (const int64_t streamed : {64, 1000}) {
    const Layer layer = make_gemm("gemm", LayerType::Gemm, streamed, 8, 8, 1);
    const Dataflow dataflow = make_fixed_dataflow("tpu-ws", layer, tpu);
    REQUIRE(array_units_on(dataflow, Axis::Rows) == 8);
    REQUIRE(array_units_on(dataflow, Axis::Cols) == 8);
    const int64_t fold = 2 * tpu.array_rows + tpu.array_cols + streamed - 2;
    const Result result = evaluate(layer, tpu, dataflow);
    INFO("T = " << streamed << ": simulated " << result.cycles << ", one fold " << fold);
    // A handful of cycles on top for the MAC pipeline and the last outputs' write-back.
    CHECK(result.cycles >= fold);
    CHECK(result.cycles <= fold + 8);
  }
}

TEST_CASE("columns holding different groups' filters take turns with their row streams") {
  // A systolic row carries one input stream past every column, so a depthwise layer's 16
  // filters on 16 columns, each reading its own channel, need 16 streams: the array runs one
  // group at a time, SCALE-Sim's fold once per group, 2*rows + cols + T - 2 with T the streamed
  // dim (WS: the 8 x 8 pixels, 9 taps on the rows; OS: the 9 taps, 64 pixels on 16 rows).
  const ArchSpec arch = load_arch("tests/validation/arch/systolic_16x16.yaml");
  const int64_t rows = arch.array_rows, cols = arch.array_cols, channels = 16, pixels = 64,
                taps = 9;
  const Layer depthwise = make_conv("test", "dw", channels, channels, 8, 8, 3, 3, 1, 1, channels);
  const Layer dense = make_conv("test", "dense", channels, channels, 8, 8, 3, 3, 1, 1, 1);
  const auto fold = [&](int64_t streamed) { return 2 * rows + cols + streamed - 2; };
  struct Case {
    const char* dataflow;
    int64_t depthwise_cycles;  // per group: one fold (row folds x column folds = 1)
    int64_t dense_cycles;      // all 16 filters share the streams
  };
  const std::vector<Case> cases = {
      {"tpu-ws", channels * fold(pixels), fold(pixels) * ((channels * taps + rows - 1) / rows)},
      {"tpu-os", channels * fold(taps) * (pixels / rows), fold(channels * taps) * (pixels / rows)},
  };
  for (const Case& c : cases) {
    for (const auto& [layer, formula] :
         {std::pair{depthwise, c.depthwise_cycles}, std::pair{dense, c.dense_cycles}}) {
      const Dataflow dataflow = make_fixed_dataflow(c.dataflow, layer, arch);
      REQUIRE(array_units_on(dataflow, Axis::Cols) == channels);
      const Result result = evaluate(layer, arch, dataflow);
      INFO(c.dataflow << " " << layer.name << ": simulated " << result.cycles << ", formula "
                      << formula << "\n"
                      << dataflow_to_yaml(dataflow));
      // A handful of cycles on top for the MAC pipeline and the last outputs' write-back.
      CHECK(result.cycles >= formula);
      CHECK(result.cycles <= formula + 8);
    }
  }
}

TEST_CASE("cells doing one MAC per step hold the operand that differs along rows and columns") {
  // Input stationary with a single filter (T = 1, as each group of a depthwise layer's im2col
  // GEMM): the 9 taps down the rows, 64 output pixels across 16 columns, four folds. No PE loop
  // iterates, so only the array's shape says the inputs sit in the cells; every fold loads a new
  // block of them and pays SCALE-Sim's 2*rows + cols + T - 2.
  const ArchSpec arch = load_arch("tests/validation/arch/systolic_16x16.yaml");
  const Layer gemm = make_gemm("one_filter", LayerType::Gemm, 64, 9, 1, 1);
  Dataflow dataflow;
  dataflow.levels[0].tile = {1, 9, 16, 1, 1, 1, 1};
  dataflow.levels[0].fanout[dim_index(Dim::C)] = 9;
  dataflow.levels[0].axis[dim_index(Dim::C)] = Axis::Rows;
  dataflow.levels[1].tile = {1, 1, 16, 1, 1, 1, 1};
  dataflow.levels[1].fanout[dim_index(Dim::Y)] = 16;
  dataflow.levels[1].axis[dim_index(Dim::Y)] = Axis::Cols;
  require_legal(gemm, arch, dataflow, "test");
  const int64_t folds = 64 / arch.array_cols;
  const int64_t formula = folds * (2 * arch.array_rows + arch.array_cols + 1 - 2);
  const Result result = evaluate(gemm, arch, dataflow);
  INFO("simulated " << result.cycles << ", formula " << formula);
  // A handful of cycles on top for the MAC pipeline and the last outputs' write-back.
  CHECK(result.cycles >= formula);
  CHECK(result.cycles <= formula + 8);
}

TEST_CASE("grouped layers on a systolic array: skipping equals every iteration, bounds hold") {
  const ArchSpec arch = load_arch("tests/validation/arch/systolic_16x16.yaml");
  std::mt19937_64 rng(14);
  for (int which = 0; which < 30; ++which) {
    // Depthwise and grouped layers (random_small_layer's kinds 2 and 3).
    const Layer layer = random_small_layer(rng, 2 + which % 2 + 5 * which);
    const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
    INFO(dataflow_to_yaml(dataflow));
    check_bounds(layer, arch, dataflow, evaluate_checking_skips(layer, arch, dataflow));
  }
}

namespace {

// A 1x1 conv with `channels` inputs and `filters` outputs over 4 x 4 pixels, the whole layer one
// L2 tile, with `ways` units along `dim` at `level` (0: clusters, 1: the PEs of a cluster) and
// everything else temporal in the PEs.
Dataflow spread_over_units(const Layer& layer, int level, Dim dim, int64_t ways) {
  Dataflow dataflow;
  for (LevelMapping& mapping : dataflow.levels) mapping.tile = layer.dims();
  dataflow.levels[level].fanout[dim_index(dim)] = ways;
  for (int below = level + 1; below < kNumLevels; ++below)
    dataflow.levels[below].tile[dim_index(dim)] = layer.dim(dim) / ways;
  return dataflow;
}

}  // namespace

TEST_CASE("a spatial reduction pays ceil(log2 fan-out) adder-tree cycles once per drain") {
  // Every transfer takes one cycle, so the dataflows below differ only in their reductions.
  ArchSpec arch = plain_eyeriss();
  arch.l1_bandwidth = arch.l2_bandwidth = arch.noc_bandwidth = arch.dram_bandwidth = 1e12;
  arch.dram_latency = 0;
  arch.dram = DramTiming{};
  REQUIRE_FALSE(arch.systolic);
  const auto cycles = [&](int64_t channels, int64_t filters, int level, Dim dim, int64_t ways) {
    const Layer layer = make_conv("test", "pointwise", channels, filters, 4, 4, 1, 1, 1, 0, 1);
    const Dataflow dataflow = spread_over_units(layer, level, dim, ways);
    REQUIRE(legality_violations(layer, arch, dataflow).empty());
    return evaluate(layer, arch, dataflow).cycles;
  };
  for (const int level : {0, 1}) {
    for (const int64_t ways : {2, 3, 4, 5, 7, 8}) {
      // C over the units reduces 16 output words through the tree; K over as many units keeps
      // their outputs apart. Both run one MAC step per unit and one drain of partial sums, which
      // the pipelined tree delays by its depth, not by its depth per word.
      const int64_t reduced = cycles(ways, 1, level, Dim::C, ways);
      const int64_t separate = cycles(1, ways, level, Dim::K, ways);
      INFO("level " << level << ", " << ways << " units: reduced " << reduced << ", separate "
                    << separate);
      CHECK(reduced - separate == static_cast<int64_t>(std::ceil(std::log2(ways))));
    }
  }
}

TEST_CASE("no resource is busier than the run, and stalls partition the idle cycles") {
  // Every fixed dataflow on ResNet-50, MobileNet-V2 and ViT-B/16 at every preset.
  int64_t runs = 0;
  for (const std::string arch_name : {"eyeriss", "edge", "cloud", "tpu"}) {
    const ArchSpec& arch = preset(arch_name);
    for (const std::string model : {"resnet50", "mobilenet_v2", "vit_b16"}) {
      for (const Layer& layer : load_network("workloads/models/" + model + ".yaml").layers) {
        for (const std::string& name : fixed_dataflow_names()) {
          INFO(arch_name << " " << model << ":" << layer.name << " " << name);
          check_accounting(evaluate(layer, arch, make_fixed_dataflow(name, layer, arch)));
          ++runs;
        }
      }
    }
  }
  CHECK(runs > 1000);
}

TEST_CASE("timeline tracks sum to the busy and stall cycles, with and without skipping") {
  std::mt19937_64 rng(31);
  for (int which = 0; which < 8; ++which) {
    Layer layer = make_conv("test", "t" + std::to_string(which), 8, 16, 14, 14, 3, 3, 1, 1, 1);
    layer.N = 1 + which % 2;
    const ArchSpec& arch = preset(which % 3 == 0 ? "tpu" : "eyeriss");
    const Dataflow dataflow = which < 5
                                  ? make_fixed_dataflow(fixed_dataflow_names()[which], layer, arch)
                                  : random_legal_dataflow(layer, arch, rng);
    for (const bool skip : {true, false}) {
      const test::TempFile timeline("", ".json");
      EvalOptions options;
      options.skip_steady_state = skip;
      options.timeline_path = timeline.path();
      const Result result = evaluate(layer, arch, dataflow, options);
      std::ifstream file(options.timeline_path);
      const nlohmann::json trace = nlohmann::json::parse(file);
      CHECK(trace["otherData"]["time_unit"] == "cycles");
      std::map<int64_t, std::string> track_names;
      std::map<std::string, int64_t> sums;
      for (const auto& event : trace["traceEvents"]) {
        if (event["ph"] == "M") track_names[event["tid"]] = event["args"]["name"];
        if (event["ph"] == "X") sums[track_names[event["tid"]]] += event["dur"].get<int64_t>();
      }
      int64_t stalls = 0;
      for (const int64_t cycles : result.stall_cycles) stalls += cycles;
      INFO(dataflow_to_yaml(dataflow) << "skip " << skip);
      CHECK(sums["PE array"] == result.busy.compute);
      CHECK(sums["stall"] == stalls);
      CHECK(sums["DRAM"] == result.busy.dram);
      CHECK(sums["NoC"] == result.busy.noc);
      CHECK(sums["L2 port"] == result.busy.l2);
    }
  }
}

TEST_CASE("the timeline shows compute, transfers and stalls as trace events") {
  const Layer layer = make_conv("test", "small", 8, 16, 14, 14, 3, 3, 1, 1, 1);
  const Dataflow dataflow = make_fixed_dataflow("shidiannao", layer, preset("eyeriss"));
  EvalOptions options;
  options.timeline_path = "test_timeline.json";
  const Result result = evaluate(layer, preset("eyeriss"), dataflow, options);
  std::ifstream file(options.timeline_path);
  const nlohmann::json trace = nlohmann::json::parse(file);
  std::set<std::string> units;
  int64_t last_end = 0;
  for (const auto& event : trace["traceEvents"]) {
    if (event["ph"] == "M") units.insert(event["args"]["name"].get<std::string>());
    if (event["ph"] == "X")
      last_end = std::max(last_end, event["ts"].get<int64_t>() + event["dur"].get<int64_t>());
  }
  CHECK(units.count("PE array") == 1);
  CHECK(units.count("NoC") == 1);
  CHECK(units.count("DRAM") == 1);
  CHECK(last_end <= result.cycles);
  std::remove(options.timeline_path.c_str());
}

TEST_CASE("per-tensor allocation: bypassed tensors skip L2, buffering changes only timing") {
  // Every mix of double buffering, L2 bypass and L0 partitioning on random layers and dataflows at
  // the eyeriss preset: the physical bounds hold, skipping equals every iteration, a tensor that
  // bypasses L2 never touches it and moves between DRAM and the NoC word for word, and the counts
  // do not depend on how many copies a buffer holds.
  std::mt19937_64 rng(41);
  int64_t bypass_runs = 0, l1_bypass_runs = 0;
  for (int which = 0; which < 32; ++which) {
    const Layer layer = random_small_layer(rng, which);
    ArchSpec arch = plain_eyeriss();
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      arch.double_buffered[tensor] = ((which >> tensor) & 1) != 0;
      arch.l2_bypass[tensor] = ((which >> (tensor + 3)) & 1) != 0 && tensor != which % 3;
    }
    // Every other case splits L0 into one scratchpad per tensor; every fourth feeds an operand
    // from the NoC straight into the PEs.
    if (which % 2 == 0) arch.l0_partition_bytes = {128, 256, 128};
    if (which % 4 == 1) arch.l1_bypass[which % 8 == 1 ? 0 : 1] = true;
    const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
    INFO(layer.name << " single/double " << which << "\n" << dataflow_to_yaml(dataflow));
    const Result fast = evaluate_checking_skips(layer, arch, dataflow);
    check_bounds(layer, arch, dataflow, fast);
    check_accounting(fast);
    const auto at = [](const std::array<std::array<int64_t, kNumTensors>, kNumCostLevels>& table,
                       CostLevel level,
                       int tensor) { return table[static_cast<int>(level)][tensor]; };
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      if (arch.l1_bypass[tensor]) {
        // Delivered into the PEs: no L1 access at all, and no more L0 writes than NoC reads
        // times the PEs a word can reach.
        CHECK(at(fast.counts.reads, CostLevel::L1, tensor) == 0);
        CHECK(at(fast.counts.writes, CostLevel::L1, tensor) == 0);
        CHECK(at(fast.counts.writes, CostLevel::L0, tensor) > 0);
        CHECK(at(fast.counts.writes, CostLevel::L0, tensor) <=
              at(fast.counts.reads, CostLevel::Noc, tensor) * arch.num_pes);
        ++l1_bypass_runs;
      }
      if (!arch.l2_bypass[tensor]) continue;
      ++bypass_runs;
      CHECK(at(fast.counts.reads, CostLevel::L2, tensor) == 0);
      CHECK(at(fast.counts.writes, CostLevel::L2, tensor) == 0);
      CHECK(at(fast.counts.reads, CostLevel::Dram, tensor) ==
            at(fast.counts.reads, CostLevel::Noc, tensor));
      CHECK(at(fast.counts.writes, CostLevel::Dram, tensor) ==
            at(fast.counts.writes, CostLevel::Noc, tensor));
    }
    // Delivering an operand into the PEs over the NoC writes the PEs' L0s as filling them from
    // L1 would (the L0 tile is the whole share either way), except that the rows a sliding input
    // window shares with the previous step stay in the PEs, as they stay in L1 otherwise.
    ArchSpec through_l1 = arch;
    through_l1.l1_bypass = {};
    through_l1.l1_bytes = int64_t{1} << 30;
    if (arch.l1_bypass != TensorFlags{} &&
        legality_violations(layer, through_l1, dataflow).empty()) {
      const Result filled = evaluate(layer, through_l1, dataflow);
      const auto l0_writes = [&](const Result& result, Tensor tensor) {
        return at(result.counts.writes, CostLevel::L0, static_cast<int>(tensor));
      };
      CHECK(l0_writes(fast, Tensor::Weight) == l0_writes(filled, Tensor::Weight));
      CHECK(l0_writes(fast, Tensor::Input) <= l0_writes(filled, Tensor::Input));
      CHECK(l0_writes(fast, Tensor::Output) == l0_writes(filled, Tensor::Output));
    }
    ArchSpec all_double = arch;
    all_double.double_buffered = {true, true, true};
    if (legality_violations(layer, all_double, dataflow).empty())
      CHECK(evaluate(layer, all_double, dataflow).counts == fast.counts);
  }
  CHECK(bypass_runs > 10);
  CHECK(l1_bypass_runs >= 8);
}

TEST_CASE("a single-buffered tensor's next tile waits for the current one to be done with") {
  // One conv under a dataflow with many L2 tiles: single-buffering the inputs serialises their
  // fetches with compute, so the run is slower and its DRAM waits longer. Each buffer is cut to
  // what the tiles take, so no spare room lets the next tile in early.
  const Layer layer = make_conv("test", "conv", 32, 32, 28, 28, 3, 3, 1, 1, 1);
  ArchSpec arch = plain_eyeriss();
  const Dataflow dataflow = make_fixed_dataflow("nvdla", layer, arch);
  const Result both = evaluate(layer, arch, dataflow);
  const auto without_room = [&](const TensorFlags& double_buffered) {
    arch.double_buffered = double_buffered;
    arch.l2_bytes = footprint_bytes(layer, arch, dataflow, 0);
    arch.l1_bytes = footprint_bytes(layer, arch, dataflow, 1);
    arch.l0_bytes = footprint_bytes(layer, arch, dataflow, 2);
    REQUIRE(legality_violations(layer, arch, dataflow).empty());
    return evaluate(layer, arch, dataflow);
  };
  const Result single_inputs = without_room({false, true, true});
  const Result none = without_room({false, false, false});
  INFO(dataflow_to_yaml(dataflow));
  CHECK(both.counts == single_inputs.counts);
  CHECK(both.cycles < single_inputs.cycles);
  CHECK(single_inputs.cycles <= none.cycles);
}

TEST_CASE("double-buffered outputs go to DRAM while the next L2 tile computes") {
  // L2 tiles that each finish their outputs (all channels inside the tile, filters split across
  // tiles) end with a DRAM write. Double-buffered, the write overlaps the next tile's MACs;
  // single-buffered, the next tile's partial sums must wait for it. Only timing differs.
  const Layer layer = make_conv("test", "conv", 16, 128, 28, 28, 3, 3, 1, 1, 1);
  ArchSpec arch = plain_eyeriss();
  arch.dram_bandwidth = 1;  // a slow bus, so the write is long enough to matter
  Dataflow dataflow = make_fixed_dataflow("nvdla", layer, arch);
  dataflow.levels[0].tile[dim_index(Dim::C)] = layer.C;
  dataflow.levels[0].tile[dim_index(Dim::K)] = 16;
  repair_dataflow(layer, arch, dataflow);
  INFO(dataflow_to_yaml(dataflow));
  REQUIRE(dataflow.levels[0].tile[dim_index(Dim::C)] == layer.C);
  REQUIRE(dataflow.levels[0].tile[dim_index(Dim::K)] < layer.K);
  const Result overlapped = evaluate_checking_skips(layer, arch, dataflow);
  arch.double_buffered = {true, true, false};
  const Result serialised = evaluate_checking_skips(layer, arch, dataflow);
  CHECK(overlapped.counts == serialised.counts);
  CHECK(overlapped.cycles < serialised.cycles);
  // The PEs wait for write-backs only at the end, for (part of) the last tile's outputs: at most
  // twice its bus time, where writing every tile in line would stall them once per tile.
  const int64_t tile_write_cycles = 16 * 28 * 28 * arch.word_bytes;
  const auto writeback_stall = [](const Result& result) {
    return result.stall_cycles[static_cast<int>(StallCause::Writeback)];
  };
  CHECK(writeback_stall(overlapped) <= 2 * tile_write_cycles);
  CHECK(writeback_stall(serialised) > 4 * tile_write_cycles);
  check_accounting(overlapped);
  check_accounting(serialised);
}

TEST_CASE("single-buffering the operands never makes a run faster or changes its counts") {
  // One copy of each operand tile can only delay fills (they wait for the MACs, or for room
  // beside the current tile); the words moved stay the same.
  const Layer layer = make_conv("test", "conv", 64, 64, 28, 28, 3, 3, 1, 1, 1);
  ArchSpec arch = plain_eyeriss();
  for (const std::string& name : fixed_dataflow_names()) {
    arch.double_buffered = {true, true, true};
    const Dataflow dataflow = make_fixed_dataflow(name, layer, arch);
    INFO(name << "\n" << dataflow_to_yaml(dataflow));
    const Result both = evaluate_checking_skips(layer, arch, dataflow);
    arch.double_buffered = {false, false, true};
    const Result single = evaluate_checking_skips(layer, arch, dataflow);
    CHECK(single.cycles >= both.cycles);
    CHECK(single.counts == both.counts);
  }
}

TEST_CASE("eyeriss-rs: a filter row per PE and a global-buffer pass that saves DRAM traffic") {
  // On the Eyeriss chip's spads and bypasses, every AlexNet CONV layer at batch 4 gets the
  // row-stationary shape (a PE slides one whole filter row along one output row, one pixel per
  // step), and the pass the generator picks for the global buffer moves fewer DRAM bytes than
  // the smallest pass (one round of the PE array over the whole output plane).
  const ArchSpec& arch = preset("eyeriss");
  Network alexnet = load_network("workloads/models/alexnet.yaml");
  set_batch(alexnet, 4, "test");
  for (const Layer& layer : alexnet.layers) {
    if (layer.type != LayerType::Conv) continue;
    const Dataflow dataflow = make_fixed_dataflow("eyeriss-rs", layer, arch);
    INFO(layer.name << "\n" << dataflow_to_yaml(dataflow));
    REQUIRE(legality_violations(layer, arch, dataflow).empty());
    const DimArray& pe_tile = dataflow.levels[2].tile;
    CHECK(pe_tile[dim_index(Dim::S)] == layer.S);
    for (Dim dim : {Dim::R, Dim::Y, Dim::X, Dim::N}) CHECK(pe_tile[dim_index(dim)] == 1);
    Dataflow one_round = dataflow;
    for (Dim dim : {Dim::K, Dim::C, Dim::N}) {
      const int d = dim_index(dim);
      one_round.levels[0].tile[d] = dataflow.levels[1].tile[d] * dataflow.levels[0].fanout[d];
    }
    REQUIRE(legality_violations(layer, arch, one_round).empty());
    CHECK(evaluate(layer, arch, dataflow).dram_bytes < evaluate(layer, arch, one_round).dram_bytes);
  }
}

TEST_CASE(
    "a single-buffered operand's next words arrive during the step when its buffer has room") {
  // Eyeriss's ifmap spad holds a PE's window (q channels x S columns); with room to spare, the
  // column the window slides onto comes in while the MACs run, as into a circular buffer.
  // Without that room it waits for the MACs to finish. Only timing differs.
  const Layer layer = make_conv("test", "conv5x5", 16, 32, 16, 16, 5, 5, 1, 2, 1);
  const ArchSpec& roomy = preset("eyeriss");
  const Dataflow dataflow = make_fixed_dataflow("eyeriss-rs", layer, roomy);
  INFO(dataflow_to_yaml(dataflow));
  const int input = static_cast<int>(Tensor::Input);
  const int64_t window_bytes =
      footprint_elements(layer, dataflow.levels[2].tile, Tensor::Input) * roomy.word_bytes;
  REQUIRE(window_bytes < roomy.l0_partition_bytes[input]);
  ArchSpec tight = roomy;
  tight.l0_partition_bytes[input] = window_bytes;
  tight.l0_bytes -= roomy.l0_partition_bytes[input] - window_bytes;
  REQUIRE(legality_violations(layer, tight, dataflow).empty());
  const Result overlapped = evaluate_checking_skips(layer, roomy, dataflow);
  const Result serialised = evaluate_checking_skips(layer, tight, dataflow);
  CHECK(overlapped.counts == serialised.counts);
  CHECK(overlapped.cycles < serialised.cycles);
  const auto noc = static_cast<int>(StallCause::Noc);
  CHECK(overlapped.stall_cycles[noc] < serialised.stall_cycles[noc]);
}
