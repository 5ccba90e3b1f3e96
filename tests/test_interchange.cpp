// Interchange with Timeloop and MAESTRO: every export followed by its import gives back the same
// dataflow (fixed and random ones, several dims unrolled per level with rows/cols bindings, even
// and edge tiles, batches above 1), files written before the batch dim and multi-dim maps still
// load, Timeloop problems read as layers, and malformed files give one-line errors naming the
// file and the field or line. Run from the repo root.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/dataflow.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/interchange.hpp"
#include "dataflow/random_dataflow.hpp"
#include "tests/test_support.hpp"
#include "workloads/layer.hpp"
#include "workloads/network_writer.hpp"
#include "workloads/timeloop_problem.hpp"

using namespace dcp;
using test::conv_layer;
using test::legal_conv_dataflow;
using test::replaced;
using test::TempFile;

namespace {

Layer with_batch(Layer layer, int64_t batch) {
  layer.N = batch;
  return layer;
}

// Real layers of every type, odd sizes that leave edge tiles, and batches above 1.
std::vector<Layer> sample_layers() {
  const Layer bottleneck = load_layer_ref("workloads/models/resnet50.yaml:conv3_1b");
  return {load_layer_ref("workloads/models/resnet50.yaml:conv1"),
          bottleneck,
          with_batch(bottleneck, 4),
          load_layer_ref("workloads/models/resnet50.yaml:fc"),
          load_layer_ref("workloads/models/mobilenet_v2.yaml:b2_dw"),
          load_layer_ref("workloads/models/bert_base.yaml:attn_qk"),
          make_conv("test", "odd", 12, 37, 15, 13, 3, 3, 1, 1, 1),
          with_batch(make_conv("test", "grouped", 24, 36, 11, 11, 3, 3, 2, 1, 3), 3)};
}

ArchSpec eyeriss() {
  return load_arch("arch/presets/eyeriss.yaml");
}

// Export `dataflow` with `write`, import it with `read`; returns what the export wrote.
template <typename Write, typename Read>
std::string check_round_trip(const Dataflow& dataflow, const Layer& layer, Write write, Read read,
                             const std::string& extension) {
  const std::string text = write(dataflow, layer);
  const TempFile file(text, extension);
  INFO(layer.name << "\n" << dataflow_to_yaml(dataflow) << "\n" << text);
  CHECK(read(file.path()) == dataflow);
  return text;
}

std::string timeloop_round_trip(const Dataflow& dataflow, const Layer& layer) {
  return check_round_trip(dataflow, layer, dataflow_to_timeloop_mapping, load_timeloop_mapping,
                          ".yaml");
}

std::string maestro_round_trip(const Dataflow& dataflow, const Layer& layer) {
  return check_round_trip(dataflow, layer, dataflow_to_maestro, load_maestro_dataflow, ".m");
}

bool carries_exact_tiles(const std::string& mapping) {
  return mapping.find("dcp_tile:") != std::string::npos;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `dataflow` as a file written before the batch dim reads: N outermost at every level, tile 1.
Dataflow with_batch_outermost(Dataflow dataflow) {
  for (LevelMapping& mapping : dataflow.levels) {
    std::stable_partition(mapping.order.begin(), mapping.order.end(),
                          [](Dim dim) { return dim == Dim::N; });
    mapping.tile[dim_index(Dim::N)] = 1;
  }
  return dataflow;
}

// `text` without the lines that contain `part`.
std::string without_lines(const std::string& text, const std::string& part) {
  std::istringstream lines(text);
  std::string kept;
  for (std::string line; std::getline(lines, line);) {
    if (!contains(line, part)) kept += line + "\n";
  }
  return kept;
}

// The one-line message `load` throws for a file holding `text`, with the file's temporary path
// written as "<file>".
template <typename Load>
std::string load_error(Load load, const std::string& text, const std::string& extension) {
  const TempFile file(text, extension);
  try {
    load(file.path());
  } catch (const InputError& error) {
    std::string message = error.what();
    CHECK(message.find('\n') == std::string::npos);
    REQUIRE(message.compare(0, file.path().size(), file.path()) == 0);
    return message.replace(0, file.path().size(), "<file>");
  }
  FAIL("no InputError for:\n" << text);
  return "";
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// legal_conv_dataflow as a hand-written mapping (factors may leave out dims of 1).
const std::string kEvenMapping = R"(dcp_dataflow: hand
mapping:
  - {target: DRAM, type: temporal, factors: M=1 C=1 P=2 Q=2 R=1 S=1 N=1, permutation: NSRQPCM}
  - {target: GlobalBuffer, type: spatial, factors: M=4 C=1 P=1 Q=1 R=1 S=1 N=1, permutation: MCPQRSN}
  - {target: GlobalBuffer, type: temporal, factors: M=1 C=2 P=2 Q=2 R=1 S=1, permutation: NSRQPCM}
  - {target: Cluster-L1, type: spatial, factors: C=4, permutation: CMPQRSN}
  - {target: Cluster-L1, type: temporal, factors: M=4 C=1 P=2 Q=2 R=1 S=1, permutation: NSRQPCM}
  - {target: PE-L0, type: spatial, factors: Q=2, permutation: QMCPRSN}
  - {target: PE-L0, type: temporal, factors: M=2 C=2 P=2 Q=1 R=3 S=3, permutation: NSRQPCM}
)";

// legal_conv_dataflow as dcp wrote it before the batch dim: six-dim permutations ending in the
// layer's `repeat` as N, no N factor below DRAM, the spatial dim first in its permutation.
const std::string kPreBatchMapping = R"(dcp_dataflow: hand
mapping:
  - {target: DRAM, type: temporal, factors: M=1 C=1 P=2 Q=2 R=1 S=1 N=1, permutation: SRQPCMN}
  - {target: GlobalBuffer, type: spatial, factors: M=4 C=1 P=1 Q=1 R=1 S=1, permutation: MCPQRSN}
  - {target: GlobalBuffer, type: temporal, factors: M=1 C=2 P=2 Q=2 R=1 S=1, permutation: SRQPCMN}
  - {target: Cluster-L1, type: spatial, factors: M=1 C=4 P=1 Q=1 R=1 S=1, permutation: CMPQRSN}
  - {target: Cluster-L1, type: temporal, factors: M=4 C=1 P=2 Q=2 R=1 S=1, permutation: SRQPCM}
  - {target: PE-L0, type: spatial, factors: M=1 C=1 P=1 Q=2 R=1 S=1, permutation: QMCPRSN}
  - {target: PE-L0, type: temporal, factors: M=2 C=2 P=2 Q=1 R=3 S=3, permutation: SRQPCMN}
)";

// A 7x7 conv at batch 4 with several dims per level: L2 puts C x R on the array's rows and K on
// its columns (TPU-like), L1 splits the output rows and columns without a binding, L0's lanes
// take K and N.
Layer wide_layer() {
  return with_batch(make_conv("test", "wide", 6, 64, 20, 20, 7, 7, 1, 3, 1), 4);
}

Dataflow multi_dim_dataflow() {
  Dataflow dataflow;
  dataflow.name = "multi";
  LevelMapping& l2 = dataflow.levels[0];
  l2.tile = wide_layer().dims();
  l2.order = {Dim::N, Dim::Y, Dim::X, Dim::K, Dim::C, Dim::R, Dim::S};
  for (const auto& [dim, ways, axis] :
       {std::tuple{Dim::C, 3, Axis::Rows}, std::tuple{Dim::R, 7, Axis::Rows},
        std::tuple{Dim::K, 16, Axis::Cols}}) {
    l2.fanout[dim_index(dim)] = ways;
    l2.axis[dim_index(dim)] = axis;
  }
  LevelMapping& l1 = dataflow.levels[1];
  l1.tile = {4, 2, 20, 20, 1, 7, 4};
  l1.fanout[dim_index(Dim::Y)] = 2;
  l1.fanout[dim_index(Dim::X)] = 2;
  l1.order = {Dim::K, Dim::C, Dim::R, Dim::S, Dim::N, Dim::Y, Dim::X};
  LevelMapping& l0 = dataflow.levels[2];
  l0.tile = {2, 1, 10, 7, 1, 7, 2};  // X: 20 in tiles of 7 leaves an edge tile of 6
  l0.fanout[dim_index(Dim::K)] = 2;
  l0.fanout[dim_index(Dim::N)] = 2;
  l0.order = {Dim::N, Dim::K, Dim::C, Dim::Y, Dim::X, Dim::R, Dim::S};
  return dataflow;
}

// Binds each unrolled dim of L2 and L1 to rows, columns or neither at random, so that levels
// binding all, some and none of their dims all occur.
void bind_random_axes(Dataflow& dataflow, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> pick_axis(0, 2);
  for (int level = 0; level < kNumLevels - 1; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    for (Dim dim : mapping.spatial_dims()) mapping.axis[dim_index(dim)] = Axis(pick_axis(rng));
  }
}

}  // namespace

TEST_CASE("Timeloop mapping of an evenly tiled dataflow is plain factors") {
  const std::string mapping = timeloop_round_trip(legal_conv_dataflow(), conv_layer());
  CHECK_FALSE(carries_exact_tiles(mapping));
  CHECK(contains(mapping, "factors: M=1 C=2 P=2 Q=2 R=1 S=1 N=1"));
  CHECK(contains(mapping, "permutation: NSRQPCM"));
  CHECK_FALSE(contains(mapping, "split:"));
  const TempFile file(kEvenMapping);
  CHECK(load_timeloop_mapping(file.path()) == legal_conv_dataflow());
}

TEST_CASE("Timeloop mapping without dcp_dataflow is named after the file") {
  const TempFile file(replaced(kEvenMapping, "dcp_dataflow: hand\n", ""));
  const Dataflow dataflow = load_timeloop_mapping(file.path());
  CHECK(dataflow.name == std::filesystem::path(file.path()).stem().string());
}

TEST_CASE("a Timeloop mapping written before the batch dim loads with N outermost") {
  const TempFile file(kPreBatchMapping);
  CHECK(load_timeloop_mapping(file.path()) == with_batch_outermost(legal_conv_dataflow()));
}

TEST_CASE("a Timeloop spatial directive may unroll several dims") {
  // Two lanes on K instead of two K loops in a PE.
  const TempFile file(replaced(replaced(kEvenMapping, "factors: Q=2,", "factors: Q=2 M=2 N=1,"),
                               "factors: M=2 C=2 P=2 Q=1", "factors: M=1 C=2 P=2 Q=1"));
  Dataflow expected = legal_conv_dataflow();
  expected.levels[2].fanout[dim_index(Dim::K)] = 2;
  CHECK(load_timeloop_mapping(file.path()) == expected);
}

TEST_CASE("several dims per level with rows and columns survive both round trips") {
  const Layer layer = wide_layer();
  Dataflow dataflow = multi_dim_dataflow();
  const std::string mapping = timeloop_round_trip(dataflow, layer);
  CHECK(carries_exact_tiles(mapping));
  // Columns (Timeloop's X) before the split, rows after it, the dims not unrolled last.
  CHECK(contains(mapping,
                 "factors: M=16 C=3 P=1 Q=1 R=7 S=1 N=1\n    permutation: MCRPQSN\n"
                 "    split: 1\n"));
  CHECK(contains(mapping, "factors: M=1 C=1 P=2 Q=2 R=1 S=1 N=1\n    permutation: MCPQRSN\n"));
  CHECK_FALSE(contains(mapping, "dcp_unbound:"));
  const std::string maestro = maestro_round_trip(dataflow, layer);
  CHECK(contains(maestro, "Dimensions { K: 64, C: 6, Y: 26, X: 26, R: 7, S: 7, N: 4 }"));
  CHECK(contains(maestro, "// dcp: L2 fan-out on cols\n      Cluster(16, P);"));
  CHECK(contains(maestro, "// dcp: L2 fan-out on rows\n      Cluster(3, P);"));
  CHECK(contains(maestro, "// dcp: L2 fan-out on rows\n      Cluster(7, P);"));
  CHECK(contains(maestro, "// dcp: L1 fan-out\n      Cluster(2, P);"));
  CHECK(contains(maestro, "// dcp: L0 fan-out\n      Cluster(2, P);"));
  CHECK(contains(maestro, "SpatialMap(1,1) N;"));

  // C left to L2's default axis (rows) beside a bound K and R.
  dataflow.levels[0].axis[dim_index(Dim::C)] = Axis::Any;
  CHECK(contains(timeloop_round_trip(dataflow, layer), "split: 1\n    dcp_unbound: C\n"));
  maestro_round_trip(dataflow, layer);
  // An L1 binding against the default (output rows on the array's rows).
  dataflow.levels[1].axis[dim_index(Dim::Y)] = Axis::Rows;
  CHECK(contains(timeloop_round_trip(dataflow, layer),
                 "factors: M=1 C=1 P=2 Q=2 R=1 S=1 N=1\n    permutation: QPMCRSN\n    split: 1\n"
                 "    dcp_unbound: Q\n"));
  maestro_round_trip(dataflow, layer);
}

TEST_CASE("a level that unrolls nothing survives both round trips") {
  Dataflow dataflow = legal_conv_dataflow();
  dataflow.levels[1].fanout = kUnitDims;
  timeloop_round_trip(dataflow, conv_layer());
  CHECK(contains(maestro_round_trip(dataflow, conv_layer()), "Cluster(1, P);"));
}

TEST_CASE("Timeloop and MAESTRO round trips of the fixed dataflows") {
  const ArchSpec arch = eyeriss();
  int exact = 0;
  int with_edges = 0;
  int bound = 0;
  for (const Layer& layer : sample_layers()) {
    for (const std::string& name : fixed_dataflow_names()) {
      const Dataflow dataflow = make_fixed_dataflow(name, layer, arch);
      const std::string mapping = timeloop_round_trip(dataflow, layer);
      (carries_exact_tiles(mapping) ? with_edges : exact)++;
      bound += contains(mapping, "split:") ? 1 : 0;
      maestro_round_trip(dataflow, layer);
    }
  }
  CHECK(exact > 0);
  CHECK(with_edges > 0);
  CHECK(bound > 0);
}

TEST_CASE("Timeloop and MAESTRO round trips of 200 random legal dataflows") {
  const ArchSpec arch = eyeriss();
  const std::vector<Layer> layers = sample_layers();
  int exact = 0;
  int with_edges = 0;
  int multi_dim = 0;
  for (int seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    const Layer& layer = layers[seed % layers.size()];
    Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
    dataflow.name = "draw " + std::to_string(seed) + ": 'quoted' # not a comment";
    if (seed % 2 == 1) bind_random_axes(dataflow, rng);
    (carries_exact_tiles(timeloop_round_trip(dataflow, layer)) ? with_edges : exact)++;
    maestro_round_trip(dataflow, layer);
    for (const LevelMapping& mapping : dataflow.levels) {
      multi_dim += mapping.spatial_dims().size() > 1 ? 1 : 0;
    }
  }
  CHECK(exact > 0);
  CHECK(with_edges > 0);
  CHECK(multi_dim > 0);
}

TEST_CASE("Timeloop mapping errors name the file and the field") {
  const auto error = [](const std::string& text) {
    return load_error(load_timeloop_mapping, text, ".yaml");
  };
  const std::string target = error(
      replaced(kEvenMapping, "target: Cluster-L1, type: spatial", "target: L3, type: spatial"));
  CHECK(starts_with(target, "<file>: mapping[3].target: "));
  CHECK(contains(target, "Cluster-L1"));
  CHECK(starts_with(error(replaced(kEvenMapping, "target: GlobalBuffer, type: spatial",
                                   "target: DRAM, type: spatial")),
                    "<file>: mapping[1].type: DRAM has no fan-out"));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: C=4", "factors: C=four")),
                    "<file>: mapping[3].factors: cannot read 'C=four'"));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: C=4", "factors: C=0")),
                    "<file>: mapping[3].factors: 'C=0' is below 1"));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: Q=2", "factors: Z=2")),
                    "<file>: mapping[5].factors: unknown dim in 'Z=2'"));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: Q=2", "factors: Q=2 Q=3")),
                    "<file>: mapping[5].factors: Q appears twice"));
  CHECK(starts_with(error(replaced(kEvenMapping, "permutation: NSRQPCM}\n  - {target: Global",
                                   "permutation: SRQPC}\n  - {target: Global")),
                    "<file>: mapping[0].permutation: has 5 of the 7 dims"));
  CHECK(
      starts_with(error(replaced(kEvenMapping, "N=1, permutation: NSRQ", "N=1, permutation: NSZQ")),
                  "<file>: mapping[0].permutation: unknown dim 'Z'"));
  CHECK(starts_with(
      error(replaced(kEvenMapping, "permutation: MCPQRSN}", "permutation: MCPQRSN, split: 9}")),
      "<file>: mapping[1].split: "));
  CHECK(starts_with(error(replaced(kEvenMapping, "permutation: MCPQRSN}",
                                   "permutation: MCPQRSN, split: 1, dcp_unbound: MZ}")),
                    "<file>: mapping[1].dcp_unbound: unknown dim 'Z'"));
  CHECK(starts_with(error(replaced(kEvenMapping, "permutation: MCPQRSN}",
                                   "permutation: MCPQRSN, dcp_unbound: M}")),
                    "<file>: mapping[1].dcp_unbound: "));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: M=2 C=2 P=2 Q=1 R=3 S=3,",
                                   "factors: M=2 C=2 P=2 Q=1 R=3 S=3, dcp_tile: M=2 C=2,")),
                    "<file>: mapping[6].dcp_tile: lacks P"));
  const std::string without_pe =
      kEvenMapping.substr(0, kEvenMapping.rfind("  - {target: PE-L0, type: temporal"));
  CHECK(error(without_pe) ==
        "<file>: mapping: no temporal directive for PE-L0 (allowed: one for "
        "each of DRAM, GlobalBuffer, Cluster-L1, PE-L0)");
  CHECK(starts_with(error("mapping: [\n"), "<file>: line"));
  CHECK(starts_with(error("problem: {}\n"), "<file>: mapping: missing required field"));
}

TEST_CASE("a MAESTRO file written before the batch dim and the tags still loads") {
  const Layer layer = conv_layer();
  const std::string current = dataflow_to_maestro(legal_conv_dataflow(), layer);
  const std::string old = without_lines(without_lines(current, "// dcp: "), ") N;");
  const TempFile file(old, ".m");
  CHECK(load_maestro_dataflow(file.path()) == with_batch_outermost(legal_conv_dataflow()));
}

TEST_CASE("MAESTRO import errors name the file and the line") {
  const std::string good = dataflow_to_maestro(legal_conv_dataflow(), conv_layer());
  const auto error = [](const std::string& text) {
    return load_error(load_maestro_dataflow, text, ".m");
  };
  const std::size_t first_map = good.find("TemporalMap(");
  const std::string overlapping = good.substr(0, first_map) + "TemporalMap(3,1) K;\n" +
                                  good.substr(good.find('\n', first_map) + 1);
  const std::string overlap_error = error(overlapping);
  CHECK(starts_with(overlap_error, "<file>: line "));
  CHECK(contains(overlap_error, "offset 1 differs from size 3"));
  CHECK(starts_with(error(replaced(good, ") X';", ") Q;")), "<file>: line "));
  CHECK(contains(error(replaced(good, ") X';", ") K;")), "K is mapped twice in the block"));
  const std::size_t first_k = good.rfind('\n', good.find(") K;\n")) + 1;
  const std::string without_k = good.substr(0, first_k) + good.substr(good.find('\n', first_k) + 1);
  CHECK(contains(error(without_k), "directive block has 6 maps"));
  const std::string untagged = without_lines(good, "// dcp: ");
  CHECK(starts_with(error(replaced(untagged, "Cluster(", "// Cluster(")),
                    "<file>: Dataflow: has 2 Cluster directives"));
  CHECK(contains(error(replaced(good, "// dcp: L2 fan-out", "// dcp: L1 fan-out")),
                 "Cluster for L1 first"));
  CHECK(contains(error(replaced(good, "// dcp: L1 fan-out", "// L1 fan-out")),
                 "Cluster without a dcp tag"));
  CHECK(contains(error(replaced(good, "// dcp: L0 fan-out", "// dcp: L1 fan-out")),
                 "Dataflow: no Cluster for L0's fan-out"));
  CHECK(
      contains(error(replaced(good, "TemporalMap(", "TemporalMap(Sz(R),")), "is not a plain size"));
  CHECK(starts_with(error(""), "<file>: Dataflow: has 0 Cluster directives"));
  CHECK_THROWS_WITH(load_maestro_dataflow("no/such.m"), "no/such.m: cannot open file");
}

TEST_CASE("a Timeloop problem reads as a conv layer with N as the batch") {
  const TempFile file(R"(problem:
  shape: {name: CNN-Layer, dimensions: [C, M, R, S, N, P, Q]}
  instance: {C: 64, M: 128, R: 3, S: 3, N: 2, P: 28, Q: 14, Wstride: 2, Hstride: 2}
architecture: {ignored: true}
)");
  const Layer layer = load_timeloop_problem(file.path(), "layer3");
  CHECK(layer.name == "layer3");
  // No padding: the input is exactly what 28 x 14 outputs of a 3 x 3 kernel at stride 2 need.
  Layer expected = make_conv("test", "layer3", 64, 128, 57, 29, 3, 3, 2, 0, 1);
  expected.N = 2;
  CHECK(same_loop_nest(layer, expected));
  CHECK(layer.dims() == DimArray{128, 64, 28, 14, 3, 3, 2});
}

TEST_CASE("a Timeloop problem's absent sizes are 1") {
  const TempFile file("problem:\n  instance: {M: 10, C: 20}\n");
  const Layer layer = load_timeloop_problem(file.path(), "fc");
  CHECK(layer.dims() == DimArray{10, 20, 1, 1, 1, 1, 1});
  CHECK(layer.macs() == 200);
}

TEST_CASE("Timeloop problem errors name the file and the field") {
  const auto read_problem = [](const std::string& file) {
    return load_timeloop_problem(file, "x");
  };
  const auto error = [&read_problem](const std::string& instance) {
    return load_error(read_problem, "problem:\n  instance: {" + instance + "}\n", ".yaml");
  };
  CHECK(starts_with(error("M: 4, Wstride: 2, Hstride: 1"),
                    "<file>: problem.instance.Hstride: 1 differs from Wstride 2"));
  CHECK(starts_with(error("M: 4, Wdilation: 2"),
                    "<file>: problem.instance.Wdilation: dilation 2 is not supported"));
  CHECK(starts_with(error("M: 4, G: 2"), "<file>: problem.instance.G: unknown field"));
  CHECK(starts_with(error("M: 0"), "<file>: problem.instance.M: 0 is out of range"));
  CHECK(starts_with(error("M: many"), "<file>: problem.instance.M: "));
  CHECK(starts_with(load_error(read_problem, "mapping: []\n", ".yaml"),
                    "<file>: problem: missing required field"));
}
