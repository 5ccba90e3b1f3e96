#pragma once
// Dataflows to and from the formats of the peer tools: Timeloop mapping YAML (export and import)
// and MAESTRO .m directives (import of what dataflow_to_maestro writes). Each export followed by
// its import gives back an equal Dataflow, name included.
//
// Timeloop convention: dcp's three levels are four Timeloop storage targets, outermost first,
//   DRAM          temporal: the loops over L2 tiles (L2 `order`), factor = ceil(layer / L2 tile)
//   GlobalBuffer  spatial: L2's fan-out over clusters; temporal: the loops over L1 tiles inside
//                 an L2 tile (L1 `order`)
//   Cluster-L1    spatial: L1's fan-out over PEs; temporal: the loops over L0 tiles (L0 `order`)
//   PE-L0         spatial: L0's fan-out over MAC lanes; temporal: the elements of an L0 tile
// so the tile a target holds is the product of its own and all inner factors. Timeloop's
// `permutation` lists loops inner to outer, the reverse of dcp's `order`; N (the layer's
// `repeat`) is outermost at DRAM. A spatial directive's permutation starts with its spatial dim,
// which keeps the dim when the fan-out is 1. Factors only express tiles that divide evenly: where
// a dcp tile has edge tiles (clipped remainders), the temporal directive also carries the exact
// tile in an extra `dcp_tile` key, which Timeloop ignores and the import prefers.
#include <string>

#include "sim/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// The Timeloop mapping YAML (`mapping:` list) of `dataflow` for `layer`.
std::string dataflow_to_timeloop_mapping(const Dataflow& dataflow, const Layer& layer);
// Reads a mapping in the convention above. Errors are InputErrors naming the file and the field
// ("mapping[2].factors"). The name is the top-level `dcp_dataflow` key, else the file stem.
Dataflow load_timeloop_mapping(const std::string& path);

// Reads a MAESTRO file of the shape dataflow_to_maestro writes: four directive blocks
// (L2, L1, L0, MAC lanes) separated by three `Cluster(n, P)` lines, every map with its size equal
// to its offset. The name comes from the header comment, else the file stem. Errors are
// InputErrors naming the file and the line.
Dataflow load_maestro_dataflow(const std::string& path);

// A dataflow in any format dcp writes: MAESTRO for a `.m` file, a Timeloop mapping for YAML with
// a top-level `mapping`, else dcp's dataflow YAML (load_dataflow).
Dataflow load_dataflow_any_format(const std::string& path);

}  // namespace dcp
