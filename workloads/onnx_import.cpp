#include "workloads/onnx_import.hpp"

#include <fcntl.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "common/fd_io.hpp"
#include "common/input_error.hpp"
#include "workloads/network_writer.hpp"

// Defined by the sanitizer runtimes (libFuzzer registers its crash-artifact writer through it);
// weak, so null in a plain build.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace dcp {
namespace {

using Shape = std::vector<int64_t>;

// Op types that multiply-accumulate but have no dcp layer type.
const std::set<std::string>& unsupported_mac_ops() {
  static const std::set<std::string> ops = {
      "ConvTranspose", "ConvInteger", "QLinearConv", "MatMulInteger", "QLinearMatMul",
      "Einsum",        "LSTM",        "GRU",         "RNN",           "Attention"};
  return ops;
}

// Raised by a node's converter when dcp cannot express the node; the node is then skipped.
struct Unsupported {
  std::string reason;
};

// What shape inference and the initializers say about the graph's tensors.
class TensorInfo {
 public:
  TensorInfo(const onnx::GraphProto& graph, std::vector<std::string>& notes) : notes_(notes) {
    for (const auto* values : {&graph.input(), &graph.value_info(), &graph.output()}) {
      for (const onnx::ValueInfoProto& value : *values) record_shape(value);
    }
    for (const onnx::TensorProto& tensor : graph.initializer()) {
      shapes_[tensor.name()] = Shape(tensor.dims().begin(), tensor.dims().end());
      constants_.insert(tensor.name());
    }
  }

  const Shape& shape(const onnx::NodeProto& node, int input) const {
    if (input >= node.input_size())
      throw Unsupported{"input " + std::to_string(input) + " missing"};
    const auto found = shapes_.find(node.input(input));
    if (found == shapes_.end()) {
      throw Unsupported{"shape inference gave no shape for input '" + node.input(input) + "'"};
    }
    return found->second;
  }

  bool is_constant(const std::string& tensor) const { return constants_.count(tensor) > 0; }

  // A weight often reaches a MatMul through Transpose, Cast or DequantizeLinear; a node whose
  // inputs are all constant computes a constant.
  void propagate_constants(const onnx::NodeProto& node) {
    const bool constant =
        node.op_type() == "Constant" ||
        (node.input_size() > 0 &&
         std::all_of(node.input().begin(), node.input().end(), [this](const std::string& input) {
           return input.empty() || is_constant(input);
         }));
    if (constant) constants_.insert(node.output().begin(), node.output().end());
  }

 private:
  void record_shape(const onnx::ValueInfoProto& value) {
    if (!value.type().has_tensor_type() || !value.type().tensor_type().has_shape()) return;
    Shape shape;
    for (const auto& dim : value.type().tensor_type().shape().dim()) {
      if (dim.has_dim_value()) {
        shape.push_back(dim.dim_value());
      } else if (dim.has_dim_param()) {
        // Exporters name the batch (and sometimes the sequence) dim symbolically.
        if (symbols_.insert(dim.dim_param()).second) {
          notes_.push_back("symbolic dim '" + dim.dim_param() + "' taken as 1");
        }
        shape.push_back(1);
      } else {
        return;
      }
    }
    shapes_[value.name()] = shape;
  }

  std::vector<std::string>& notes_;
  std::map<std::string, Shape> shapes_;
  std::set<std::string> constants_;
  std::set<std::string> symbols_;
};

std::vector<int64_t> int_list(const onnx::NodeProto& node, const std::string& attribute,
                              std::vector<int64_t> default_value) {
  for (const onnx::AttributeProto& item : node.attribute()) {
    if (item.name() == attribute) return {item.ints().begin(), item.ints().end()};
  }
  return default_value;
}

int64_t int_attribute(const onnx::NodeProto& node, const std::string& attribute,
                      int64_t default_value) {
  for (const onnx::AttributeProto& item : node.attribute()) {
    if (item.name() == attribute) return item.i();
  }
  return default_value;
}

std::string string_attribute(const onnx::NodeProto& node, const std::string& attribute,
                             const std::string& default_value) {
  for (const onnx::AttributeProto& item : node.attribute()) {
    if (item.name() == attribute) return item.s();
  }
  return default_value;
}

std::string joined(const std::vector<int64_t>& values, const char* separator) {
  std::string text;
  for (const int64_t value : values) {
    text += (text.empty() ? "" : separator) + std::to_string(value);
  }
  return text;
}

int64_t product(Shape::const_iterator begin, Shape::const_iterator end) {
  int64_t result = 1;
  for (auto it = begin; it != end; ++it) result *= *it;
  return result;
}

// ONNX pads are [top, left, bottom, right]; auto_pad SAME_* derives them from the output size.
std::vector<int64_t> conv_pads(const onnx::NodeProto& node, const Shape& input,
                               const std::vector<int64_t>& kernel, int64_t stride) {
  const std::string auto_pad = string_attribute(node, "auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") return int_list(node, "pads", {0, 0, 0, 0});
  if (auto_pad == "VALID") return {0, 0, 0, 0};
  std::vector<int64_t> pads(4);
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t in = input[2 + axis];
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + kernel[axis] - in);
    const int64_t smaller = total / 2;
    pads[axis] = auto_pad == "SAME_UPPER" ? smaller : total - smaller;
    pads[axis + 2] = total - pads[axis];
  }
  return pads;
}

class Importer {
 public:
  Importer(const std::string& source, const onnx::GraphProto& graph, OnnxImport& result)
      : source_(source), graph_(graph), result_(result), tensors_(graph, result.notes) {}

  std::vector<Layer> run() {
    std::vector<Layer> layers;
    for (int index = 0; index < graph_.node_size(); ++index) {
      const onnx::NodeProto& node = graph_.node(index);
      node_label_ =
          node.name().empty() ? node.op_type() + "#" + std::to_string(index) : node.name();
      try {
        std::optional<Layer> layer = convert(node);
        if (layer) {
          layer->name = unique_layer_name(node, index);
          layers.push_back(*layer);
        }
      } catch (const Unsupported& unsupported) {
        result_.skipped.push_back({node_label_, node.op_type(), unsupported.reason});
      } catch (const InputError& error) {
        // make_conv / make_gemm refuse shapes dcp cannot hold (e.g. sizes above its bound).
        result_.skipped.push_back({node_label_, node.op_type(), error.what()});
      }
      tensors_.propagate_constants(node);
    }
    return layers;
  }

 private:
  std::optional<Layer> convert(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    // Contrib ops (FusedConv, NhwcConv, Attention, ...) are outside the ONNX schema; flag the
    // ones whose names say they multiply rather than guess their shapes.
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      if (unsupported_mac_ops().count(op) > 0 || op.find("Conv") != std::string::npos) {
        throw Unsupported{"operator of domain '" + node.domain() + "' is not supported"};
      }
      return std::nullopt;
    }
    if (op == "Conv") return conv(node);
    if (op == "Gemm") return gemm(node);
    if (op == "MatMul") return matmul(node);
    if (unsupported_mac_ops().count(op) > 0) {
      throw Unsupported{"dcp has no layer type for " + op};
    }
    return std::nullopt;
  }

  Layer conv(const onnx::NodeProto& node) {
    const Shape& input = tensors_.shape(node, 0);
    const Shape& weight = tensors_.shape(node, 1);
    if (input.size() != 4 || weight.size() != 4) {
      throw Unsupported{"only 2-D convolutions (N x C x H x W input) are supported, got a " +
                        std::to_string(input.size()) + "-D input"};
    }
    const std::vector<int64_t> dilations = int_list(node, "dilations", {1, 1});
    if (std::any_of(dilations.begin(), dilations.end(), [](int64_t d) { return d != 1; })) {
      throw Unsupported{"dilation " + joined(dilations, "x") +
                        " is not supported: dcp layers have no dilation (allowed: 1x1)"};
    }
    const std::vector<int64_t> strides = int_list(node, "strides", {1, 1});
    if (strides.size() != 2 || strides[0] != strides[1]) {
      throw Unsupported{"strides " + joined(strides, "x") +
                        " differ per axis; dcp layers have one stride"};
    }
    const std::vector<int64_t> kernel = int_list(node, "kernel_shape", {weight[2], weight[3]});
    if (kernel.size() != 2) throw Unsupported{"kernel_shape must have 2 values"};
    const std::vector<int64_t> pads = conv_pads(node, input, kernel, strides[0]);
    if (pads.size() != 4) throw Unsupported{"pads has " + std::to_string(pads.size()) + " values"};
    // dcp has one pad for all four sides. The smallest pad stays padding; the rest is counted as
    // input rows and columns, which keeps the output size and the MACs exact.
    const int64_t pad = *std::min_element(pads.begin(), pads.end());
    const int64_t in_h = input[2] + pads[0] + pads[2] - 2 * pad;
    const int64_t in_w = input[3] + pads[1] + pads[3] - 2 * pad;
    if (pad != pads[0] || pad != pads[1] || pad != pads[2] || pad != pads[3]) {
      result_.notes.push_back(node_label_ + ": pads " + joined(pads, ",") + " differ; padding " +
                              "beyond " + std::to_string(pad) + " is counted as input (in_h " +
                              std::to_string(in_h) + ", in_w " + std::to_string(in_w) +
                              "), MACs exact");
    }
    Layer layer = make_conv(source_, node.name(), input[1], weight[0], in_h, in_w, kernel[0],
                            kernel[1], strides[0], pad, int_attribute(node, "group", 1));
    layer.repeat = input[0];
    return layer;
  }

  Layer gemm(const onnx::NodeProto& node) {
    Shape a = tensors_.shape(node, 0);
    Shape b = tensors_.shape(node, 1);
    if (a.size() != 2 || b.size() != 2) throw Unsupported{"Gemm operands must be 2-D"};
    if (int_attribute(node, "transA", 0) != 0) std::swap(a[0], a[1]);
    if (int_attribute(node, "transB", 0) != 0) std::swap(b[0], b[1]);
    const bool has_weight =
        tensors_.is_constant(node.input(0)) || tensors_.is_constant(node.input(1));
    return make_gemm(node.name(), has_weight ? LayerType::Gemm : LayerType::Matmul, a[0], a[1],
                     b[1], 1);
  }

  // numpy matmul semantics: 1-D operands gain a unit dim, leading dims broadcast.
  Layer matmul(const onnx::NodeProto& node) {
    Shape a = tensors_.shape(node, 0);
    Shape b = tensors_.shape(node, 1);
    if (a.empty() || b.empty()) throw Unsupported{"MatMul of a scalar"};
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    const int64_t rows = a[a.size() - 2];
    const int64_t inner = a.back();
    const int64_t cols = b.back();
    const int64_t a_batch = product(a.begin(), a.end() - 2);
    const int64_t b_batch = product(b.begin(), b.end() - 2);
    // A shared 2-D weight sees every row of every batch: one gemm over all of them.
    if (tensors_.is_constant(node.input(1)) && b.size() == 2) {
      return make_gemm(node.name(), LayerType::Gemm, a_batch * rows, inner, cols, 1);
    }
    if (tensors_.is_constant(node.input(0)) && a.size() == 2) {
      return make_gemm(node.name(), LayerType::Gemm, b_batch * cols, inner, rows, 1);
    }
    return make_gemm(node.name(), LayerType::Matmul, rows, inner, cols, broadcast_batch(a, b));
  }

  static int64_t broadcast_batch(const Shape& a, const Shape& b) {
    const std::size_t batch_rank = std::max(a.size(), b.size()) - 2;
    int64_t batch = 1;
    for (std::size_t i = 0; i < batch_rank; ++i) {
      const auto dim_from_end = [i, batch_rank](const Shape& shape) -> int64_t {
        const std::size_t own_rank = shape.size() - 2;
        return i + own_rank >= batch_rank ? shape[i + own_rank - batch_rank] : 1;
      };
      batch *= std::max(dim_from_end(a), dim_from_end(b));
    }
    return batch;
  }

  // Exporters name nodes like "/layer1/layer1.0/conv1/Conv": the leading '/' and the trailing op
  // type add nothing, and ':' would break "file.yaml:layer" references.
  std::string unique_layer_name(const onnx::NodeProto& node, int index) {
    std::string name = node.name();
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
    const std::string op_suffix = "/" + node.op_type();
    if (name.size() > op_suffix.size() &&
        name.compare(name.size() - op_suffix.size(), op_suffix.size(), op_suffix) == 0) {
      name.resize(name.size() - op_suffix.size());
    }
    std::replace(name.begin(), name.end(), ':', '_');
    if (name.empty()) name = node.op_type() + "_" + std::to_string(index);
    std::string unique = name;
    for (int suffix = 2; !used_names_.insert(unique).second; ++suffix) {
      unique = name + "_" + std::to_string(suffix);
    }
    return unique;
  }

  const std::string& source_;
  const onnx::GraphProto& graph_;
  OnnxImport& result_;
  TensorInfo tensors_;
  std::set<std::string> used_names_;
  std::string node_label_;  // the node being converted, as messages name it
};

// ONNX's shape inference for convolutions and pools divides by strides, dilations and groups
// without checking them (libonnx 1.13 dies of SIGFPE on a zero stride), so every such attribute,
// in subgraphs too, must be positive before it runs.
void require_positive_window_attributes(const onnx::GraphProto& graph, const std::string& source,
                                        const std::string& graph_field) {
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    const std::string node_field = graph_field + ".node[" + std::to_string(i) + "]";
    for (const onnx::AttributeProto& attribute : node.attribute()) {
      const std::string& name = attribute.name();
      if (name == "strides" || name == "dilations" || name == "kernel_shape" || name == "group") {
        std::vector<int64_t> values(attribute.ints().begin(), attribute.ints().end());
        if (attribute.has_i()) values.push_back(attribute.i());
        for (const int64_t value : values) {
          if (value < 1) {
            throw InputError(source, node_field + " (" + node.op_type() + ")." + name,
                             std::to_string(value) + " is not positive", ">= 1");
          }
        }
      }
      if (attribute.has_g()) require_positive_window_attributes(attribute.g(), source, node_field);
      for (const onnx::GraphProto& subgraph : attribute.graphs()) {
        require_positive_window_attributes(subgraph, source, node_field);
      }
    }
  }
}

// The child's reply on the pipe: one status byte, then the inferred model or the error message.
constexpr char kInferred = 'M';
constexpr char kInferenceFailed = 'E';

// Reads until end of file; returns 0 or the errno of a failed read.
int read_all(int fd, std::string& data) {
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got > 0) {
      data.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0) {
      return 0;
    } else if (errno != EINTR) {
      return errno;
    }
  }
}

[[noreturn]] void infer_and_reply(onnx::ModelProto& model, int out) {
  // A crash must end this child quietly, as its signal: no sanitizer report, no libFuzzer crash
  // artifact written on the parent's behalf, no core file.
  for (const int signal : {SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGABRT}) std::signal(signal, SIG_DFL);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(nullptr);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::string reply(1, kInferred);
  try {
    onnx::shape_inference::InferShapes(model);
    if (!model.AppendToString(&reply)) _exit(2);
  } catch (const std::exception& error) {
    reply = std::string(1, kInferenceFailed) + error.what();
  } catch (...) {
    reply = std::string(1, kInferenceFailed) + "unknown exception";
  }
  _exit(write_all(out, reply.data(), reply.size()) ? 0 : 1);
}

// Runs ONNX shape inference on `model` in a forked child and replaces `model` with the result.
// Why a child: libonnx's inference has crash bugs on malformed attributes (SIGFPE on zero
// divisors, ...) that dcp cannot fix, so it runs where a crash cannot take dcp down; the crash
// becomes an InputError about the file.
void infer_shapes_in_child(onnx::ModelProto& model, const std::string& source) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "shape inference: pipe");
  }
  const pid_t child = fork();
  if (child < 0) {
    const int error = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    throw std::system_error(error, std::generic_category(), "shape inference: fork");
  }
  if (child == 0) {
    close(pipe_fds[0]);
    infer_and_reply(model, pipe_fds[1]);
  }
  close(pipe_fds[1]);
  std::string reply;
  int read_error = 0;
  std::exception_ptr read_failure;  // std::bad_alloc: stop and reap the child, then rethrow
  try {
    read_error = read_all(pipe_fds[0], reply);
  } catch (...) {
    read_failure = std::current_exception();
    kill(child, SIGKILL);
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "shape inference: waitpid");
    }
  }
  if (read_failure) std::rethrow_exception(read_failure);
  const std::string allowed = "a model whose shapes ONNX can infer";
  if (WIFSIGNALED(status)) {
    throw InputError(source, "graph",
                     "shape inference: libonnx crashed (signal " +
                         std::to_string(WTERMSIG(status)) + ") on this model",
                     allowed);
  }
  if (read_error != 0) {
    throw std::system_error(read_error, std::generic_category(), "shape inference: read");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty()) {
    throw InputError(source, "graph",
                     "shape inference: libonnx exited with status " +
                         std::to_string(WEXITSTATUS(status)) + " on this model",
                     allowed);
  }
  if (reply[0] == kInferenceFailed) {
    throw InputError(source, "graph", "shape inference failed: " + reply.substr(1));
  }
  const bool inferred = reply[0] == kInferred;
  reply.erase(0, 1);
  if (!inferred || !model.ParseFromString(reply)) {
    throw InputError(source, "graph", "shape inference: libonnx's result does not parse", allowed);
  }
}

onnx::ModelProto parse_model(const std::string& bytes, const std::string& source) {
  onnx::ModelProto model;
  const std::string not_onnx = "not an ONNX model";
  if (!model.ParseFromString(bytes)) {
    throw InputError(source, "",
                     not_onnx + " (protobuf parsing failed: truncated or another format)",
                     "an ONNX ModelProto file");
  }
  // Random bytes can parse as a message of unknown fields; a model needs a graph with nodes
  // and an opset to interpret them.
  if (model.ir_version() <= 0 || !model.has_graph() || model.graph().node_size() == 0 ||
      model.opset_import_size() == 0) {
    throw InputError(source, "", not_onnx + " (no ir_version, opset or graph nodes)",
                     "an ONNX ModelProto file");
  }
  require_positive_window_attributes(model.graph(), source, "graph");
  infer_shapes_in_child(model, source);
  return model;
}

}  // namespace

OnnxImport import_onnx_bytes(const std::string& bytes, const std::string& source,
                             const OnnxImportOptions& options) {
  const onnx::ModelProto model = parse_model(bytes, source);
  OnnxImport result;
  std::vector<Layer> layers = Importer(source, model.graph(), result).run();
  if (layers.empty()) {
    throw InputError(source, "graph", "has no Conv, Gemm or MatMul node dcp can import",
                     "a model with at least one supported MAC layer");
  }
  Network& network = result.network;
  network.source = source;
  network.name = !options.network_name.empty()   ? options.network_name
                 : !model.graph().name().empty() ? model.graph().name()
                                                 : std::filesystem::path(source).stem().string();
  network.layers = options.merge_identical ? merge_identical_layers(layers) : layers;
  network.stated_macs = network.macs();
  return result;
}

OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file || std::filesystem::is_directory(path)) throw InputError(path, "", "cannot open file");
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return import_onnx_bytes(bytes.str(), path, options);
}

}  // namespace dcp
