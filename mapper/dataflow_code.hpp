#pragma once
// The dataflow code DCP optimises: a continuous relaxation of a Dataflow, laid out as 3 levels
// (L2, L1, L0) x 7 genes. Gene 0 holds the parallel dim and the fan-out; genes 1-6 hold, for
// dims K, C, Y, X, R, S, an order priority and a tile size. The parallel dim is 6 logits rather
// than one number, so that a gradient step moves probability between dims instead of walking
// through an arbitrary dim numbering; a level is therefore 6 + 1 + 6 x 2 = 19 floats.
//   parallel logits: the argmax is the spatial dim.
//   fan-out: log2 of the fraction of the units available at this level (L2: all PEs, L1: the
//            PEs of one cluster, L0: the MAC lanes); 0 uses them all.
//   priority: higher runs further out in the loop order (ties: K before C before ...).
//   tile: log2 of the fraction of the parent tile (L2: of the layer dim), so tiles always nest;
//         0 is the whole parent tile.
#include <array>
#include <random>

#include "arch/arch_spec.hpp"
#include "sim/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

constexpr int kCodeGenesPerLevel = 7;
constexpr int kCodeFloatsPerLevel = kNumDims + 1 + 2 * kNumDims;  // 19
constexpr int kCodeSize = kNumLevels * kCodeFloatsPerLevel;       // 57
// What encode writes for the dims that are not parallel: softmax gives the chosen dim ~0.99.
constexpr float kParallelLogitMargin = 6.0f;

struct LevelCode {
  std::array<float, kNumDims> parallel_logit{};
  float fanout_log2_fraction = 0;
  std::array<float, kNumDims> order_priority{};
  std::array<float, kNumDims> tile_log2_fraction{};
};

struct DataflowCode {
  std::array<LevelCode, kNumLevels> levels;
};

// Flat layout, level-major: [logits x6, fan-out, (priority, tile) for K, C, Y, X, R, S].
using CodeVector = std::array<float, kCodeSize>;
int code_index_parallel_logit(int level, Dim dim);
int code_index_fanout(int level);
int code_index_priority(int level, Dim dim);
int code_index_tile(int level, Dim dim);
CodeVector code_to_vector(const DataflowCode& code);
DataflowCode code_from_vector(const CodeVector& vector);

// Exact for any legal dataflow: decode_dataflow(encode_dataflow(d)) == d (name aside).
DataflowCode encode_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow);
// Rounds every gene to legal integers (tiles inside their parent, fan-outs inside the units) and
// repairs buffer overflow with repair_dataflow, so the result is always legal. Infinities clamp
// to the nearest end of their range; a NaN gene throws InputError naming it.
Dataflow decode_dataflow(const Layer& layer, const ArchSpec& arch, const DataflowCode& code);
// A code drawn uniformly over the code space: parallel dim and order uniform, fan-out and tile
// fractions uniform in log2 over their whole range. Decode it to get a legal dataflow.
DataflowCode random_code(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng);

}  // namespace dcp
