// Fuzzes the arch YAML loader. An arch it accepts must also be usable: the all-zero dataflow code
// (whole tiles, every unit) decodes to a legal dataflow for a small conv, or the decoder refuses
// it with an InputError, which exercises the PE, lane and buffer figures the loader let through.
#include "arch/arch_spec.hpp"
#include "mapper/dataflow_code.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace dcp;
  ArchSpec arch;
  if (!fuzz::accepts([&] { arch = load_arch(fuzz::write_input_file(data, size)); })) return 0;
  static const Layer layer = make_conv("fuzz", "conv", 8, 16, 12, 12, 3, 3, 1, 1, 1);
  fuzz::accepts(
      [&] { require_legal(layer, arch, decode_dataflow(layer, arch, DataflowCode{}), "decoded"); });
  return 0;
}
