#pragma once
// Writing networks back out as model YAML (the schema load_network reads), for the importers
// (`dcp import`, `dcp import-timeloop`) that build a Network from another format.
#include <string>
#include <vector>

#include "workloads/layer.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {

// Folds each layer into the first earlier one with the same loop nest, adding up the counts;
// keeps the order of first occurrence. Network totals are unchanged.
std::vector<Layer> merge_identical_layers(const std::vector<Layer>& layers);

// The model YAML for `network`, one flow-style line per layer; fields at their defaults are left
// out. `comment` (may span lines) goes first as '#' lines; `stated_macs_source` is written when
// non-empty. load_network of the result gives back the same layers.
std::string network_to_yaml(const Network& network, const std::string& stated_macs_source,
                            const std::string& comment);

}  // namespace dcp
