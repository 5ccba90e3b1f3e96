// Interchange with Timeloop and MAESTRO: every export followed by its import gives back the same
// dataflow (fixed and random ones, even and edge tiles), Timeloop problems read as layers, and
// malformed files give one-line errors naming the file and the field. Run from the repo root.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "mapper/fixed_dataflows.hpp"
#include "mapper/random_dataflow.hpp"
#include "sim/dataflow.hpp"
#include "sim/dataflow_interchange.hpp"
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

// Real layers of every type, and odd sizes that leave edge tiles.
std::vector<Layer> sample_layers() {
  return {load_layer_ref("workloads/models/resnet50.yaml:conv1"),
          load_layer_ref("workloads/models/resnet50.yaml:conv3_1b"),
          load_layer_ref("workloads/models/resnet50.yaml:fc"),
          load_layer_ref("workloads/models/mobilenet_v2.yaml:b2_dw"),
          load_layer_ref("workloads/models/bert_base.yaml:attn_qk"),
          make_conv("test", "odd", 12, 37, 15, 13, 3, 3, 1, 1, 1),
          make_conv("test", "grouped", 24, 36, 11, 11, 3, 3, 2, 1, 3)};
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

void maestro_round_trip(const Dataflow& dataflow, const Layer& layer) {
  check_round_trip(dataflow, layer, dataflow_to_maestro, load_maestro_dataflow, ".m");
}

bool carries_exact_tiles(const std::string& mapping) {
  return mapping.find("dcp_tile:") != std::string::npos;
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

const std::string kEvenMapping = R"(dcp_dataflow: hand
mapping:
  - {target: DRAM, type: temporal, factors: M=1 C=1 P=2 Q=2 R=1 S=1 N=1, permutation: SRQPCMN}
  - {target: GlobalBuffer, type: spatial, factors: M=4 C=1 P=1 Q=1 R=1 S=1, permutation: MCPQRSN}
  - {target: GlobalBuffer, type: temporal, factors: M=1 C=2 P=2 Q=2 R=1 S=1, permutation: SRQPCMN}
  - {target: Cluster-L1, type: spatial, factors: C=4, permutation: CMPQRSN}
  - {target: Cluster-L1, type: temporal, factors: M=4 C=1 P=2 Q=2 R=1 S=1, permutation: SRQPCMN}
  - {target: PE-L0, type: spatial, factors: Q=2, permutation: QMCPRSN}
  - {target: PE-L0, type: temporal, factors: M=2 C=2 P=2 Q=1 R=3 S=3, permutation: SRQPCMN}
)";

}  // namespace

TEST_CASE("Timeloop mapping of an evenly tiled dataflow is plain factors") {
  const std::string mapping = timeloop_round_trip(legal_conv_dataflow(), conv_layer());
  CHECK_FALSE(carries_exact_tiles(mapping));
  CHECK(mapping.find("factors: M=1 C=2 P=2 Q=2 R=1 S=1") != std::string::npos);
  CHECK(mapping.find("permutation: SRQPCMN") != std::string::npos);
  const TempFile file(kEvenMapping);
  CHECK(load_timeloop_mapping(file.path()) == legal_conv_dataflow());
}

TEST_CASE("Timeloop mapping without dcp_dataflow is named after the file") {
  const TempFile file(replaced(kEvenMapping, "dcp_dataflow: hand\n", ""));
  const Dataflow dataflow = load_timeloop_mapping(file.path());
  CHECK(dataflow.name == std::filesystem::path(file.path()).stem().string());
}

TEST_CASE("Timeloop and MAESTRO round trips of the fixed dataflows") {
  const ArchSpec arch = eyeriss();
  int exact = 0;
  int with_edges = 0;
  for (const Layer& layer : sample_layers()) {
    for (const std::string& name : fixed_dataflow_names()) {
      const Dataflow dataflow = make_fixed_dataflow(name, layer, arch);
      (carries_exact_tiles(timeloop_round_trip(dataflow, layer)) ? with_edges : exact)++;
      maestro_round_trip(dataflow, layer);
    }
  }
  CHECK(exact > 0);
  CHECK(with_edges > 0);
}

TEST_CASE("Timeloop and MAESTRO round trips of random legal dataflows") {
  const ArchSpec arch = eyeriss();
  std::mt19937_64 rng(2024);
  int exact = 0;
  int with_edges = 0;
  for (const Layer& layer : sample_layers()) {
    for (int draw = 0; draw < 20; ++draw) {
      Dataflow dataflow = random_legal_dataflow(layer, arch, rng);
      dataflow.name = "draw " + std::to_string(draw) + ": 'quoted' # not a comment";
      (carries_exact_tiles(timeloop_round_trip(dataflow, layer)) ? with_edges : exact)++;
      maestro_round_trip(dataflow, layer);
    }
  }
  CHECK(exact > 0);
  CHECK(with_edges > 0);
}

TEST_CASE("Timeloop mapping errors name the file and the field") {
  const auto error = [](const std::string& text) {
    return load_error(load_timeloop_mapping, text, ".yaml");
  };
  const std::string target = error(
      replaced(kEvenMapping, "target: Cluster-L1, type: spatial", "target: L3, type: spatial"));
  CHECK(starts_with(target, "<file>: mapping[3].target: "));
  CHECK(target.find("Cluster-L1") != std::string::npos);
  CHECK(starts_with(error(replaced(kEvenMapping, "target: GlobalBuffer, type: spatial",
                                   "target: DRAM, type: spatial")),
                    "<file>: mapping[1].type: DRAM has no fan-out"));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: C=4", "factors: C=four")),
                    "<file>: mapping[3].factors: cannot read 'C=four'"));
  CHECK(starts_with(error(replaced(kEvenMapping, "factors: Q=2", "factors: Q=2 M=2")),
                    "<file>: mapping[5].factors: spreads 2 dims"));
  CHECK(starts_with(error(replaced(kEvenMapping, "permutation: SRQPCMN}\n  - {target: Global",
                                   "permutation: SRQPC}\n  - {target: Global")),
                    "<file>: mapping[0].permutation: has 5 of the 6 dims"));
  CHECK(starts_with(error(replaced(kEvenMapping, "M=1 C=1 P=2 Q=2 R=1 S=1 N=1, permutation: SRQ",
                                   "M=1 C=1 P=2 Q=2 R=1 S=1 N=1, permutation: SZQ")),
                    "<file>: mapping[0].permutation: unknown dim 'Z'"));
  const std::string without_pe =
      kEvenMapping.substr(0, kEvenMapping.rfind("  - {target: PE-L0, type: temporal"));
  CHECK(error(without_pe) ==
        "<file>: mapping: no temporal directive for PE-L0 (allowed: one for "
        "each of DRAM, GlobalBuffer, Cluster-L1, PE-L0)");
  CHECK(starts_with(error("mapping: [\n"), "<file>: line"));
  CHECK(starts_with(error("problem: {}\n"), "<file>: mapping: missing required field"));
}

TEST_CASE("MAESTRO import errors name the file and the line") {
  const ArchSpec arch = eyeriss();
  const Layer layer = conv_layer();
  const std::string good = dataflow_to_maestro(make_fixed_dataflow("nvdla", layer, arch), layer);
  const auto error = [](const std::string& text) {
    return load_error(load_maestro_dataflow, text, ".m");
  };
  const std::size_t first_map = good.find("TemporalMap(");
  const std::string overlapping = good.substr(0, first_map) + "TemporalMap(3,1) K;\n" +
                                  good.substr(good.find('\n', first_map) + 1);
  const std::string overlap_error = error(overlapping);
  CHECK(starts_with(overlap_error, "<file>: line "));
  CHECK(overlap_error.find("offset 1 differs from size 3") != std::string::npos);
  CHECK(starts_with(error(replaced(good, ") X';", ") Q;")), "<file>: line "));
  CHECK(error(replaced(good, "Cluster(", "// Cluster(")).find("<file>: Dataflow: has 2 Cluster") ==
        0);
  CHECK(error(replaced(good, "TemporalMap(", "TemporalMap(Sz(R),")).find("is not a plain size") !=
        std::string::npos);
  CHECK(error("").find("<file>: Dataflow: has 0 Cluster directives") == 0);
  CHECK_THROWS_WITH(load_maestro_dataflow("no/such.m"), "no/such.m: cannot open file");
}

TEST_CASE("a Timeloop problem reads as a conv layer with N as repeat") {
  const TempFile file(R"(problem:
  shape: {name: CNN-Layer, dimensions: [C, M, R, S, N, P, Q]}
  instance: {C: 64, M: 128, R: 3, S: 3, N: 2, P: 28, Q: 14, Wstride: 2, Hstride: 2}
architecture: {ignored: true}
)");
  const Layer layer = load_timeloop_problem(file.path(), "layer3");
  CHECK(layer.name == "layer3");
  // No padding: the input is exactly what 28 x 14 outputs of a 3 x 3 kernel at stride 2 need.
  Layer expected = make_conv("test", "layer3", 64, 128, 57, 29, 3, 3, 2, 0, 1);
  expected.repeat = 2;
  CHECK(same_loop_nest(layer, expected));
  CHECK(layer.dims() == DimArray{128, 64, 28, 14, 3, 3});
}

TEST_CASE("a Timeloop problem's absent sizes are 1") {
  const TempFile file("problem:\n  instance: {M: 10, C: 20}\n");
  const Layer layer = load_timeloop_problem(file.path(), "fc");
  CHECK(layer.dims() == DimArray{10, 20, 1, 1, 1, 1});
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
