#pragma once
// The dataflow code DCP optimises: a continuous relaxation of a Dataflow, laid out as 3 levels
// (L2, L1, L0) x 7 genes, one per dim K, C, Y, X, R, S, N, each of 3 floats: a spatial share,
// an order priority and a tile size (the paper's (3, 7, 2) code with its parallel-dim gene
// spread over the dims, so that a level may unroll several dims at once).
//   spatial share: log2 of the fraction of the level's units (L2: all PEs, L1: the PEs of one
//                  cluster, L0: the MAC lanes) given to this dim; 0 asks for all of them,
//                  -log2(units) or below for none (the dim is not unrolled). Decoding serves
//                  the dims in descending share, each from the units the earlier ones left, so
//                  the fan-outs' product never exceeds the units.
//   priority: higher runs further out in the loop order (ties: K before C before ...).
//   tile: log2 of the fraction of the parent tile (L2: of the layer dim), so tiles always nest;
//         0 is the whole parent tile.
// The paper's one-parallel-dim code is the special case of one share above -log2(units).
#include <array>
#include <random>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

constexpr int kCodeGenesPerLevel = kNumDims;  // one per dim
constexpr int kCodeFloatsPerGene = 3;         // share, priority, tile
constexpr int kCodeFloatsPerLevel = kCodeGenesPerLevel * kCodeFloatsPerGene;  // 21
constexpr int kCodeSize = kNumLevels * kCodeFloatsPerLevel;                   // 63

struct LevelCode {
  std::array<float, kNumDims> spatial_share{};
  std::array<float, kNumDims> order_priority{};
  std::array<float, kNumDims> tile_log2_fraction{};
};

struct DataflowCode {
  std::array<LevelCode, kNumLevels> levels;
};

// Flat layout, level-major, then dim-major: [(share, priority, tile) for K, C, Y, X, R, S, N].
using CodeVector = std::array<float, kCodeSize>;
int code_index_spatial_share(int level, Dim dim);
int code_index_priority(int level, Dim dim);
int code_index_tile(int level, Dim dim);
CodeVector code_to_vector(const DataflowCode& code);
DataflowCode code_from_vector(const CodeVector& vector);

// Exact for any legal dataflow without array-axis bindings (the code has none; decoding leaves
// every axis Any): decode_dataflow(encode_dataflow(d)) == d (name aside).
DataflowCode encode_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow);
// Rounds every gene to legal integers (tiles inside their parent first, then per level the
// fan-outs: dims in descending share take round(units * 2^share), at least 1 and at most the
// units the earlier dims left and the sub-tiles along the dim) and repairs buffer overflow with
// repair_dataflow, so the result is always legal. Infinities clamp to the nearest end of their
// range; a NaN gene throws InputError naming it.
Dataflow decode_dataflow(const Layer& layer, const ArchSpec& arch, const DataflowCode& code);
// A code drawn uniformly over the code space: each dim unrolled with a fixed chance, its share
// then uniform in log2 over the level's whole range (else -log2(units): not unrolled); order
// uniform; tile fractions uniform in log2 over their whole range. Decode it to get a legal
// dataflow.
DataflowCode random_code(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng);

}  // namespace dcp
