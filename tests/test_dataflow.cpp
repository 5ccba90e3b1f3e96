// The mapping description (footprints, legality, YAML, MAESTRO export) and the dataflow
// generators in dataflow/ (repair, random, fixed, resolve). Run from the repository root.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/dataflow.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "dataflow/repair.hpp"
#include "dataflow/resolve.hpp"
#include "tests/test_support.hpp"
#include "workloads/layer.hpp"

namespace fs = std::filesystem;
using namespace dcp;

namespace {

// Small enough that tests can reason about every number.
ArchSpec small_arch() {
  ArchSpec arch;
  arch.name = "small";
  arch.source = "small.yaml";
  arch.array_rows = 4;
  arch.array_cols = 4;
  arch.num_pes = 16;
  arch.macs_per_pe = 2;
  arch.word_bytes = 2;
  arch.l0_bytes = 512;
  arch.l1_bytes = 4096;
  arch.l2_bytes = 65536;
  arch.double_buffered = {true, true, true};
  return arch;
}

std::vector<std::string> yaml_files(const std::string& folder) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() == ".yaml") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

using test::batched;
using test::conv_layer;
using test::legal_conv_dataflow;
using test::replaced;
using test::TempFile;

// The one-line message load_dataflow throws for `text`.
std::string load_error(const std::string& text, std::string* path = nullptr) {
  const TempFile file(text);
  if (path != nullptr) *path = file.path();
  try {
    load_dataflow(file.path());
  } catch (const InputError& error) {
    return error.what();
  }
  FAIL("no InputError for:\n" << text);
  return "";
}

bool mentions(const std::vector<std::string>& violations, const std::string& text) {
  return std::any_of(violations.begin(), violations.end(),
                     [&text](const std::string& v) { return v.find(text) != std::string::npos; });
}

const char* const kValidYaml = R"(name: my_dataflow
levels:
  - level: L2
    spatial: {dim: K, fanout: 4}
    order: [K, C, Y, X, R, S, N]
    tile: {K: 32, C: 16, Y: 8, X: 8, R: 3, S: 3, N: 1}
  - level: L1
    spatial: {dim: C, fanout: 4}
    order: [K, C, Y, X, R, S, N]
    tile: {K: 8, C: 8, Y: 4, X: 4, R: 3, S: 3, N: 1}
  - level: L0
    spatial: {dim: X, fanout: 2}
    order: [K, C, Y, X, R, S, N]
    tile: {K: 2, C: 2, Y: 2, X: 2, R: 3, S: 3, N: 1}
)";

}  // namespace

TEST_CASE("footprint of a strided convolution tile includes the halo") {
  Layer layer = make_conv("test", "strided", 8, 16, 32, 32, 3, 3, 2, 1, 1);
  REQUIRE(layer.stride == 2);
  const DimArray tile = {4, 2, 3, 5, 3, 3, 1};  // K C Y X R S
  // rows (3-1)*2+3 = 7, cols (5-1)*2+3 = 11
  CHECK(footprint_elements(layer, tile, Tensor::Input) == 2 * 7 * 11);
  CHECK(footprint_elements(layer, tile, Tensor::Weight) == 4 * 2 * 3 * 3);
  CHECK(footprint_elements(layer, tile, Tensor::Output) == 4 * 3 * 5);
}

TEST_CASE("footprint of a depthwise tile counts one input channel per output channel") {
  const Layer layer = make_conv("test", "dw", 32, 32, 16, 16, 3, 3, 1, 1, 32);
  REQUIRE(layer.C == 1);
  const DimArray tile = {8, 1, 2, 2, 3, 3, 1};
  CHECK(footprint_elements(layer, tile, Tensor::Input) == 8 * 4 * 4);
  CHECK(footprint_elements(layer, tile, Tensor::Weight) == 8 * 9);
  CHECK(footprint_elements(layer, tile, Tensor::Output) == 8 * 4);
}

TEST_CASE("footprint of a grouped tile counts the groups its K range spans") {
  // 4 groups of 8 output channels and 4 input channels each.
  const Layer layer = make_conv("test", "grouped", 16, 32, 8, 8, 1, 1, 1, 0, 4);
  REQUIRE(layer.C == 4);
  const DimArray two_groups = {16, 4, 1, 1, 1, 1, 1};
  CHECK(footprint_elements(layer, two_groups, Tensor::Input, KOrigin::MultipleOfSize) == 4 * 2);
  CHECK(footprint_elements(layer, two_groups, Tensor::Input) == 4 * 3);  // from K = 4: 0, 1, 2
  CHECK(footprint_elements(layer, {12, 4, 1, 1, 1, 1, 1}, Tensor::Input) == 4 * 3);  // may straddle
  CHECK(footprint_elements(layer, {9, 4, 1, 1, 1, 1, 1}, Tensor::Input) == 4 * 2);
  CHECK(footprint_elements(layer, {32, 4, 1, 1, 1, 1, 1}, Tensor::Input) == 4 * 4);
}

TEST_CASE("a level's K tiles start at multiples of their size when they nest evenly") {
  // 4 groups of 8 output channels: a PE tile of 4 filters inside L1 tiles of 8 and an L2 tile
  // of 16 never straddles two groups, so its input is one group's channels; inside L1 tiles of
  // 12 it may start at 4, 8, ... and is charged for two.
  const Layer layer = make_conv("test", "grouped", 16, 32, 8, 8, 1, 1, 1, 0, 4);
  Dataflow dataflow;
  for (LevelMapping& mapping : dataflow.levels) mapping.tile[dim_index(Dim::C)] = layer.C;
  const int k = dim_index(Dim::K);
  dataflow.levels[0].tile[k] = 16;
  dataflow.levels[1].tile[k] = 8;
  dataflow.levels[2].tile[k] = 4;
  for (int level = 0; level < kNumLevels; ++level)
    CHECK(k_origin(dataflow, level) == KOrigin::MultipleOfSize);
  const ArchSpec arch = small_arch();
  CHECK(tensor_footprint_bytes(layer, arch, dataflow.levels[2].tile, Tensor::Input, 2,
                               k_origin(dataflow, 2)) ==
        layer.C * arch.word_bytes * buffer_copies(arch, Tensor::Input));
  dataflow.levels[1].tile[k] = 12;
  CHECK(k_origin(dataflow, 1) == KOrigin::Anywhere);
  CHECK(k_origin(dataflow, 2) == KOrigin::MultipleOfSize);
  dataflow.levels[2].tile[k] = 8;
  CHECK(k_origin(dataflow, 2) == KOrigin::Anywhere);
  CHECK(tensor_footprint_bytes(layer, arch, dataflow.levels[2].tile, Tensor::Input, 2,
                               k_origin(dataflow, 2)) ==
        2 * layer.C * arch.word_bytes * buffer_copies(arch, Tensor::Input));
  CHECK(k_origin(dataflow, 0) == KOrigin::MultipleOfSize);  // L2 tiles walk the layer from 0
}

TEST_CASE("footprint of a gemm tile is plain matrix blocks") {
  const Layer layer = make_gemm("fc", LayerType::Gemm, 128, 768, 3072, 1);
  const DimArray tile = {64, 32, 16, 1, 1, 1, 1};
  CHECK(footprint_elements(layer, tile, Tensor::Input) == 32 * 16);
  CHECK(footprint_elements(layer, tile, Tensor::Weight) == 64 * 32);
  CHECK(footprint_elements(layer, tile, Tensor::Output) == 64 * 16);
}

TEST_CASE("footprint saturates instead of overflowing") {
  Layer layer = make_gemm("huge", LayerType::Gemm, 1, 1, 1, 1);
  layer.K = layer.C = layer.Y = int64_t{1} << 31;  // beyond what the loaders accept
  const DimArray tile = layer.dims();
  CHECK(footprint_elements(layer, tile, Tensor::Weight) > (int64_t{1} << 61));
  Dataflow dataflow;
  for (LevelMapping& mapping : dataflow.levels) mapping.tile = tile;
  CHECK(footprint_bytes(layer, small_arch(), dataflow, 0) == std::numeric_limits<int64_t>::max());
}

TEST_CASE("footprint_bytes doubles for double buffering; capacities follow the level") {
  const Layer layer = conv_layer();
  ArchSpec arch = small_arch();
  const Dataflow dataflow = legal_conv_dataflow();
  const DimArray& l0 = dataflow.levels[2].tile;
  const int64_t words = footprint_elements(layer, l0, Tensor::Input) +
                        footprint_elements(layer, l0, Tensor::Weight) +
                        footprint_elements(layer, l0, Tensor::Output);
  CHECK(footprint_bytes(layer, arch, dataflow, 2) == words * 2 * 2);
  arch.double_buffered = {false, false, false};
  CHECK(footprint_bytes(layer, arch, dataflow, 2) == words * 2);
  CHECK(level_capacity_bytes(arch, 0) == arch.l2_bytes);
  CHECK(level_capacity_bytes(arch, 1) == arch.l1_bytes);
  CHECK(level_capacity_bytes(arch, 2) == arch.l0_bytes);
}

TEST_CASE("per-tensor allocation: single-buffered tensors count once, bypassed ones not at L2") {
  const Layer layer = conv_layer();
  ArchSpec arch = small_arch();
  const Dataflow dataflow = legal_conv_dataflow();
  const auto words = [&](int level, Tensor tensor) {
    return footprint_elements(layer, dataflow.levels[level].tile, tensor);
  };
  arch.double_buffered = {true, false, true};
  arch.l2_bypass = {false, true, false};
  for (int level = 0; level < kNumLevels; ++level) {
    INFO("level " << level);
    const int64_t weight_bytes = level == 0 ? 0 : words(level, Tensor::Weight) * 2;
    CHECK(tensor_footprint_bytes(layer, arch, dataflow.levels[level].tile, Tensor::Weight, level,
                                 k_origin(dataflow, level)) == weight_bytes);
    CHECK(footprint_bytes(layer, arch, dataflow, level) ==
          (words(level, Tensor::Input) + words(level, Tensor::Output)) * 2 * 2 + weight_bytes);
  }
}

TEST_CASE("a partitioned L0 checks each tensor against its own scratchpad") {
  const Layer layer = conv_layer();
  ArchSpec arch = small_arch();
  Dataflow dataflow = legal_conv_dataflow();
  const DimArray& l0 = dataflow.levels[2].tile;
  const int64_t input_bytes = footprint_elements(layer, l0, Tensor::Input) * 2 * 2;
  const int64_t weight_bytes = footprint_elements(layer, l0, Tensor::Weight) * 2 * 2;
  const int64_t output_bytes = footprint_elements(layer, l0, Tensor::Output) * 2 * 2;
  // Room for everything in total, but the weight scratchpad is one word short.
  arch.l0_partition_bytes = {input_bytes + 100, weight_bytes - 2, output_bytes};
  arch.l0_bytes = input_bytes + weight_bytes + output_bytes + 98;
  CHECK(footprint_bytes(layer, arch, dataflow, 2) <= arch.l0_bytes);
  CHECK(overflow_bytes(layer, arch, dataflow, 2) == 2);
  const auto violations = legality_violations(layer, arch, dataflow);
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].find("levels[2].tile: L0 weight footprint") == 0);
  CHECK(violations[0].find("weight footprint <= " + std::to_string(weight_bytes - 2) + " B") !=
        std::string::npos);
  // The repair shrinks a dim the weights depend on until their scratchpad fits.
  repair_dataflow(layer, arch, dataflow);
  CHECK(overflow_bytes(layer, arch, dataflow, 2) == 0);
  CHECK(legality_violations(layer, arch, dataflow).empty());
}

TEST_CASE("an operand that bypasses L1 ties the L0 tile to a PE's share of the L1 tile") {
  const Layer layer = conv_layer();
  ArchSpec arch = small_arch();
  arch.l1_bypass = {false, true, false};
  Dataflow dataflow = legal_conv_dataflow();
  // Weights depend on K, C, R and S: L0 must hold a PE's whole share along each of them.
  bool untied = false;
  for (Dim dim : {Dim::K, Dim::C, Dim::R, Dim::S}) {
    const int d = dim_index(dim);
    untied = untied || dataflow.levels[2].tile[d] != l1_bypass_share(dataflow, d);
  }
  REQUIRE(untied);
  const auto violations = legality_violations(layer, arch, dataflow);
  REQUIRE_FALSE(violations.empty());
  CHECK(violations[0].find("bypasses L1") != std::string::npos);
  // The weights take no L1 space.
  CHECK(tensor_footprint_bytes(layer, arch, dataflow.levels[1].tile, Tensor::Weight, 1,
                               k_origin(dataflow, 1)) == 0);
  // The repair ties the tiles and keeps them inside the buffers, also on a tight L0.
  for (const int64_t l0_bytes : {int64_t{512}, int64_t{96}}) {
    arch.l0_bytes = l0_bytes;
    Dataflow repaired = dataflow;
    repair_dataflow(layer, arch, repaired);
    INFO(dataflow_to_yaml(repaired));
    CHECK(legality_violations(layer, arch, repaired).empty());
    for (Dim dim : {Dim::K, Dim::C, Dim::R, Dim::S}) {
      const int d = dim_index(dim);
      CHECK(repaired.levels[2].tile[d] == l1_bypass_share(repaired, d));
    }
  }
}

TEST_CASE("a cluster keeps at least one PE while the L2 fan-out overshoots the array") {
  // Generators (the GA's mutations, decoded codes) size L1 maps from this before the repair
  // lowers the L2 map; a zero here became a zero fan-out and a division by zero.
  Dataflow dataflow = legal_conv_dataflow();
  dataflow.levels[0].fanout[dim_index(Dim::K)] = 4 * small_arch().num_pes;
  CHECK(units_at_level(small_arch(), dataflow, 1) == 1);
}

TEST_CASE("legality accepts a hand-built dataflow") {
  CHECK(legality_violations(conv_layer(), small_arch(), legal_conv_dataflow()).empty());
  CHECK_NOTHROW(require_legal(conv_layer(), small_arch(), legal_conv_dataflow(), "test"));
}

TEST_CASE("legality names the field of each broken rule") {
  const Layer layer = conv_layer();
  const ArchSpec arch = small_arch();
  Dataflow dataflow = legal_conv_dataflow();

  SECTION("tile larger than its parent") {
    dataflow.levels[1].tile[dim_index(Dim::K)] = 64;
    const auto violations = legality_violations(layer, arch, dataflow);
    CHECK(mentions(violations, "levels[1].tile.K: 64 exceeds the L2 tile 32 (allowed: 1..32)"));
  }
  SECTION("L2 tile larger than the layer") {
    dataflow.levels[0].tile[dim_index(Dim::Y)] = 17;
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[0].tile.Y: 17 exceeds the layer's Y 16 (allowed: 1..16)"));
  }
  SECTION("non-positive tile") {
    dataflow.levels[2].tile[dim_index(Dim::R)] = 0;
    CHECK(mentions(legality_violations(layer, arch, dataflow), "levels[2].tile.R: 0 is below 1"));
  }
  SECTION("order not a permutation") {
    dataflow.levels[0].order[1] = Dim::K;
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[0].order: K appears 2 times, C is missing"));
  }
  SECTION("fan-out beyond the sub-tiles") {
    dataflow.levels[0].fanout[dim_index(Dim::K)] = 5;  // 32 / 8 = 4 L1 tiles along K
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[0].spatial.K: 5 exceeds the 4 L1 tiles along K in the L2 tile"));
  }
  SECTION("L0 fan-out beyond the L0 tile") {
    dataflow.levels[2].tile[dim_index(Dim::X)] = 1;
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[2].spatial.X: 2 exceeds the L0 tile's 1 elements along X"));
  }
  SECTION("L0 fan-out beyond the MAC lanes") {
    ArchSpec one_lane = arch;
    one_lane.macs_per_pe = 1;
    CHECK(mentions(legality_violations(layer, one_lane, dataflow),
                   "levels[2].spatial: uses 2 MAC lanes, the arch has 1 per PE (allowed: product "
                   "<= 1)"));
  }
  SECTION("zero fan-out") {
    dataflow.levels[1].fanout[dim_index(Dim::C)] = 0;
    CHECK(
        mentions(legality_violations(layer, arch, dataflow), "levels[1].spatial.C: 0 is below 1"));
  }
  SECTION("several dims whose product exceeds the PEs of a cluster") {
    dataflow.levels[1].fanout[dim_index(Dim::K)] = 2;  // C 4 x K 2 = 8 PEs per cluster, 4 clusters
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[0].spatial x levels[1].spatial: uses 32 PEs, the arch has 16"));
  }
  SECTION("a dim bound to an axis it does not fit") {
    dataflow.levels[0].axis[dim_index(Dim::K)] = Axis::Rows;
    dataflow.levels[1].axis[dim_index(Dim::C)] = Axis::Rows;  // 4 x 4 on 4 rows
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[0..1].spatial.rows: puts 16 units on rows, the array has 4 (allowed: "
                   "product <= 4)"));
  }
  SECTION("an axis binding at L0") {
    dataflow.levels[2].axis[dim_index(Dim::X)] = Axis::Cols;
    CHECK(mentions(legality_violations(layer, arch, dataflow),
                   "levels[2].spatial.X: bound to cols at L0, whose units are a PE's MAC lanes"));
  }
  SECTION("too many PEs") {
    ArchSpec eight = arch;
    eight.num_pes = 8;
    CHECK(mentions(legality_violations(layer, eight, dataflow),
                   "levels[0].spatial x levels[1].spatial: uses 16 PEs, the arch has 8"));
  }
  SECTION("buffer overflow") {
    ArchSpec tight = arch;
    tight.l1_bytes = 1000;
    const auto violations = legality_violations(layer, tight, dataflow);
    REQUIRE(violations.size() == 1);
    // L1 tile: input 8*6*6 + weight 8*8*9 + output 8*4*4 words, x 2 B x 2.
    CHECK(violations[0] ==
          "levels[1].tile: L1 footprint 3968 B (input 288 + weight 576 + output 128 words x 2 B, "
          "x2 double-buffered) exceeds the 1000 B buffer (allowed: footprint <= 1000 B)");
  }
  for (const std::string& message : legality_violations(layer, arch, dataflow)) {
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("require_legal throws the first violation with the source") {
  Dataflow dataflow = legal_conv_dataflow();
  dataflow.levels[1].tile[dim_index(Dim::K)] = 64;
  try {
    require_legal(conv_layer(), small_arch(), dataflow, "df.yaml");
    FAIL("no InputError");
  } catch (const InputError& error) {
    CHECK(std::string(error.what()).rfind("df.yaml: levels[1].tile.K: 64 exceeds", 0) == 0);
  }
}

TEST_CASE("YAML loads the documented schema") {
  const TempFile file(kValidYaml);
  const Dataflow dataflow = load_dataflow(file.path());
  Dataflow expected = legal_conv_dataflow();
  expected.name = "my_dataflow";
  CHECK(dataflow == expected);
}

TEST_CASE("YAML round trip of random legal dataflows") {
  std::vector<Layer> layers = {conv_layer(),
                               make_conv("test", "dw", 32, 32, 16, 16, 3, 3, 2, 1, 32),
                               make_gemm("fc", LayerType::Gemm, 128, 768, 3072, 1),
                               make_gemm("qk", LayerType::Matmul, 128, 64, 128, 12)};
  const ArchSpec arch = small_arch();
  std::mt19937_64 rng(7);
  for (const Layer& layer : layers) {
    for (int draw = 0; draw < 25; ++draw) {
      Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
      dataflow.name = "draw " + std::to_string(draw) + ": 'quoted' # not a comment";
      const TempFile file(dataflow_to_yaml(dataflow));
      CHECK(load_dataflow(file.path()) == dataflow);
    }
  }
}

TEST_CASE("YAML example in dataflow/README.md loads and is legal for its layer") {
  std::ifstream readme("dataflow/README.md");
  REQUIRE(readme);
  const std::string text((std::istreambuf_iterator<char>(readme)),
                         std::istreambuf_iterator<char>());
  const std::size_t start = text.find("```yaml\n");
  REQUIRE(start != std::string::npos);
  const std::size_t body = start + std::string("```yaml\n").size();
  const TempFile file(text.substr(body, text.find("```", body) - body));
  const Dataflow dataflow = load_dataflow(file.path());
  CHECK(dataflow.name == "my_dataflow");
  CHECK(dataflow.levels[1].spatial_dims() == std::vector<Dim>{Dim::C, Dim::R});
  CHECK(dataflow.levels[1].axis[dim_index(Dim::R)] == Axis::Rows);
  CHECK(dataflow.levels[1].units() == 12);
  const Layer layer = load_layer_ref("workloads/models/resnet50.yaml:conv2_1b");
  CHECK(legality_violations(layer, load_arch("arch/presets/eyeriss.yaml"), dataflow).empty());
}

TEST_CASE("YAML reads several spatial dims per level, with and without axes") {
  std::string text =
      replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {rows: {K: 2}, cols: {Y: 2}}");
  text = replaced(text, "spatial: {dim: X, fanout: 2}", "spatial: {X: 2, N: 1}");
  // L1 as a file written before the batch dim: six dims in its order and tile.
  text = replaced(text, "spatial: {dim: C, fanout: 4}\n    order: [K, C, Y, X, R, S, N]",
                  "spatial: {dim: C, fanout: 4}\n    order: [K, C, Y, X, R, S]");
  text = replaced(text, "Y: 4, X: 4, R: 3, S: 3, N: 1}", "Y: 4, X: 4, R: 3, S: 3}");
  const TempFile file(text);
  const Dataflow dataflow = load_dataflow(file.path());
  CHECK(dataflow.levels[0].fanout == DimArray{2, 1, 2, 1, 1, 1, 1});
  CHECK(dataflow.levels[0].axis[dim_index(Dim::K)] == Axis::Rows);
  CHECK(dataflow.levels[0].axis[dim_index(Dim::Y)] == Axis::Cols);
  CHECK(dataflow.levels[2].fanout == DimArray{1, 1, 1, 2, 1, 1, 1});
  // Six-dim orders and tiles (files written before the batch dim) put N outermost, tile 1.
  CHECK(dataflow.levels[1].order.front() == Dim::N);
  CHECK(dataflow.levels[1].tile[dim_index(Dim::N)] == 1);
  const TempFile again(dataflow_to_yaml(dataflow));
  CHECK(load_dataflow(again.path()) == dataflow);
}

TEST_CASE("YAML name defaults to the file name") {
  const TempFile file(replaced(kValidYaml, "name: my_dataflow\n", ""));
  CHECK(load_dataflow(file.path()).name == fs::path(file.path()).stem().string());
}

TEST_CASE("YAML errors are one line naming the file and the field") {
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"name: x\nlevels: [\n", "line "},
      {replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {dim: Q, fanout: 4}"),
       "levels[0].spatial.dim: expected one of the allowed values, got 'Q' (allowed: K, C, Y, X, "
       "R, S, N)"},
      {replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {K: 4, Q: 2}"),
       "levels[0].spatial.Q: unknown field (allowed: K, C, Y, X, R, S, N, rows, cols)"},
      {replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {rows: {K: 4, Z: 2}}"),
       "levels[0].spatial.rows.Z: unknown dim 'Z' (allowed: K, C, Y, X, R, S, N)"},
      {replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {K: 0}"),
       "levels[0].spatial.K: 0 is out of range (allowed: >= 1)"},
      {replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {K: 2, rows: {K: 2}}"),
       "levels[0].spatial.rows.K: K is unrolled twice (allowed: each dim once per level)"},
      {replaced(kValidYaml, "spatial: {dim: X, fanout: 2}\n    order: [K, C, Y, X, R, S, N]",
                "spatial: {dim: X, fanout: 2}\n    order: [K, C, Y, Q, R, S, N]"),
       "levels[2].order[3]: unknown dim 'Q' (allowed: K, C, Y, X, R, S, N)"},
      {replaced(kValidYaml, "spatial: {dim: C, fanout: 4}\n    order: [K, C, Y, X, R, S, N]",
                "spatial: {dim: C, fanout: 4}\n    order: [K, C, Y, X, R, K, N]"),
       "levels[1].order[5]: K appears twice"},
      {replaced(kValidYaml, "order: [K, C, Y, X, R, S, N]", "order: [K, C, Y, X, R]"),
       "levels[0].order: has 5 dims"},
      {replaced(kValidYaml, "tile: {K: 8, C: 8, Y: 4, X: 4, R: 3, S: 3, N: 1}",
                "tile: {K: 8, C: 8, Y: 4, X: 4, R: 3, N: 1}"),
       "levels[1].tile.S: missing required field"},
      {replaced(kValidYaml, "tile: {K: 8, C: 8, Y: 4, X: 4, R: 3, S: 3, N: 1}",
                "tile: {K: 0, C: 8, Y: 4, X: 4, R: 3, S: 3, N: 1}"),
       "levels[1].tile.K: 0 is out of range (allowed: >= 1)"},
      {replaced(kValidYaml, "spatial: {dim: K, fanout: 4}", "spatial: {dim: K, fanout: -1}"),
       "levels[0].spatial.fanout: -1 is out of range (allowed: >= 1)"},
      {replaced(kValidYaml, "  - level: L1", "  - level: L0"),
       "levels[1].level: expected one of the allowed values, got 'L0' (allowed: L1)"},
      {kValidYaml + std::string("  - level: L0\n"),
       "levels: has 4 levels (allowed: exactly 3 levels: L2, L1, L0 in that order)"},
      {"name: x\n", "levels: missing required field"},
      {replaced(kValidYaml, "    spatial: {dim: X, fanout: 2}\n", ""),
       "levels[2].spatial: missing required field"},
      {replaced(kValidYaml, "tile: {K: 2,", "tiles: {K: 2,"), "levels[2].tiles: unknown field"},
  };
  for (const auto& [text, expected] : broken) {
    std::string path;
    const std::string message = load_error(text, &path);
    INFO(message);
    CHECK(message.rfind(path + ": " + expected, 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("YAML missing file is an InputError naming it") {
  CHECK_THROWS_WITH(load_dataflow("no/such/dataflow.yaml"),
                    Catch::StartsWith("no/such/dataflow.yaml"));
}

TEST_CASE("MAESTRO export has the layer, dimensions and one block per level") {
  const Layer layer = conv_layer();
  const std::string text = dataflow_to_maestro(legal_conv_dataflow(), layer);
  INFO(text);
  CHECK(text.rfind("// dcp dataflow 'hand' for layer 'conv' (conv)", 0) == 0);
  CHECK_THAT(text, Catch::Contains("Layer conv {"));
  CHECK_THAT(text, Catch::Contains("Type: CONV"));
  CHECK_THAT(text, Catch::Contains("Stride { X: 1, Y: 1 }"));
  // Input extent: (16 - 1) * 1 + 3 = 18.
  CHECK_THAT(text, Catch::Contains("Dimensions { K: 32, C: 16, Y: 18, X: 18, R: 3, S: 3, N: 1 }"));
  CHECK_THAT(text, Catch::Contains("num_pes = 32"));
  // L2 block: whole-array temporal maps of the L2 tile.
  CHECK_THAT(text, Catch::Contains("TemporalMap(32,32) K;\n      TemporalMap(16,16) C;\n"
                                   "      TemporalMap(8,8) Y';\n      TemporalMap(8,8) X';"));
  CHECK_THAT(text, Catch::Contains("Cluster(4, P);\n      // L1"));
  CHECK_THAT(text, Catch::Contains("SpatialMap(8,8) K;"));
  CHECK_THAT(text, Catch::Contains("SpatialMap(2,2) C;"));
  CHECK_THAT(text, Catch::Contains("Cluster(2, P);"));
  CHECK_THAT(text, Catch::Contains("SpatialMap(1,1) X';"));
  CHECK(text.find("SpatialMap") > text.find("Cluster(4, P)"));
}

TEST_CASE("MAESTRO export names depthwise channels as MAESTRO does") {
  const Layer layer = make_conv("test", "dw", 32, 32, 16, 16, 3, 3, 2, 1, 32);
  std::mt19937_64 rng(3);
  const std::string text =
      dataflow_to_maestro(random_legal_dataflow(layer, small_arch(), rng), layer);
  CHECK_THAT(text, Catch::Contains("Type: DSCONV"));
  CHECK_THAT(text, Catch::Contains("Stride { X: 2, Y: 2 }"));
  CHECK_THAT(text, Catch::Contains("Dimensions { K: 1, C: 32, Y: 17, X: 17, R: 3, S: 3, N: 1 }"));
}

TEST_CASE("repair shrinks overflowing tiles and keeps nesting") {
  const Layer layer = conv_layer();
  const ArchSpec arch = small_arch();
  Dataflow dataflow = legal_conv_dataflow();
  for (LevelMapping& mapping : dataflow.levels) mapping.tile = layer.dims();
  dataflow.levels[0].fanout[dim_index(Dim::K)] = 100;
  dataflow.levels[0].fanout[dim_index(Dim::Y)] = 8;
  repair_dataflow(layer, arch, dataflow);
  CHECK(legality_violations(layer, arch, dataflow).empty());
}

TEST_CASE("repair halves only until the level fits") {
  const Layer layer = conv_layer();
  const ArchSpec arch = small_arch();
  Dataflow dataflow = legal_conv_dataflow();
  dataflow.levels[2].tile = dataflow.levels[1].tile;  // only L0 overflows
  repair_dataflow(layer, arch, dataflow);
  CHECK(legality_violations(layer, arch, dataflow).empty());
  // One halving at most halves the footprint, so the last one left over half the buffer used.
  CHECK(footprint_bytes(layer, arch, dataflow, 2) * 2 > arch.l0_bytes);
  CHECK(dataflow.levels[1].tile == legal_conv_dataflow().levels[1].tile);
}

TEST_CASE("repair keeps the fan-outs when other tiles can shrink") {
  const Layer layer = conv_layer();
  const ArchSpec arch = small_arch();
  Dataflow dataflow = legal_conv_dataflow();
  dataflow.levels[1].tile = {8, 16, 16, 16, 3, 3, 1};  // C 16 over 4 PEs of L0 C 2: 8 sub-tiles
  dataflow.levels[0].tile = layer.dims();
  repair_dataflow(layer, arch, dataflow);
  CHECK(legality_violations(layer, arch, dataflow).empty());
  CHECK(dataflow.levels[0].fanout == legal_conv_dataflow().levels[0].fanout);
  CHECK(dataflow.levels[1].fanout == legal_conv_dataflow().levels[1].fanout);
  CHECK(dataflow.levels[2].fanout == legal_conv_dataflow().levels[2].fanout);
}

TEST_CASE("repair leaves legal dataflows unchanged") {
  const Layer layer = conv_layer();
  const ArchSpec arch = small_arch();
  Dataflow dataflow = legal_conv_dataflow();
  repair_dataflow(layer, arch, dataflow);
  CHECK(dataflow == legal_conv_dataflow());
  std::mt19937_64 rng(5);
  for (int draw = 0; draw < 50; ++draw) {
    const Dataflow legal = random_legal_dataflow(layer, arch, rng);
    Dataflow repaired = legal;
    repair_dataflow(layer, arch, repaired);
    CHECK(repaired == legal);
  }
}

TEST_CASE("repair names the arch buffer when even 1-element tiles overflow") {
  ArchSpec arch = small_arch();
  arch.l0_bytes = 8;  // 1 input + 1 weight + 1 output word x 2 B x 2 = 12 B
  Dataflow dataflow = legal_conv_dataflow();
  CHECK_THROWS_WITH(repair_dataflow(conv_layer(), arch, dataflow),
                    Catch::StartsWith("small.yaml: buffers.l0_bytes: 8 B is too small") &&
                        Catch::Contains("needs 12 B at L0"));
}

TEST_CASE("random legal dataflows are legal and reproducible") {
  const std::vector<Layer> layers = {
      conv_layer(), make_conv("test", "dw", 32, 32, 16, 16, 3, 3, 2, 1, 32),
      make_conv("test", "grouped", 16, 32, 8, 8, 3, 3, 1, 1, 4),
      make_gemm("fc", LayerType::Gemm, 1, 2048, 1000, 1), batched(conv_layer(), 4)};
  const ArchSpec arch = small_arch();
  int multi_dim_levels = 0;
  for (const Layer& layer : layers) {
    std::mt19937_64 rng(11);
    std::mt19937_64 same_rng(11);
    for (int draw = 0; draw < 200; ++draw) {
      const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
      INFO(layer.name << " draw " << draw << "\n" << dataflow_to_yaml(dataflow));
      CHECK(legality_violations(layer, arch, dataflow).empty());
      CHECK(random_legal_dataflow(layer, arch, same_rng) == dataflow);
      for (const LevelMapping& mapping : dataflow.levels)
        multi_dim_levels += mapping.spatial_dims().size() > 1 ? 1 : 0;
    }
  }
  CHECK(multi_dim_levels > 100);  // the draws do reach several dims per level
}

TEST_CASE("fixed dataflow names") {
  CHECK(fixed_dataflow_names() ==
        std::vector<std::string>{"nvdla", "eyeriss-rs", "shidiannao", "tpu-ws", "tpu-os"});
  CHECK(is_fixed_dataflow_name("tpu-ws"));
  CHECK_FALSE(is_fixed_dataflow_name("tpu"));
  CHECK_THROWS_WITH(make_fixed_dataflow("tpu", conv_layer(), small_arch()),
                    "fixed dataflow: unknown 'tpu' (allowed: nvdla, eyeriss-rs, "
                    "shidiannao, tpu-ws, tpu-os)");
}

TEST_CASE("fixed dataflows keep their defining spatial dims") {
  const Layer layer = make_conv("test", "conv3x3", 64, 64, 56, 56, 3, 3, 1, 1, 1);
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  const auto spatial = [&](const std::string& name, int level) {
    return make_fixed_dataflow(name, layer, arch).levels[level].spatial_dims();
  };
  using Dims = std::vector<Dim>;
  CHECK(spatial("nvdla", 0) == Dims{Dim::K});
  CHECK(spatial("nvdla", 1) == Dims{Dim::C});
  CHECK(spatial("eyeriss-rs", 0) == Dims{Dim::Y});
  CHECK(spatial("eyeriss-rs", 1) == Dims{Dim::C, Dim::R});  // filter rows x replicated channels
  CHECK(spatial("shidiannao", 0) == Dims{Dim::Y});
  CHECK(spatial("shidiannao", 1) == Dims{Dim::X});
  for (Dim dim : spatial("tpu-ws", 0)) {  // the reduction down the rows, all 12 of them
    CHECK((dim == Dim::C || dim == Dim::R || dim == Dim::S));
  }
  CHECK(array_units_on(make_fixed_dataflow("tpu-ws", layer, arch), Axis::Rows) == arch.array_rows);
  CHECK(spatial("tpu-ws", 1) == Dims{Dim::K});
  CHECK(spatial("tpu-os", 0) == Dims{Dim::Y, Dim::X});
  CHECK(spatial("tpu-os", 1) == Dims{Dim::K});
  const Dataflow eyeriss = make_fixed_dataflow("eyeriss-rs", layer, arch);
  CHECK(eyeriss.levels[1].fanout[dim_index(Dim::R)] == 3);  // one PE row per filter row
  CHECK(eyeriss.levels[1].axis[dim_index(Dim::R)] == Axis::Rows);
  CHECK(eyeriss.levels[0].axis[dim_index(Dim::Y)] == Axis::Cols);
  CHECK(eyeriss.levels[2].tile[dim_index(Dim::S)] == 3);  // the whole filter row in the PE
  const Layer pointwise = make_conv("test", "conv1x1", 64, 64, 56, 56, 1, 1, 1, 0, 1);
  CHECK(make_fixed_dataflow("eyeriss-rs", pointwise, arch).levels[1].spatial_dims() ==
        Dims{Dim::C});
}

TEST_CASE("eyeriss-rs replicates its PE sets: AlexNet CONV3 keeps at least 150 of 168 PEs busy") {
  // Chen et al., JSSC 2017: CONV3-5 run 3 x 13 PE sets, four at once on the 12 x 14 array.
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  for (const std::string name : {"conv3", "conv4", "conv5"}) {
    const Layer layer = batched(load_layer_ref("workloads/models/alexnet.yaml:" + name), 4);
    const Dataflow dataflow = make_fixed_dataflow("eyeriss-rs", layer, arch);
    INFO(name << "\n" << dataflow_to_yaml(dataflow));
    CHECK(pes_used(dataflow) >= 150);
    CHECK(array_units_on(dataflow, Axis::Rows) <= arch.array_rows);
    CHECK(array_units_on(dataflow, Axis::Cols) <= arch.array_cols);
  }
}

TEST_CASE("tpu-ws flattens C x R x S onto the rows: a 7x7, C = 3 layer fills a 16 x 16 array") {
  ArchSpec arch = load_arch("arch/presets/edge.yaml");
  REQUIRE(arch.array_rows == 16);
  const Layer conv1 = load_layer_ref("workloads/models/resnet50.yaml:conv1");
  const Dataflow dataflow = make_fixed_dataflow("tpu-ws", conv1, arch);
  INFO(dataflow_to_yaml(dataflow));
  CHECK(array_units_on(dataflow, Axis::Rows) >= 15);
  CHECK(dataflow.levels[1].fanout[dim_index(Dim::K)] == 16);
  // The old one-dim map put only the 3 channels on the rows.
  CHECK(array_units_on(dataflow, Axis::Rows) > conv1.C);
}

TEST_CASE("a dataflow template fits every layer of a network") {
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  const Network network = load_network("workloads/models/resnet50.yaml");
  const Dataflow shape = make_fixed_dataflow("eyeriss-rs", network.layers[1], arch);
  for (const Layer& layer : network.layers) {
    const Dataflow fitted = fit_structure(shape, layer, arch);
    INFO(layer.name << "\n" << dataflow_to_yaml(fitted));
    CHECK(legality_violations(layer, arch, fitted).empty());
    for (int level = 0; level < kNumLevels; ++level) {
      CHECK(fitted.levels[level].order == shape.levels[level].order);
      // A fitted layer unrolls no dim the shape does not.
      for (Dim dim : fitted.levels[level].spatial_dims())
        CHECK(shape.levels[level].fanout[dim_index(dim)] > 1);
    }
  }
}

TEST_CASE("resolve_dataflow takes fixed names and files in every format") {
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  const Layer layer = load_layer_ref("workloads/models/resnet50.yaml:conv2_1b");
  const Dataflow fixed = resolve_dataflow("nvdla", layer, arch);
  CHECK(fixed == make_fixed_dataflow("nvdla", layer, arch));
  const TempFile yaml(dataflow_to_yaml(fixed));
  CHECK(resolve_dataflow(yaml.path(), layer, arch) == fixed);
  CHECK_THROWS_WITH(resolve_dataflow("no-such-thing", layer, arch),
                    Catch::StartsWith("dataflow: 'no-such-thing' is neither a fixed dataflow nor a "
                                      "dataflow file (allowed: nvdla, eyeriss-rs"));
}

TEST_CASE("every fixed dataflow is legal for every model layer on every preset") {
  const std::vector<std::string> presets = yaml_files("arch/presets");
  const std::vector<std::string> models = yaml_files("workloads/models");
  REQUIRE_FALSE(presets.empty());
  REQUIRE_FALSE(models.empty());
  for (const std::string& preset : presets) {
    const ArchSpec arch = load_arch(preset);
    for (const std::string& model : models) {
      for (const Layer& layer : load_network(model).layers) {
        for (const std::string& name : fixed_dataflow_names()) {
          const Dataflow dataflow = make_fixed_dataflow(name, layer, arch);
          INFO(preset << " " << model << ":" << layer.name << " " << name << "\n"
                      << dataflow_to_yaml(dataflow));
          CHECK(legality_violations(layer, arch, dataflow).empty());
        }
      }
    }
  }
}

TEST_CASE("fixed dataflows use most PEs on big ResNet-50 layers") {
  const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  const Network network = load_network("workloads/models/resnet50.yaml");
  for (const Layer& layer : network.layers) {
    if (layer.name != "conv2_1b" && layer.name != "conv4_1c") continue;
    for (const std::string& name : fixed_dataflow_names()) {
      const Dataflow dataflow = make_fixed_dataflow(name, layer, arch);
      INFO(layer.name << " " << name << "\n" << dataflow_to_yaml(dataflow));
      CHECK(pes_used(dataflow) * 2 > arch.num_pes);
    }
  }
}
