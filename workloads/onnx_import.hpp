#pragma once
// Imports the MAC-carrying layers of an ONNX model as a dcp Network: Conv (stride, padding,
// groups: conv / dwconv / grouped), Gemm, and MatMul (a constant operand makes it a gemm, two
// activations an attention matmul whose batch and head dims become `repeat`). Tensor shapes come
// from ONNX shape inference. Every other op is taken to do no MACs (Relu, Add, BatchNorm, pools,
// Reshape, Softmax, ...), except the known MAC ops dcp cannot express (ConvTranspose, dilated or
// unevenly strided Conv, RNNs, Einsum, quantized convs and matmuls), which are reported in
// `skipped` and count as no MACs. Its own library (dcp_onnx_import), and this header names no onnx
// type: `dcp` reaches it through the module dcp_onnx, opened only by `dcp import`, so that no
// other command loads protobuf and onnx.
#include <string>
#include <vector>

#include "workloads/layer.hpp"

namespace dcp {

struct SkippedNode {
  std::string name;     // the node's name (or "<op>#<index>" when it has none)
  std::string op_type;  // "ConvTranspose", "Conv", ...
  std::string reason;   // why dcp cannot express it, one line
};

struct OnnxImport {
  // Layers in graph order, identical ones merged into `count` unless asked not to;
  // stated_macs is their total.
  Network network;
  std::vector<SkippedNode> skipped;
  // Approximations made, one line each: padding folded into the input size, symbolic dims
  // taken as 1.
  std::vector<std::string> notes;
};

struct OnnxImportOptions {
  std::string network_name;  // empty: the graph's name, else the file name without extension
  bool merge_identical = true;
};

// Throws InputError naming `path` for an unreadable, truncated or non-ONNX file.
OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options = {});
// The same for a serialized ModelProto; `source` names it in errors.
OnnxImport import_onnx_bytes(const std::string& bytes, const std::string& source,
                             const OnnxImportOptions& options = {});

// The entry point of the module dcp_onnx (onnx_module.cpp).
struct OnnxImporter {
  OnnxImport (*import_file)(const std::string& path, const OnnxImportOptions& options);
};

}  // namespace dcp

// The symbol `dcp import` looks up in the module.
extern "C" const dcp::OnnxImporter* dcp_onnx_importer();
