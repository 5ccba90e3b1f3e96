// ONNX import: small graphs built here with the ONNX protobuf API, the shipped tiny_net.onnx
// against its hand-checked model YAML, and the errors for files that are not ONNX models.
// Run from the repository root.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "tests/test_support.hpp"
#include "workloads/layer.hpp"
#include "workloads/network_writer.hpp"
#include "workloads/onnx_import.hpp"

using namespace dcp;
using test::TempFile;

namespace {

const char* const kTinyNet = "tests/data/tiny_net.onnx";

// A model of one graph, built node by node; weights are initializers with dims and no data,
// which is all shape inference and the importer look at.
class ModelBuilder {
 public:
  ModelBuilder() {
    model_.set_ir_version(7);
    model_.add_opset_import()->set_version(13);
    model_.mutable_graph()->set_name("built");
  }

  void input(const std::string& name, const std::vector<int64_t>& shape) {
    onnx::ValueInfoProto* value = model_.mutable_graph()->add_input();
    value->set_name(name);
    auto* tensor = value->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    for (const int64_t dim : shape) tensor->mutable_shape()->add_dim()->set_dim_value(dim);
  }

  // An input whose first dim is the symbol `batch`, as exporters with dynamic axes write it.
  void input_with_symbolic_batch(const std::string& name, const std::vector<int64_t>& rest) {
    input(name, rest);
    auto* shape = model_.mutable_graph()
                      ->mutable_input()
                      ->rbegin()
                      ->mutable_type()
                      ->mutable_tensor_type()
                      ->mutable_shape();
    shape->mutable_dim()->Add()->set_dim_param("batch");
    std::rotate(shape->mutable_dim()->rbegin(), shape->mutable_dim()->rbegin() + 1,
                shape->mutable_dim()->rend());
  }

  void weight(const std::string& name, const std::vector<int64_t>& shape) {
    onnx::TensorProto* tensor = model_.mutable_graph()->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (const int64_t dim : shape) tensor->add_dims(dim);
  }

  onnx::NodeProto& node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs) {
    onnx::NodeProto* node = model_.mutable_graph()->add_node();
    node->set_op_type(op);
    node->set_name(name);
    for (const std::string& input : inputs) node->add_input(input);
    node->add_output(name + "_out");
    return *node;
  }

  OnnxImport import(const OnnxImportOptions& options = {}) const {
    return import_onnx_bytes(model_.SerializeAsString(), "built.onnx", options);
  }

 private:
  onnx::ModelProto model_;
};

void set_ints(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* attribute = node.add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INTS);
  for (const int64_t value : values) attribute->add_ints(value);
}

void set_int(onnx::NodeProto& node, const std::string& name, int64_t value) {
  onnx::AttributeProto* attribute = node.add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INT);
  attribute->set_i(value);
}

onnx::NodeProto& add_conv(ModelBuilder& model, const std::string& name, const std::string& input,
                          const std::vector<int64_t>& weight_shape, int64_t stride, int64_t pad,
                          int64_t group) {
  model.weight(name + ".w", weight_shape);
  onnx::NodeProto& node = model.node("Conv", name, {input, name + ".w"});
  set_ints(node, "strides", {stride, stride});
  set_ints(node, "pads", {pad, pad, pad, pad});
  set_int(node, "group", group);
  return node;
}

// The one layer a single-node model imports as.
Layer only_layer(const OnnxImport& imported) {
  REQUIRE(imported.network.layers.size() == 1);
  return imported.network.layers.front();
}

std::string read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

// The one-line message import_onnx throws for a file holding `bytes`.
std::string import_error(const std::string& bytes, std::string* path) {
  const TempFile file(bytes, ".onnx");
  *path = file.path();
  try {
    import_onnx(file.path());
  } catch (const InputError& error) {
    return error.what();
  }
  FAIL("no InputError");
  return "";
}

}  // namespace

TEST_CASE("a grouped, strided, padded Conv imports as a grouped conv") {
  ModelBuilder model;
  model.input("x", {1, 16, 14, 14});
  add_conv(model, "/block/conv/Conv", "x", {32, 4, 3, 3}, 2, 1, 4);
  const Layer layer = only_layer(model.import());
  CHECK(layer.name == "block/conv");
  CHECK(layer.type == LayerType::Conv);
  CHECK(layer.dims() == DimArray{32, 4, 7, 7, 3, 3, 1});
  CHECK(layer.groups == 4);
  CHECK(layer.stride == 2);
  CHECK(layer.pad == 1);
  CHECK(layer.macs() == 32 * 4 * 7 * 7 * 9);
}

TEST_CASE("a depthwise Conv imports as dwconv with the batch as repeat") {
  ModelBuilder model;
  model.input("x", {2, 8, 10, 10});
  add_conv(model, "dw", "x", {8, 1, 3, 3}, 1, 1, 8);
  const OnnxImport imported = model.import();
  const Layer layer = only_layer(imported);
  CHECK(layer.type == LayerType::DepthwiseConv);
  CHECK(layer.dims() == DimArray{8, 1, 10, 10, 3, 3, 1});
  CHECK(layer.repeat == 2);
  CHECK(imported.network.stated_macs == 2 * 8 * 100 * 9);
}

TEST_CASE("a symbolic batch dim is taken as 1 and noted") {
  ModelBuilder model;
  model.input_with_symbolic_batch("x", {3, 8, 8});
  add_conv(model, "conv", "x", {4, 3, 3, 3}, 1, 0, 1);
  const OnnxImport imported = model.import();
  CHECK(only_layer(imported).repeat == 1);
  REQUIRE(imported.notes.size() == 1);
  CHECK(imported.notes[0].find("'batch'") != std::string::npos);
}

TEST_CASE("asymmetric pads keep the output size and the MACs exact") {
  ModelBuilder model;
  model.input("x", {1, 4, 8, 8});
  onnx::NodeProto& node = add_conv(model, "same", "x", {4, 4, 3, 3}, 2, 0, 1);
  node.mutable_attribute(1)->clear_ints();
  for (const int64_t pad : {0, 0, 1, 1}) node.mutable_attribute(1)->add_ints(pad);
  const OnnxImport imported = model.import();
  const Layer layer = only_layer(imported);
  CHECK(layer.Y == 4);  // floor((8 + 0 + 1 - 3) / 2) + 1
  CHECK(layer.X == 4);
  CHECK(layer.pad == 0);
  CHECK(layer.in_h == 9);
  REQUIRE(imported.notes.size() == 1);
  CHECK(imported.notes[0].find("same: pads 0,0,1,1") != std::string::npos);
}

TEST_CASE("Gemm honours transB; a Gemm of two activations is a matmul") {
  ModelBuilder model;
  model.input("x", {4, 20});
  model.input("y", {10, 20});
  model.weight("w", {10, 20});
  set_int(model.node("Gemm", "fc", {"x", "w"}), "transB", 1);
  set_int(model.node("Gemm", "product", {"x", "y"}), "transB", 1);
  const OnnxImport imported = model.import();
  REQUIRE(imported.network.layers.size() == 2);
  const Layer& fc = imported.network.layers[0];
  CHECK(fc.type == LayerType::Gemm);
  CHECK(fc.dims() == DimArray{10, 20, 4, 1, 1, 1, 1});
  CHECK(imported.network.layers[1].type == LayerType::Matmul);
}

TEST_CASE("MatMul with a weight, also through a Transpose, is one gemm over all rows") {
  ModelBuilder model;
  model.input("tokens", {2, 197, 768});
  model.weight("w", {768, 3072});
  model.weight("w_t", {3072, 768});
  model.node("MatMul", "mlp", {"tokens", "w"});
  set_ints(model.node("Transpose", "t", {"w_t"}), "perm", {1, 0});
  model.node("MatMul", "mlp_t", {"tokens", "t_out"});
  const OnnxImport imported = model.import(OnnxImportOptions{"", false});
  REQUIRE(imported.network.layers.size() == 2);
  for (const Layer& layer : imported.network.layers) {
    CHECK(layer.type == LayerType::Gemm);
    CHECK(layer.dims() == DimArray{3072, 768, 2 * 197, 1, 1, 1, 1});
    CHECK(layer.repeat == 1);
  }
}

TEST_CASE("attention MatMuls of two activations repeat over batch and heads, broadcasting") {
  ModelBuilder model;
  model.input("q", {2, 12, 197, 64});
  model.input("k_t", {2, 12, 64, 197});
  model.input("a", {12, 5, 8});
  model.input("b", {8, 6});
  model.node("MatMul", "qk", {"q", "k_t"});
  model.node("MatMul", "broadcast", {"a", "b"});
  const OnnxImport imported = model.import();
  REQUIRE(imported.network.layers.size() == 2);
  const Layer& qk = imported.network.layers[0];
  CHECK(qk.type == LayerType::Matmul);
  CHECK(qk.dims() == DimArray{197, 64, 197, 1, 1, 1, 1});
  CHECK(qk.repeat == 24);
  const Layer& broadcast = imported.network.layers[1];
  CHECK(broadcast.dims() == DimArray{6, 8, 5, 1, 1, 1, 1});
  CHECK(broadcast.repeat == 12);
}

TEST_CASE("MAC ops dcp cannot express are listed and count as no MACs") {
  ModelBuilder model;
  model.input("x", {1, 8, 16, 16});
  model.weight("up.w", {8, 4, 2, 2});
  model.node("ConvTranspose", "up", {"x", "up.w"});
  set_ints(add_conv(model, "dilated", "x", {8, 8, 3, 3}, 1, 2, 1), "dilations", {2, 2});
  model.node("Relu", "relu", {"x"});
  add_conv(model, "plain", "x", {8, 8, 1, 1}, 1, 0, 1);
  const OnnxImport imported = model.import();
  CHECK(only_layer(imported).name == "plain");
  CHECK(imported.network.stated_macs == 8 * 8 * 16 * 16);
  REQUIRE(imported.skipped.size() == 2);
  CHECK(imported.skipped[0].name == "up");
  CHECK(imported.skipped[0].op_type == "ConvTranspose");
  CHECK(imported.skipped[1].name == "dilated");
  CHECK(imported.skipped[1].op_type == "Conv");
  CHECK(imported.skipped[1].reason.find("dilation 2x2 is not supported") != std::string::npos);
}

TEST_CASE("identical layers merge into count unless asked not to") {
  ModelBuilder model;
  model.input("x", {1, 8, 8, 8});
  add_conv(model, "a", "x", {8, 8, 3, 3}, 1, 1, 1);
  add_conv(model, "b", "a_out", {8, 8, 3, 3}, 1, 1, 1);
  add_conv(model, "c", "b_out", {8, 8, 3, 3}, 1, 1, 1);
  const OnnxImport merged = model.import();
  CHECK(only_layer(merged).name == "a");
  CHECK(only_layer(merged).count == 3);
  const OnnxImport separate = model.import(OnnxImportOptions{"", false});
  CHECK(separate.network.layers.size() == 3);
  CHECK(separate.network.stated_macs == merged.network.stated_macs);
}

TEST_CASE("a graph without supported MAC nodes is an error naming the source") {
  ModelBuilder model;
  model.input("x", {1, 8});
  model.node("Relu", "relu", {"x"});
  CHECK_THROWS_WITH(model.import(), Catch::Contains("built.onnx: graph: has no Conv"));
}

TEST_CASE("the shipped tiny_net.onnx imports as its hand-checked model YAML") {
  const OnnxImport imported = import_onnx(kTinyNet);
  const Network expected = load_network("tests/data/tiny_net.yaml");
  CHECK(imported.skipped.empty());
  CHECK(imported.notes.empty());
  CHECK(imported.network.name == "tiny_net");
  REQUIRE(imported.network.layers.size() == expected.layers.size());
  for (std::size_t i = 0; i < expected.layers.size(); ++i) {
    INFO(expected.layers[i].name);
    CHECK(imported.network.layers[i].name == expected.layers[i].name);
    CHECK(same_loop_nest(imported.network.layers[i], expected.layers[i]));
    CHECK(imported.network.layers[i].count == expected.layers[i].count);
  }
  CHECK(expected.macs() == expected.stated_macs);
  CHECK(imported.network.stated_macs == expected.stated_macs);
}

TEST_CASE("an imported network written as YAML loads back unchanged") {
  const OnnxImport imported = import_onnx(kTinyNet);
  const TempFile file(network_to_yaml(imported.network, "dcp import", "from tiny_net.onnx"));
  const Network loaded = load_network(file.path());
  CHECK(loaded.stated_macs == imported.network.stated_macs);
  REQUIRE(loaded.layers.size() == imported.network.layers.size());
  for (std::size_t i = 0; i < loaded.layers.size(); ++i) {
    CHECK(loaded.layers[i].name == imported.network.layers[i].name);
    CHECK(same_loop_nest(loaded.layers[i], imported.network.layers[i]));
    CHECK(loaded.layers[i].count == imported.network.layers[i].count);
  }
}

TEST_CASE("truncated, non-ONNX and missing files are one-line errors naming the file") {
  const std::string model = read_bytes(kTinyNet);
  REQUIRE(model.size() > 1000);
  std::string path;
  for (const std::size_t length : {model.size() / 2, model.size() - 7, std::size_t{20}}) {
    const std::string message = import_error(model.substr(0, length), &path);
    INFO(length);
    CHECK(message.find(path + ": not an ONNX model") == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
  for (const std::string& other :
       {std::string("hello, world\n"), read_bytes("README.md"), std::string()}) {
    const std::string message = import_error(other, &path);
    CHECK(message.find(path + ": not an ONNX model") == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK_THROWS_WITH(import_onnx("no/such/model.onnx"), "no/such/model.onnx: cannot open file");
}

TEST_CASE("zero strides, dilations or groups are refused before ONNX shape inference divides") {
  // libonnx's Conv shape inference divides by them unchecked: a fuzzed model died of SIGFPE.
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(read_bytes(kTinyNet)));
  for (const char* attribute : {"strides", "dilations", "group"}) {
    onnx::ModelProto broken = model;
    onnx::NodeProto& conv =
        *std::find_if(broken.mutable_graph()->mutable_node()->begin(),
                      broken.mutable_graph()->mutable_node()->end(),
                      [](const onnx::NodeProto& node) { return node.op_type() == "Conv"; });
    onnx::AttributeProto* zero = conv.add_attribute();
    zero->set_name(attribute);
    if (std::string(attribute) == "group") {
      zero->set_type(onnx::AttributeProto::INT);
      zero->set_i(0);
    } else {
      zero->set_type(onnx::AttributeProto::INTS);
      zero->add_ints(1);
      zero->add_ints(0);
    }
    CHECK_THROWS_WITH(import_onnx_bytes(broken.SerializeAsString(), "broken.onnx"),
                      Catch::StartsWith("broken.onnx: graph.node[") &&
                          Catch::Contains(std::string(").") + attribute + ": 0 is not positive"));
  }
}

TEST_CASE("a model that crashes libonnx's shape inference is a one-line error, not a crash") {
  // Found by fuzz_onnx: libonnx divides by zero inside another operator's inference. It runs in
  // a child process, so the crash becomes an error naming the file.
  const std::string path = "tests/data/libonnx_inference_crash.onnx";
  std::string message;
  try {
    import_onnx(path);
  } catch (const dcp::InputError& error) {
    message = error.what();
  }
  INFO(message);
  CHECK(message.find(path + ": graph: shape inference: libonnx crashed") == 0);
  CHECK(message.find('\n') == std::string::npos);
}
