// Fuzzes the ONNX importer with arbitrary bytes as a serialized ModelProto; an imported network
// must give its MAC total or refuse it with an InputError.
#include <string>

#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace dcp;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  OnnxImport imported;
  if (fuzz::accepts([&] { imported = import_onnx_bytes(bytes, "fuzz.onnx"); })) {
    fuzz::accepts([&] { imported.network.macs(); });
  }
  return 0;
}
