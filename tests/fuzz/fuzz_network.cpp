// Fuzzes the layer loaders: model YAML (load_network) and Timeloop problem YAML, on the same
// bytes. A network it accepts must give its totals or refuse them with an InputError, and must
// survive a round trip through network_to_yaml with the same loop nests.
#include <cstdlib>

#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/layer.hpp"
#include "workloads/network_writer.hpp"
#include "workloads/timeloop_problem.hpp"

namespace {

// The counts every consumer of a network computes; each either fits int64 or is refused.
void compute_counts(const dcp::Network& network) {
  dcp::fuzz::accepts([&] { network.macs(); });
  for (const dcp::Layer& layer : network.layers) {
    for (const dcp::Tensor tensor :
         {dcp::Tensor::Input, dcp::Tensor::Weight, dcp::Tensor::Output}) {
      dcp::fuzz::accepts([&] { layer.tensor_elements(tensor); });
    }
  }
}

void require_round_trip(const dcp::Network& network) {
  const std::string yaml = dcp::network_to_yaml(network, "", "fuzz round trip");
  const dcp::Network reloaded = dcp::load_network(dcp::fuzz::write_input_file(yaml, 1));
  bool same = reloaded.layers.size() == network.layers.size();
  for (std::size_t i = 0; same && i < network.layers.size(); ++i) {
    same = dcp::same_loop_nest(reloaded.layers[i], network.layers[i]) &&
           reloaded.layers[i].count == network.layers[i].count;
  }
  if (!same) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace dcp;
  const std::string path = fuzz::write_input_file(data, size);
  Network network;
  if (fuzz::accepts([&] { network = load_network(path); })) {
    compute_counts(network);
    require_round_trip(network);
  }
  Layer layer;
  if (fuzz::accepts([&] { layer = load_timeloop_problem(path, "fuzz"); })) {
    network.layers = {layer};
    compute_counts(network);
  }
  return 0;
}
