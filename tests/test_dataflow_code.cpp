// The dataflow code DCP optimises: exact round trip for legal dataflows, and every code, however
// wild, decodes to a legal dataflow. Run from the repository root.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "mapper/dataflow_code.hpp"
#include "mapper/fixed_dataflows.hpp"
#include "mapper/random_dataflow.hpp"

using namespace dcp;

namespace {

std::vector<Layer> code_test_layers() {
  return {make_conv("test", "conv3x3", 64, 128, 28, 28, 3, 3, 1, 1, 1),
          make_conv("test", "stem", 3, 64, 224, 224, 7, 7, 2, 3, 1),
          make_conv("test", "dw", 96, 96, 56, 56, 3, 3, 2, 1, 96),
          make_conv("test", "grouped", 64, 64, 14, 14, 3, 3, 1, 1, 4),
          make_gemm("fc", LayerType::Gemm, 197, 768, 3072, 1),
          make_gemm("qk", LayerType::Matmul, 197, 64, 197, 12)};
}

std::vector<ArchSpec> code_test_archs() {
  return {load_arch("arch/presets/eyeriss.yaml"), load_arch("arch/presets/edge.yaml"),
          load_arch("arch/presets/tpu.yaml")};
}

void require_round_trip(const Layer& layer, const ArchSpec& arch, Dataflow dataflow) {
  INFO(layer.name << " on " << arch.name << "\n" << dataflow_to_yaml(dataflow));
  const Dataflow decoded = decode_dataflow(layer, arch, encode_dataflow(layer, arch, dataflow));
  dataflow.name = decoded.name;
  REQUIRE(decoded == dataflow);
}

}  // namespace

TEST_CASE("code layout: 3 levels of 19 floats, vector round trip") {
  STATIC_REQUIRE(kCodeSize == 57);
  CHECK(code_index_parallel_logit(1, Dim::K) == 19);
  CHECK(code_index_fanout(0) == 6);
  CHECK(code_index_priority(2, Dim::S) == 2 * 19 + 7 + 10);
  CHECK(code_index_tile(2, Dim::S) == 56);
  std::mt19937_64 rng(3);
  const Layer layer = code_test_layers()[0];
  const ArchSpec arch = code_test_archs()[0];
  const DataflowCode code = random_code(layer, arch, rng);
  CHECK(code_to_vector(code_from_vector(code_to_vector(code))) == code_to_vector(code));
}

TEST_CASE("decode(encode(d)) == d for fixed and random legal dataflows") {
  std::mt19937_64 rng(11);
  for (const ArchSpec& arch : code_test_archs()) {
    for (const Layer& layer : code_test_layers()) {
      for (const std::string& name : fixed_dataflow_names())
        require_round_trip(layer, arch, make_fixed_dataflow(name, layer, arch));
      for (int draw = 0; draw < 40; ++draw)
        require_round_trip(layer, arch, random_legal_dataflow(layer, arch, rng));
    }
  }
}

TEST_CASE("encoded genes sit in their documented ranges") {
  std::mt19937_64 rng(5);
  const ArchSpec arch = code_test_archs()[0];
  for (const Layer& layer : code_test_layers()) {
    const Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
    const DataflowCode code = encode_dataflow(layer, arch, dataflow);
    for (int level = 0; level < kNumLevels; ++level) {
      const LevelCode& genes = code.levels[level];
      CHECK(genes.fanout_log2_fraction <= 0);
      for (int d = 0; d < kNumDims; ++d) {
        CHECK(genes.tile_log2_fraction[d] <= 0);
        CHECK(genes.order_priority[d] >= 0);
        CHECK(genes.order_priority[d] <= 1);
      }
      // The outermost loop has the top priority; the spatial dim has the top logit.
      const Dim outermost = dataflow.levels[level].order[0];
      CHECK(genes.order_priority[dim_index(outermost)] == 1.0f);
      CHECK(genes.parallel_logit[dim_index(dataflow.levels[level].spatial_dim)] == 0.0f);
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

TEST_CASE("random codes cover every parallel dim and outermost loop at every level") {
  std::mt19937_64 rng(23);
  const Layer layer = code_test_layers()[0];
  const ArchSpec arch = code_test_archs()[0];
  bool parallel_seen[kNumLevels][kNumDims] = {};
  bool outermost_seen[kNumLevels][kNumDims] = {};
  for (int draw = 0; draw < 600; ++draw) {
    const DataflowCode code = random_code(layer, arch, rng);
    const Dataflow dataflow = decode_dataflow(layer, arch, code);
    for (int level = 0; level < kNumLevels; ++level) {
      parallel_seen[level][dim_index(dataflow.levels[level].spatial_dim)] = true;
      outermost_seen[level][dim_index(dataflow.levels[level].order[0])] = true;
    }
  }
  for (int level = 0; level < kNumLevels; ++level) {
    for (int d = 0; d < kNumDims; ++d) {
      CHECK(parallel_seen[level][d]);
      CHECK(outermost_seen[level][d]);
    }
  }
}

TEST_CASE("a NaN gene is refused naming the gene") {
  const Layer layer = code_test_layers()[0];
  const ArchSpec arch = code_test_archs()[0];
  CodeVector vector{};
  vector[code_index_tile(1, Dim::C)] = std::numeric_limits<float>::quiet_NaN();
  try {
    decode_dataflow(layer, arch, code_from_vector(vector));
    FAIL("NaN accepted");
  } catch (const InputError& error) {
    const std::string message = error.what();
    CHECK(message.find("levels[1].tile.C") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}
