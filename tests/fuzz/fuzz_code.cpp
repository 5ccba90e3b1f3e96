// Fuzzes the dataflow-code decoder with arbitrary floats (NaN and infinities included). Input:
// one byte picks the arch preset, six bytes the conv layer's shape, then the code's 57 floats
// (missing ones are 0). A NaN gene must give an InputError; any other code must decode to a
// legal dataflow whose own code decodes back to it.
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mapper/dataflow_code.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

constexpr std::size_t kHeaderBytes = 7;

const dcp::ArchSpec& preset(uint8_t choice) {
  static const std::array<dcp::ArchSpec, 4> presets = [] {
    std::array<dcp::ArchSpec, 4> loaded;
    const std::array<const char*, 4> names = {"eyeriss", "edge", "cloud", "tpu"};
    for (std::size_t i = 0; i < names.size(); ++i) {
      loaded[i] = dcp::load_arch(dcp::fuzz::source_path("arch/presets/") + names[i] + ".yaml");
    }
    return loaded;
  }();
  return presets[choice % presets.size()];
}

// Shapes up to 256 channels and 64x64 outputs keep a decode fast, yet reach every code path.
dcp::Layer layer_from(const uint8_t* header) {
  const int64_t kernel = 1 + header[4] % 7;
  const int64_t stride = 1 + header[5] % 3;
  const int64_t out_h = 1 + header[2] % 64;
  const int64_t out_w = 1 + header[3] % 64;
  return dcp::make_conv("fuzz", "conv", 1 + header[1], 1 + header[0], (out_h - 1) * stride + kernel,
                        (out_w - 1) * stride + kernel, kernel, kernel, stride, 0, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace dcp;
  if (size < kHeaderBytes) return 0;
  const ArchSpec& arch = preset(data[6]);
  const Layer layer = layer_from(data);
  CodeVector genes{};
  std::memcpy(genes.data(), data + kHeaderBytes,
              std::min(size - kHeaderBytes, sizeof(float) * genes.size()));
  bool has_nan = false;
  for (const float gene : genes) has_nan = has_nan || std::isnan(gene);

  Dataflow decoded;
  const bool decoded_ok =
      fuzz::accepts([&] { decoded = decode_dataflow(layer, arch, code_from_vector(genes)); });
  if (has_nan) {
    if (decoded_ok) std::abort();  // a NaN gene decoded silently
    return 0;
  }
  if (!decoded_ok) return 0;  // refused: no dataflow fits this arch
  if (!legality_violations(layer, arch, decoded).empty()) std::abort();
  Dataflow round_trip = decode_dataflow(layer, arch, encode_dataflow(layer, arch, decoded));
  round_trip.name = decoded.name;
  if (!(round_trip == decoded)) std::abort();
  return 0;
}
