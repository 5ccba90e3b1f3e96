#pragma once
// The fixed (hand-designed) dataflows, generated for any layer and arch so that they are always
// legal: tiles shrink until every level fits its buffer and fan-outs never exceed the PEs.
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "sim/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// "nvdla" (K and C parallel), "eyeriss-rs" (row stationary: Y across clusters, R/S... within),
// "shidiannao" (Y and X parallel, output stationary), "tpu-ws" (weight stationary, C rows x K
// cols, as a systolic array runs it).
const std::vector<std::string>& fixed_dataflow_names();
bool is_fixed_dataflow_name(const std::string& name);
// Throws InputError naming "--dataflow" and the allowed names for an unknown name.
Dataflow make_fixed_dataflow(const std::string& name, const Layer& layer, const ArchSpec& arch);

}  // namespace dcp
