#include "dataflow/random_dataflow.hpp"

#include <algorithm>
#include <cmath>

#include "dataflow/repair.hpp"

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
  // Fan-outs come first, within the PEs left and the lanes, so that dataflows using most of the
  // array are as likely as ones using a few PEs. A level unrolls one dim half the time and two
  // or three otherwise, as Timeloop's spatial factors and the classic arrays do (C x R x S rows).
  std::discrete_distribution<int> spatial_dim_count({0, 50, 35, 15});
  int64_t pes_left = arch.num_pes;
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    std::array<Dim, kNumDims> dims = kAllDims;
    std::shuffle(dims.begin(), dims.end(), rng);
    std::shuffle(mapping.order.begin(), mapping.order.end(), rng);
    const bool lanes = level == kNumLevels - 1;
    int64_t units_left = lanes ? arch.macs_per_pe : pes_left;
    const int count = spatial_dim_count(rng);
    for (int i = 0; i < count; ++i) {
      int64_t& ways = mapping.fanout[dim_index(dims[i])];
      ways = log_uniform(1, units_left, rng);
      units_left /= ways;
    }
    if (!lanes) pes_left /= mapping.units();
  }
  // Tiles nest, and along each spatial dim a tile holds at least one element per unit below it
  // while the tile inside it is at most one unit's share, so every fan-out has its sub-tiles.
  DimArray parent = layer.dims();
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    for (int d = 0; d < kNumDims; ++d) {
      int64_t high = parent[d];
      if (level > 0) {
        const int64_t parent_fanout = dataflow.levels[level - 1].fanout[d];
        high = (high + parent_fanout - 1) / parent_fanout;
      }
      mapping.tile[d] = log_uniform(std::min(high, mapping.fanout[d]), high, rng);
    }
    parent = mapping.tile;
  }
  repair_dataflow(layer, arch, dataflow);
  return dataflow;
}

}  // namespace dcp
