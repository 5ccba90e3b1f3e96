#pragma once
// Turns a nearly legal dataflow (a fixed dataflow's first guess, a random draw, a decoded DCP
// code) into a legal one by shrinking tiles and fan-outs, so that every generator shares one
// notion of "the closest legal dataflow".
#include <array>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// Per level and dim: tiles the repair halves last among those whose halving idles no units (a
// fixed dataflow's defining shape, e.g. the whole filter row a row-stationary PE holds).
using ShrinkLast = std::array<std::array<bool, kNumDims>, kNumLevels>;

// Makes `dataflow` legal for `layer` on `arch`; a legal dataflow comes back unchanged. Orders
// must already be permutations.
//  1. Tiles are clamped into 1..parent and fan-outs raised to at least 1.
//  2. While some level overflows its buffer, the innermost such level halves one tile (the tiles
//     inside it shrink to stay nested and, along a spatial dim, to stay one unit's share):
//     preferring tiles whose halving idles no units (too few sub-tiles for a fan-out, or a last
//     round of sub-tiles that leaves units idle), then tiles outside `shrink_last`, then the one
//     that frees the most bytes.
//  3. Fan-outs are clamped to the available sub-tiles, the MAC lanes and the PEs (the L1 fan-out
//     gives way first).
// Throws InputError naming the arch's buffer when even 1-element tiles overflow it.
void repair_dataflow(const Layer& layer, const ArchSpec& arch, Dataflow& dataflow,
                     const ShrinkLast& shrink_last = {});

// What a fixed-dataflow chip keeps from one layer to the next, `shape`'s spatial maps (dims,
// fan-outs, axes) and loop orders, on `layer`, with the tiles its compiler would pick as the
// fixed dataflows pick theirs: as large as nesting allows, each spatial split feeding exactly its
// fan-out, then repaired to fit the buffers. This is how one fixed-dataflow chip design is
// scored over a whole network (`dcp simulate --network --dataflow FILE`, per-network search).
Dataflow fit_structure(const Dataflow& shape, const Layer& layer, const ArchSpec& arch);

}  // namespace dcp
