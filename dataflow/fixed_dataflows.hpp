#pragma once
// The fixed (hand-designed) dataflows, generated for any layer and arch so that they are always
// legal: tiles shrink until every level fits its buffer and fan-outs never exceed the PEs.
#include <array>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// "nvdla" (C x K atoms), "eyeriss-rs" (row stationary PE sets of filter rows x output rows,
// replicated over channels, filters and images), "shidiannao" (output rows and columns, output
// stationary), "tpu-ws" (systolic weight stationary: C x R x S down the rows, K across) and
// "tpu-os" (systolic output stationary: output pixels down the rows, K across). Each function's
// comment cites the design it follows.
const std::vector<std::string>& fixed_dataflow_names();
bool is_fixed_dataflow_name(const std::string& name);
// The names as one list for messages and help: "nvdla, eyeriss-rs, ...".
std::string fixed_dataflow_names_text();
// Throws InputError naming "--dataflow" and the allowed names for an unknown name.
Dataflow make_fixed_dataflow(const std::string& name, const Layer& layer, const ArchSpec& arch);

// Words moved between DRAM and L2 (all tensors, reads and writes) when L2 tiles of `pass` walk
// the layer in `order` (outermost first), by the reuse rule of a loop nest as Timeloop analyses
// it: a tile is fetched again on every iteration of a loop it does not depend on that runs
// outside the innermost loop it does depend on. A tensor that bypasses L2 and does not fit in
// `array_tile` (what the PE array holds in one step) is fetched again on every iteration of
// every such loop. Evicted partial sums are written out and read back. Halos are ignored, and a
// grouped layer's input is read as the simulator reads it: each pass the channels of every group
// its filters span, again whenever the filters change. eyeriss-rs picks the pass that minimises
// it, as Eyeriss's mapper does.
double pass_dram_words(const Layer& layer, const ArchSpec& arch, const DimArray& pass,
                       const std::array<Dim, kNumDims>& order, const DimArray& array_tile);

}  // namespace dcp
