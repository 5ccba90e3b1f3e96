// The dataflow code DCP optimises: exact round trip for legal dataflows (several spatial dims per
// level, batches), and every code, however wild, decodes to a legal dataflow. Run from the
// repository root.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "mapper/dataflow_code.hpp"
#include "test_support.hpp"

using namespace dcp;

namespace {

Layer with_batch(Layer layer, int64_t batch) {
  layer.name += "_n" + std::to_string(batch);
  layer.N = batch;
  return layer;
}

std::vector<Layer> code_test_layers() {
  const Layer conv = make_conv("test", "conv3x3", 64, 128, 28, 28, 3, 3, 1, 1, 1);
  const Layer qk = make_gemm("qk", LayerType::Matmul, 197, 64, 197, 12);
  return {conv,
          make_conv("test", "stem", 3, 64, 224, 224, 7, 7, 2, 3, 1),
          make_conv("test", "dw", 96, 96, 56, 56, 3, 3, 2, 1, 96),
          make_conv("test", "grouped", 64, 64, 14, 14, 3, 3, 1, 1, 4),
          make_gemm("fc", LayerType::Gemm, 197, 768, 3072, 1),
          qk,
          with_batch(conv, 4),
          with_batch(qk, 3)};
}

// The presets have one MAC lane per PE; a four-lane PE lets L0 unroll dims too (on the plain
// hierarchy, whose L0 tiles are free of L1-bypass ties).
ArchSpec four_lane_eyeriss() {
  ArchSpec arch = test::plain_eyeriss();
  arch.name = "eyeriss_four_lanes";
  arch.macs_per_pe = 4;
  return arch;
}

std::vector<ArchSpec> code_test_archs() {
  return {load_arch("arch/presets/eyeriss.yaml"), load_arch("arch/presets/edge.yaml"),
          load_arch("arch/presets/tpu.yaml"), four_lane_eyeriss()};
}

void require_round_trip(const Layer& layer, const ArchSpec& arch, Dataflow dataflow) {
  INFO(layer.name << " on " << arch.name << "\n" << dataflow_to_yaml(dataflow));
  REQUIRE(legality_violations(layer, arch, dataflow).empty());
  const Dataflow decoded = decode_dataflow(layer, arch, encode_dataflow(layer, arch, dataflow));
  dataflow.name = decoded.name;
  REQUIRE(decoded == dataflow);
}

// The code has no gene for array-axis bindings (the mapper leaves every axis Any), so a bound
// dataflow comes back as its unbound twin; everything else must come back exactly.
Dataflow without_axis_bindings(Dataflow dataflow) {
  for (LevelMapping& mapping : dataflow.levels) mapping.axis = {};
  return dataflow;
}

bool unrolls_several_dims(const Dataflow& dataflow) {
  for (const LevelMapping& mapping : dataflow.levels)
    if (mapping.spatial_dims().size() >= 2) return true;
  return false;
}

}  // namespace

TEST_CASE("code layout: 3 levels of 7 dims x (share, priority, tile), vector round trip") {
  STATIC_REQUIRE(kCodeSize == 63);
  STATIC_REQUIRE(kCodeFloatsPerLevel == 21);
  CHECK(code_index_spatial_share(1, Dim::K) == 21);
  CHECK(code_index_priority(0, Dim::C) == 4);
  CHECK(code_index_tile(2, Dim::S) == 2 * 21 + 5 * 3 + 2);
  CHECK(code_index_tile(2, Dim::N) == 62);
  std::mt19937_64 rng(3);
  const Layer layer = code_test_layers()[0];
  const ArchSpec arch = code_test_archs()[0];
  const DataflowCode code = random_code(layer, arch, rng);
  CHECK(code_to_vector(code_from_vector(code_to_vector(code))) == code_to_vector(code));
}

TEST_CASE("decode(encode(d)) == d for fixed, random and multi-dim legal dataflows") {
  std::mt19937_64 rng(11);
  int multi_dim = 0;
  for (const ArchSpec& arch : code_test_archs()) {
    for (const Layer& layer : code_test_layers()) {
      for (const std::string& name : fixed_dataflow_names())
        require_round_trip(layer, arch,
                           without_axis_bindings(make_fixed_dataflow(name, layer, arch)));
      for (int draw = 0; draw < 20; ++draw) {
        const Dataflow random = random_legal_dataflow(layer, arch, rng);
        const Dataflow from_code = decode_dataflow(layer, arch, random_code(layer, arch, rng));
        multi_dim += unrolls_several_dims(random) + unrolls_several_dims(from_code);
        require_round_trip(layer, arch, random);
        require_round_trip(layer, arch, from_code);
      }
    }
  }
  CHECK(multi_dim >= 200);
}

TEST_CASE("a hand-written map over three dims at once, batch included, round-trips") {
  const ArchSpec arch = four_lane_eyeriss();
  const Layer layer = with_batch(make_conv("test", "conv", 8, 16, 8, 8, 3, 3, 1, 1, 1), 4);
  Dataflow dataflow;
  dataflow.levels[0].tile = {16, 8, 8, 8, 3, 3, 4};
  dataflow.levels[0].fanout = {4, 1, 2, 1, 1, 1, 2};  // 16 clusters: K x Y x N
  dataflow.levels[1].tile = {4, 2, 4, 2, 3, 3, 2};
  dataflow.levels[1].fanout = {2, 2, 1, 1, 1, 1, 1};  // 4 of the 10 PEs a cluster gets: K x C
  dataflow.levels[2].tile = {2, 1, 2, 2, 3, 3, 2};
  dataflow.levels[2].fanout = {1, 1, 1, 2, 1, 1, 2};  // the 4 lanes: X x N
  dataflow.levels[2].order = {Dim::N, Dim::R, Dim::S, Dim::K, Dim::C, Dim::Y, Dim::X};
  require_round_trip(layer, arch, dataflow);
}

TEST_CASE("encoded genes sit in their documented ranges; one-dim maps are the paper's code") {
  std::mt19937_64 rng(5);
  const ArchSpec arch = four_lane_eyeriss();
  for (const Layer& layer : code_test_layers()) {
    for (int draw = 0; draw < 10; ++draw) {
      const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
      const DataflowCode code = encode_dataflow(layer, arch, dataflow);
      for (int level = 0; level < kNumLevels; ++level) {
        const LevelCode& genes = code.levels[level];
        const LevelMapping& mapping = dataflow.levels[level];
        const float none = -static_cast<float>(
            std::log2(static_cast<double>(units_at_level(arch, dataflow, level))));
        for (int d = 0; d < kNumDims; ++d) {
          CHECK(genes.tile_log2_fraction[d] <= 0);
          CHECK(genes.order_priority[d] >= 0);
          CHECK(genes.order_priority[d] <= 1);
          CHECK(genes.spatial_share[d] <= 0);
          // Unrolled dims sit above "none", the others exactly on it.
          if (mapping.fanout[d] > 1)
            CHECK(genes.spatial_share[d] > none);
          else
            CHECK(genes.spatial_share[d] == none);
        }
        const Dim outermost = mapping.order[0];
        CHECK(genes.order_priority[dim_index(outermost)] == 1.0f);
      }
    }
  }
}

TEST_CASE("random codes and wild values decode to legal dataflows") {
  std::mt19937_64 rng(17);
  std::normal_distribution<float> wide(0.0f, 20.0f);
  const float infinity = std::numeric_limits<float>::infinity();
  for (const ArchSpec& arch : code_test_archs()) {
    for (const Layer& layer : code_test_layers()) {
      for (int draw = 0; draw < 30; ++draw) {
        const Dataflow from_code = decode_dataflow(layer, arch, random_code(layer, arch, rng));
        REQUIRE(legality_violations(layer, arch, from_code).empty());
        CodeVector wild;
        for (float& value : wild) {
          value = wide(rng);
          if (draw % 5 == 0) value = value > 0 ? infinity : -infinity;
        }
        const Dataflow from_wild = decode_dataflow(layer, arch, code_from_vector(wild));
        REQUIRE(legality_violations(layer, arch, from_wild).empty());
      }
    }
  }
}

TEST_CASE("random codes unroll every dim, alone and with others, and put every loop outermost") {
  std::mt19937_64 rng(23);
  const Layer layer = with_batch(code_test_layers()[0], 4);
  const ArchSpec arch = four_lane_eyeriss();
  bool spatial_seen[kNumLevels][kNumDims] = {};
  bool outermost_seen[kNumLevels][kNumDims] = {};
  int single_dim_levels[kNumLevels] = {}, multi_dim_levels[kNumLevels] = {};
  for (int draw = 0; draw < 600; ++draw) {
    const Dataflow dataflow = decode_dataflow(layer, arch, random_code(layer, arch, rng));
    for (int level = 0; level < kNumLevels; ++level) {
      const std::vector<Dim> spatial = dataflow.levels[level].spatial_dims();
      for (const Dim dim : spatial) spatial_seen[level][dim_index(dim)] = true;
      single_dim_levels[level] += spatial.size() == 1;
      multi_dim_levels[level] += spatial.size() >= 2;
      outermost_seen[level][dim_index(dataflow.levels[level].order[0])] = true;
    }
  }
  for (int level = 0; level < kNumLevels; ++level) {
    INFO("level " << level);
    CHECK(single_dim_levels[level] > 30);
    CHECK(multi_dim_levels[level] > 30);
    for (int d = 0; d < kNumDims; ++d) {
      INFO("dim " << dim_letter(kAllDims[d]));
      CHECK(spatial_seen[level][d]);
      CHECK(outermost_seen[level][d]);
    }
  }
}

TEST_CASE("a NaN gene is refused naming the gene") {
  const Layer layer = code_test_layers()[0];
  const ArchSpec arch = code_test_archs()[0];
  const std::vector<std::pair<int, std::string>> genes = {
      {code_index_tile(1, Dim::C), "levels[1].tile.C"},
      {code_index_spatial_share(2, Dim::N), "levels[2].spatial_share.N"},
      {code_index_priority(0, Dim::Y), "levels[0].order_priority.Y"}};
  for (const auto& [index, field] : genes) {
    CodeVector vector{};
    vector[index] = std::numeric_limits<float>::quiet_NaN();
    try {
      decode_dataflow(layer, arch, code_from_vector(vector));
      FAIL("NaN accepted at " << field);
    } catch (const InputError& error) {
      const std::string message = error.what();
      CHECK(message.find(field) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}
