// Fuzzes the dataflow loaders: dcp's YAML, Timeloop mapping YAML and MAESTRO directives, on the
// same bytes. A dataflow one accepts must survive a YAML round trip unchanged, get a legality
// verdict for a small conv on the eyeriss preset, and simulate when it is legal.
#include <cstdlib>

#include "dataflow/dataflow.hpp"
#include "dataflow/interchange.hpp"
#include "sim/evaluate.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

void check_dataflow(const dcp::Dataflow& dataflow) {
  static const dcp::ArchSpec arch =
      dcp::load_arch(dcp::fuzz::source_path("arch/presets/eyeriss.yaml"));
  static const dcp::Layer layer = dcp::make_conv("fuzz", "conv", 8, 16, 12, 12, 3, 3, 1, 1, 1);
  const std::string yaml = dcp::dataflow_to_yaml(dataflow);
  if (!(dcp::load_dataflow(dcp::fuzz::write_input_file(yaml, 1)) == dataflow)) std::abort();
  if (dcp::legality_violations(layer, arch, dataflow).empty()) {
    dcp::evaluate(layer, arch, dataflow);
    dcp::dataflow_to_maestro(dataflow, layer);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace dcp;
  const std::string path = fuzz::write_input_file(data, size);
  for (Dataflow (*load)(const std::string&) :
       {&load_dataflow, &load_timeloop_mapping, &load_maestro_dataflow}) {
    Dataflow dataflow;
    if (fuzz::accepts([&] { dataflow = load(path); })) check_dataflow(dataflow);
  }
  return 0;
}
