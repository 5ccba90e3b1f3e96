#pragma once
// Dataflows to and from the formats of the peer tools: Timeloop mapping YAML (export and import)
// and MAESTRO .m directives (import of what dataflow_to_maestro writes). Each export followed by
// its import gives back an equal Dataflow, name included.
//
// Timeloop convention: dcp's three levels are four Timeloop storage targets, outermost first,
//   DRAM          temporal: the loops over L2 tiles (L2 `order`), factor = ceil(layer / L2 tile)
//   GlobalBuffer  spatial: L2's fan-outs over clusters; temporal: the loops over L1 tiles inside
//                 an L2 tile (L1 `order`)
//   Cluster-L1    spatial: L1's fan-outs over PEs; temporal: the loops over L0 tiles (L0 `order`)
//   PE-L0         spatial: L0's fan-outs over MAC lanes; temporal: the elements of an L0 tile
// so the tile a target holds is the product of its own and all inner factors. All seven dims are
// loops, N (the batch) included; the layer's `repeat` (independent copies) is only a comment.
// Timeloop's `permutation` lists loops inner to outer, the reverse of dcp's `order`; a mapping
// written before the batch dim lists six, and N then runs outermost. A spatial directive's
// factors are every dim's fan-out. Axis bindings use Timeloop's own `split`: a level that binds
// a dim to rows or columns lists the unrolled dims on columns (Timeloop's X) first, then those on
// rows (Y), with `split` = the number of column dims; an unrolled dim that the level leaves to
// dcp's default axis (L2 rows, L1 columns) is placed on that axis and named in an extra
// `dcp_unbound` key. A level that binds nothing has no `split` (every axis Any). Factors only
// express tiles that divide evenly: where a dcp tile has edge tiles (clipped remainders), the
// temporal directive also carries the exact tile in an extra `dcp_tile` key. Timeloop ignores
// the dcp_ keys; the import prefers them.
//
// MAESTRO convention (dataflow_to_maestro): an L2 block of TemporalMaps, then each level's
// fan-out as `Cluster(n, P)` blocks. MAESTRO allows one SpatialMap per block, so a level that
// unrolls several dims has one nested Cluster per dim (a level that unrolls none: Cluster(1, P));
// the last block of a level holds the next level's order and tile (the MAC-lane blocks: single
// elements). A comment line `// dcp: L1 fan-out` (`... on rows` / `... on cols` for a bound dim)
// right before each Cluster names the level and binding; MAESTRO skips it, the import groups
// Clusters by it. A file without these lines (written before several dims could be unrolled) has
// exactly three Clusters, one per level, and may omit the N maps (N then has tile 1, outermost).
#include <string>

#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// The Timeloop mapping YAML (`mapping:` list) of `dataflow` for `layer`.
std::string dataflow_to_timeloop_mapping(const Dataflow& dataflow, const Layer& layer);
// Reads a mapping in the convention above. Errors are InputErrors naming the file and the field
// ("mapping[2].factors"). The name is the top-level `dcp_dataflow` key, else the file stem.
Dataflow load_timeloop_mapping(const std::string& path);

// Reads a MAESTRO file of the shape dataflow_to_maestro writes (convention above), every map with
// its size equal to its offset. The name comes from the header comment, else the file stem.
// Errors are InputErrors naming the file and the line.
Dataflow load_maestro_dataflow(const std::string& path);

// A dataflow in any format dcp writes: MAESTRO for a `.m` file, a Timeloop mapping for YAML with
// a top-level `mapping`, else dcp's dataflow YAML (load_dataflow).
Dataflow load_dataflow_any_format(const std::string& path);

}  // namespace dcp
