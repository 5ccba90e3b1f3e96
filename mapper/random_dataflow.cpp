#include "mapper/random_dataflow.hpp"

#include <algorithm>
#include <cmath>

#include "mapper/repair.hpp"

namespace dcp {

int64_t log_uniform(int64_t low, int64_t high, std::mt19937_64& rng) {
  if (high <= low) return low;
  std::uniform_real_distribution<double> exponent(std::log(static_cast<double>(low)),
                                                  std::log(static_cast<double>(high) + 1));
  return std::clamp<int64_t>(static_cast<int64_t>(std::exp(exponent(rng))), low, high);
}

Dataflow random_legal_dataflow(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng) {
  Dataflow dataflow;
  dataflow.name = "random";
  std::uniform_int_distribution<int> pick_dim(0, kNumDims - 1);
  // Fan-outs come first, within the PEs left and the lanes, so that dataflows using most of the
  // array are as likely as ones using a few PEs.
  int64_t pes_left = arch.num_pes;
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    mapping.spatial_dim = static_cast<Dim>(pick_dim(rng));
    std::shuffle(mapping.order.begin(), mapping.order.end(), rng);
    const bool lanes = level == kNumLevels - 1;
    mapping.fanout = log_uniform(1, lanes ? arch.macs_per_pe : pes_left, rng);
    if (!lanes) pes_left /= mapping.fanout;
  }
  // Tiles nest, and along each spatial dim a tile holds at least one element per unit below it
  // while the tile inside it is at most one unit's share, so every fan-out has its sub-tiles.
  DimArray parent = layer.dims();
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    for (int d = 0; d < kNumDims; ++d) {
      int64_t high = parent[d];
      if (level > 0 && dim_index(dataflow.levels[level - 1].spatial_dim) == d) {
        const int64_t parent_fanout = dataflow.levels[level - 1].fanout;
        high = (high + parent_fanout - 1) / parent_fanout;
      }
      const int64_t low = dim_index(mapping.spatial_dim) == d ? std::min(high, mapping.fanout) : 1;
      mapping.tile[d] = log_uniform(low, high, rng);
    }
    parent = mapping.tile;
  }
  repair_dataflow(layer, arch, dataflow);
  return dataflow;
}

}  // namespace dcp
