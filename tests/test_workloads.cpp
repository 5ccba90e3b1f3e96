#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/input_error.hpp"
#include "common/yaml_fields.hpp"
#include "workloads/layer.hpp"

using namespace dcp;

namespace {

// Runs `action`, which must throw InputError, and returns the message.
template <typename Action>
std::string input_error_message(Action action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  FAIL("expected an InputError");
  return "";
}

// Every bad input must come back as one line naming the file and the offending field.
void check_error(const std::string& message, const std::string& file, const std::string& field) {
  INFO(message);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find(file) != std::string::npos);
  CHECK(message.find(field) != std::string::npos);
}

// Bad-input model files live in a per-process temp directory that is removed afterwards.
struct FixtureDir {
  std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("dcp_test_workloads_" + std::to_string(getpid()));
  FixtureDir() { std::filesystem::create_directories(root); }
  ~FixtureDir() { std::filesystem::remove_all(root); }

  std::string write(const std::string& file_name, const std::string& text) const {
    const std::string path = (root / file_name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A one-layer model whose layer is written as `layer_fields` (a YAML flow map body).
  std::string write_layer(const std::string& file_name, const std::string& layer_fields) const {
    return write(file_name, "name: fixture\nlayers:\n  - {" + layer_fields + "}\n");
  }
};

const std::string kGoodConv =
    "name: c, type: conv, in_channels: 8, out_channels: 16, in_h: 10, in_w: 10, kernel: 3";

}  // namespace

TEST_CASE("model totals match the published MAC counts", "[workloads]") {
  // Published figures, independent of the YAML files: torchvision's model tables (GFLOPS there
  // are multiply-adds) and the MobileNetV2 paper. BERT-base has no official total; 11.2e9 is the
  // encoder matmul count at sequence length 128.
  const std::pair<const char*, double> published[] = {
      {"resnet50", 4.1e9}, {"resnet101", 7.8e9}, {"mobilenet_v2", 0.30e9},
      {"vgg16", 15.5e9},   {"vit_b16", 17.6e9},  {"bert_base", 11.2e9},
  };
  for (const auto& [model, published_macs] : published) {
    const Network network = load_network(std::string("workloads/models/") + model + ".yaml");
    INFO(model << ": computed " << network.macs() << ", stated " << network.stated_macs);
    CHECK(network.name == model);
    const double computed = static_cast<double>(network.macs());
    const double stated = static_cast<double>(network.stated_macs);
    CHECK(computed == Approx(stated).epsilon(0.01));
    CHECK(stated == Approx(published_macs).epsilon(0.03));
  }
}

TEST_CASE("conv output size follows stride and padding", "[workloads]") {
  struct Case {
    int64_t in_size, kernel, stride, pad, expected;
  };
  const Case cases[] = {
      {224, 7, 2, 3, 112},  // ResNet stem
      {56, 3, 1, 1, 56},    // same padding
      {56, 3, 2, 1, 28},    // strided 3x3
      {56, 1, 2, 0, 28},    // strided 1x1 downsample
      {8, 3, 2, 0, 3},      // (8 - 3) / 2 rounds down
      {3, 3, 1, 0, 1},      // kernel exactly covers the input
      {224, 16, 16, 0, 14}  // ViT patch embedding
  };
  for (const Case& c : cases) {
    const Layer layer =
        make_conv("test", "c", 3, 8, c.in_size, c.in_size, c.kernel, c.kernel, c.stride, c.pad, 1);
    INFO("in " << c.in_size << " kernel " << c.kernel << " stride " << c.stride << " pad "
               << c.pad);
    CHECK(layer.Y == c.expected);
    CHECK(layer.X == c.expected);
  }
  const Layer rectangular = make_conv("test", "c", 3, 8, 20, 30, 1, 7, 1, 0, 1);
  CHECK(rectangular.Y == 20);
  CHECK(rectangular.X == 24);
  CHECK(rectangular.R == 1);
  CHECK(rectangular.S == 7);
}

TEST_CASE("MAC and tensor counts per layer type", "[workloads]") {
  SECTION("dense conv") {
    const Layer layer = make_conv("test", "conv1", 3, 64, 224, 224, 7, 7, 2, 3, 1);
    CHECK(layer.type == LayerType::Conv);
    CHECK(layer.macs() == 64LL * 3 * 112 * 112 * 7 * 7);
    CHECK(layer.tensor_elements(Tensor::Input) == 3LL * 224 * 224);
    CHECK(layer.tensor_elements(Tensor::Weight) == 64LL * 3 * 7 * 7);
    CHECK(layer.tensor_elements(Tensor::Output) == 64LL * 112 * 112);
  }
  SECTION("depthwise conv") {
    const Layer layer = make_conv("test", "dw", 32, 32, 112, 112, 3, 3, 1, 1, 32);
    CHECK(layer.type == LayerType::DepthwiseConv);
    CHECK(layer.K == 32);
    CHECK(layer.C == 1);
    CHECK(layer.macs() == 32LL * 112 * 112 * 9);
    CHECK(layer.tensor_elements(Tensor::Input) == 32LL * 112 * 112);
    CHECK(layer.tensor_elements(Tensor::Weight) == 32LL * 9);
  }
  SECTION("grouped conv") {
    const Layer layer = make_conv("test", "grouped", 64, 128, 28, 28, 3, 3, 1, 1, 4);
    CHECK(layer.type == LayerType::Conv);
    CHECK(layer.C == 16);
    CHECK(layer.input_channels() == 64);
    CHECK(layer.output_channels_per_group() == 32);
    CHECK(layer.macs() == 128LL * 16 * 28 * 28 * 9);
    CHECK(layer.tensor_elements(Tensor::Input) == 64LL * 28 * 28);
    CHECK(layer.tensor_elements(Tensor::Weight) == 128LL * 16 * 9);
  }
  SECTION("gemm") {
    const Layer layer = make_gemm("fc", LayerType::Gemm, 1, 2048, 1000, 1);
    CHECK(layer.dims() == DimArray{1000, 2048, 1, 1, 1, 1, 1});
    CHECK(layer.macs() == 2048LL * 1000);
    CHECK(layer.tensor_elements(Tensor::Input) == 2048);
    CHECK(layer.tensor_elements(Tensor::Weight) == 2048LL * 1000);
    CHECK(layer.tensor_elements(Tensor::Output) == 1000);
  }
  SECTION("attention matmul with heads as repeat") {
    const Layer layer = make_gemm("attn_qk", LayerType::Matmul, 197, 64, 197, 12);
    CHECK(layer.macs() == 197LL * 64 * 197 * 12);
    CHECK(layer.tensor_elements(Tensor::Input) == 197LL * 64);
    CHECK(layer.tensor_elements(Tensor::Weight) == 64LL * 197);
    CHECK(layer.tensor_elements(Tensor::Output) == 197LL * 197);
  }
  SECTION("products beyond int64 are reported, not wrapped") {
    Layer layer = make_gemm("huge", LayerType::Gemm, 1 << 20, 1 << 20, 1 << 20, 1 << 20);
    check_error(input_error_message([&] { layer.macs(); }), "huge", "macs");
    // The largest sizes the loader admits: every tensor of a conv still fits exactly.
    const int64_t max_size = 1 << 20;
    layer = make_conv("test", "widest", max_size, max_size, max_size, max_size, 1, 1, 1, 0, 1);
    CHECK(layer.tensor_elements(Tensor::Input) == max_size * max_size * max_size);
    CHECK(layer.tensor_elements(Tensor::Output) == max_size * max_size * max_size);
    check_error(input_error_message([&] { layer.macs(); }), "widest", "macs");
  }
  SECTION("network totals beyond int64 are reported, not wrapped") {
    Network network;
    network.source = "net.yaml";
    network.layers = {make_gemm("fc", LayerType::Gemm, 1 << 20, 1 << 20, 1 << 20, 1)};
    network.layers[0].count = 1 << 3;  // 2^60 MACs, 8 times
    check_error(input_error_message([&] { network.macs(); }), "net.yaml", "macs");
    network.layers[0].count = 1 << 2;
    CHECK(network.macs() == int64_t{1} << 62);
  }
}

TEST_CASE("im2col lowering keeps the work and spells out the duplicated input", "[workloads]") {
  // One group's GEMM: output pixels x (C x R x S) times (C x R x S) x filters, a repeat per group.
  const std::vector<Layer> convs = {
      make_conv("test", "stem", 3, 64, 224, 224, 7, 7, 2, 3, 1),
      make_conv("test", "grouped", 64, 128, 28, 28, 3, 3, 1, 1, 4),
      make_conv("test", "dw", 32, 32, 112, 112, 3, 3, 1, 1, 32),
  };
  for (Layer conv : convs) {
    conv.N = 3;
    conv.count = 2;
    const Layer gemm = lower_to_im2col(conv);
    INFO(conv.name);
    CHECK(gemm.type == LayerType::Gemm);
    CHECK(gemm.dims() == DimArray{conv.output_channels_per_group(), conv.C * conv.R * conv.S,
                                  conv.Y * conv.X, 1, 1, 1, conv.N});
    CHECK(gemm.repeat == conv.groups);
    CHECK(gemm.count == conv.count);
    CHECK(gemm.macs() == conv.macs());
    const auto all_repeats = [](const Layer& layer, Tensor tensor) {
      return layer.tensor_elements(tensor) * layer.repeat;
    };
    CHECK(all_repeats(gemm, Tensor::Weight) == all_repeats(conv, Tensor::Weight));
    CHECK(all_repeats(gemm, Tensor::Output) == all_repeats(conv, Tensor::Output));
    // Every output pixel reads its own R x S window: the matrix repeats overlapping inputs.
    CHECK(all_repeats(gemm, Tensor::Input) ==
          conv.Y * conv.X * conv.N * conv.input_channels() * conv.R * conv.S);
  }
  const Layer fc = make_gemm("fc", LayerType::Gemm, 1, 2048, 1000, 1);
  CHECK(lower_to_im2col(fc).dims() == fc.dims());
  const Layer widest = make_conv("test", "widest", 1, 1, 1 << 20, 1 << 20, 1, 1, 1, 0, 1);
  check_error(input_error_message([&] { lower_to_im2col(widest); }), "widest",
              "im2col rows (Y x X)");
}

TEST_CASE("Timeloop dimension names round-trip", "[workloads]") {
  std::string timeloop_letters;
  for (const Dim dim : kAllDims) {
    Dim parsed = Dim::K;
    timeloop_letters += timeloop_letter(dim);
    REQUIRE(parse_timeloop_dim(timeloop_letter(dim), parsed));
    CHECK(parsed == dim);
    REQUIRE(parse_dim(std::string(1, dim_letter(dim)), parsed));
    CHECK(parsed == dim);
  }
  CHECK(timeloop_letters == "MCPQRSN");
  Dim unused = Dim::K;
  CHECK_FALSE(parse_timeloop_dim('Z', unused));
  CHECK_FALSE(parse_dim("KC", unused));
}

TEST_CASE("a network's batch is every layer's N and multiplies its MACs", "[workloads]") {
  Network network = load_network("workloads/models/alexnet.yaml");
  const int64_t one_image = network.macs();
  CHECK(network.batch == 1);
  set_batch(network, 4, "--batch");
  CHECK(network.macs() == 4 * one_image);
  for (const Layer& layer : network.layers) CHECK(layer.N == 4);
  // Weights do not grow with the batch; inputs and outputs do.
  const Layer& conv3 = network.layers[2];
  CHECK(conv3.tensor_elements(Tensor::Weight) == 384 * 256 * 3 * 3);
  CHECK(conv3.tensor_elements(Tensor::Output) == 4 * 384 * 13 * 13);
  CHECK_THROWS_WITH(set_batch(network, 0, "--batch"),
                    "--batch: batch: 0 is out of range (allowed: 1..65536)");
  const FixtureDir dir;
  const std::string layers =
      "layers:\n  - {name: fc, type: gemm, rows: 1, in_features: 4, out_features: 2}\n";
  CHECK(load_network(dir.write("three.yaml", "name: n\nbatch: 3\n" + layers)).layers[0].N == 3);
  const std::string zero = dir.write("zero.yaml", "name: n\nbatch: 0\n" + layers);
  check_error(input_error_message([&] { load_network(zero); }), zero, "batch: 0 is out of range");
}

TEST_CASE("model files load with counts and layer references", "[workloads]") {
  const Network resnet = load_network("workloads/models/resnet50.yaml");
  const Layer block = load_layer_ref("workloads/models/resnet50.yaml:conv4_2a");
  CHECK(block.count == 5);
  CHECK(block.dims() == DimArray{256, 1024, 14, 14, 1, 1, 1});

  const FixtureDir fixtures;
  const std::string path = fixtures.write(
      "net.yaml",
      "name: net\nlayers:\n"
      "  - {name: dw, type: dwconv, channels: 32, in_h: 8, in_w: 8, kernel: 3, pad: 1, count: 3}\n"
      "  - {name: wide, type: conv, in_channels: 4, out_channels: 8, in_h: 5, in_w: 9,"
      " kernel_h: 1, kernel_w: 3, groups: 2, repeat: 2}\n");
  const Network network = load_network(path);
  REQUIRE(network.layers.size() == 2);
  CHECK(network.stated_macs == 0);
  CHECK(network.layers[0].type == LayerType::DepthwiseConv);
  CHECK(network.layers[1].dims() == DimArray{8, 2, 5, 7, 1, 3, 1});
  CHECK(network.macs() == 32LL * 8 * 8 * 9 * 3 + 8LL * 2 * 5 * 7 * 3 * 2);
}

TEST_CASE("bad model files give one-line errors naming file and field", "[workloads]") {
  const FixtureDir fixtures;
  const auto load_error = [](const std::string& path) {
    return input_error_message([&] { load_network(path); });
  };

  SECTION("missing file") {
    const std::string path = (fixtures.root / "absent.yaml").string();
    check_error(load_error(path), path, "cannot open file");
  }
  SECTION("malformed YAML") {
    const std::string path = fixtures.write("malformed.yaml", "name: x\nlayers: [ {name: a\n");
    check_error(load_error(path), path, "line ");
  }
  SECTION("missing field") {
    const std::string path = fixtures.write_layer(
        "missing.yaml",
        "name: c, type: conv, in_channels: 8, out_channels: 16, in_w: 10, kernel: 3");
    check_error(load_error(path), path, "layers[0].in_h");
  }
  SECTION("missing layer list") {
    const std::string path = fixtures.write("no_layers.yaml", "name: n\n");
    check_error(load_error(path), path, "layers: missing required field (allowed: a sequence)");
  }
  SECTION("negative field") {
    const std::string path =
        fixtures.write_layer("negative.yaml", kGoodConv + ", stride: 1, pad: -1");
    const std::string message = load_error(path);
    check_error(message, path, "layers[0].pad");
    CHECK_THAT(message, Catch::Contains("allowed: 0..1048576"));
  }
  SECTION("non-integer fields") {
    for (const char* value : {"abc", "1.5", "99999999999999999999", "[1, 2]"}) {
      const std::string path = fixtures.write_layer(
          "non_integer.yaml", std::string("name: c, type: conv, in_channels: ") + value +
                                  ", out_channels: 16, in_h: 10, in_w: 10, kernel: 3");
      const std::string message = load_error(path);
      check_error(message, path, "layers[0].in_channels");
      CHECK_THAT(message, Catch::Contains("allowed: 1..1048576"));
    }
  }
  SECTION("sizes near 2^31 and beyond") {
    for (const std::string value : {"2147483647", "2147483648", "4294967295", "1099511627776"}) {
      const std::string path = fixtures.write_layer(
          "near_2_31.yaml", "name: c, type: conv, in_channels: " + value + ", out_channels: " +
                                value + ", in_h: " + value + ", in_w: " + value + ", kernel: 3");
      const std::string message = load_error(path);
      check_error(message, path, "layers[0].in_channels: " + value + " is out of range");
      CHECK_THAT(message, Catch::Contains("allowed: 1..1048576"));
    }
  }
  SECTION("empty output") {
    const std::string path = fixtures.write_layer(
        "empty_output.yaml",
        "name: c, type: conv, in_channels: 8, out_channels: 16, in_h: 3, in_w: 10, kernel: 7");
    const std::string message = load_error(path);
    check_error(message, path, "layers[0]");
    CHECK_THAT(message, Catch::Contains("allowed: in_h >= 7"));
  }
  SECTION("groups that do not divide the channels") {
    const std::string path = fixtures.write_layer("groups.yaml", kGoodConv + ", groups: 3");
    check_error(load_error(path), path, "layers[0].groups");
  }
  SECTION("unknown type") {
    const std::string path = fixtures.write_layer(
        "unknown_type.yaml", "name: p, type: pool, in_h: 4, in_w: 4, kernel: 2");
    const std::string message = load_error(path);
    check_error(message, path, "layers[0].type");
    CHECK_THAT(message, Catch::Contains("conv, dwconv, gemm, matmul"));
  }
  SECTION("misspelt optional field") {
    const std::string path = fixtures.write_layer("misspelt.yaml", kGoodConv + ", strid: 2");
    check_error(load_error(path), path, "layers[0].strid");
  }
  SECTION("duplicate layer names") {
    const std::string path = fixtures.write(
        "duplicate.yaml", "name: d\nlayers:\n  - {" + kGoodConv + "}\n  - {" + kGoodConv + "}\n");
    check_error(load_error(path), path, "layers[1].name");
  }
  SECTION("unknown layer reference") {
    const std::string path = fixtures.write_layer("ref.yaml", kGoodConv);
    check_error(input_error_message([&] { load_layer_ref(path + ":nope"); }), path, "nope");
  }
}

TEST_CASE("InputError and typed field reads", "[common]") {
  CHECK(std::string(InputError("a.yaml", "x.y", "bad", "1..2").what()) ==
        "a.yaml: x.y: bad (allowed: 1..2)");
  CHECK(std::string(InputError("a.yaml", "", "cannot open file").what()) ==
        "a.yaml: cannot open file");
  CHECK(std::string(InputError("a.yaml", "f", "two\nlines").what()) == "a.yaml: f: two lines");

  const YAML::Node map = YAML::Load("{count: 7, ratio: 0.5, flag: yes, mode: fast, text: hi}");
  const FieldPath where{"f.yaml", "top"};
  CHECK(read_int(map, "count", where, 1, 10) == 7);
  CHECK(read_int(map, "absent", where, 1, 10, 3) == 3);
  CHECK(read_double(map, "ratio", where, 0.0, 1.0) == 0.5);
  CHECK(read_bool(map, "flag", where));
  CHECK(read_choice(map, "mode", where, {"fast", "slow"}) == "fast");
  CHECK(read_string(map, "text", where) == "hi");
  // A fuzzed dataflow name with a NUL and bytes that are not UTF-8 did not survive a YAML round
  // trip; names must be printable UTF-8 (any script).
  const YAML::Node names = YAML::Load(
      "{accented: \"r\u00e9seau \u8def\", tab: \"a\\tb\", "
      "nul: \"a\\0b\", bad: \"ha\xff\xffnd\"}");
  CHECK(read_string(names, "accented", where) == "r\u00e9seau \u8def");
  for (const char* key : {"tab", "nul", "bad"})
    check_error(input_error_message([&] { read_string(names, key, where); }), "f.yaml",
                "control character or invalid UTF-8 (allowed: printable UTF-8 text)");
  check_error(input_error_message([&] { read_int(map, "count", where, 1, 5); }), "f.yaml",
              "top.count: 7 is out of range (allowed: 1..5)");
  check_error(input_error_message([&] { read_int(map, "absent", where, 1, 5); }), "f.yaml",
              "top.absent: missing required field (allowed: 1..5)");
  check_error(input_error_message([&] { read_double(map, "ratio", where, 0.0, 0.25); }), "f.yaml",
              "top.ratio");
  check_error(input_error_message([&] { read_choice(map, "mode", where, {"slow"}); }), "f.yaml",
              "(allowed: slow)");
}
