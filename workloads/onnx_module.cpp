// The module dcp_onnx: the ONNX importer, for `dcp import`.
#include "workloads/onnx_import.hpp"

extern "C" const dcp::OnnxImporter* dcp_onnx_importer() {
  static const dcp::OnnxImporter importer{dcp::import_onnx};
  return &importer;
}
