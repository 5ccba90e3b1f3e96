#include "dataflow/repair.hpp"

#include <algorithm>
#include <string>
#include <tuple>

#include "common/input_error.hpp"
#include "common/saturating.hpp"

namespace dcp {
namespace {

// A halving that costs less than this share of the spatial efficiency counts as idling no
// units. Splits rarely divide evenly, so most halvings along a spatial dim shift the efficiency
// a little; refusing all of them would shrink every reuse dim to 1 first and end up worse.
constexpr double kEfficiencyTolerance = 0.1;

const char* buffer_field(int level) {
  static const char* const kFields[kNumLevels] = {"buffers.l2_bytes", "buffers.l1_bytes",
                                                  "buffers.l0_bytes"};
  return kFields[level];
}

// Keeps every tile inside its parent (the layer for L2), from the outermost level in.
void clamp_tiles(const Layer& layer, Dataflow& dataflow) {
  for (int level = 0; level < kNumLevels; ++level) {
    const DimArray parent = level == 0 ? layer.dims() : dataflow.levels[level - 1].tile;
    for (int d = 0; d < kNumDims; ++d) {
      dataflow.levels[level].tile[d] =
          std::clamp<int64_t>(dataflow.levels[level].tile[d], 1, parent[d]);
    }
  }
}

// Halves one tile. The tiles inside it shrink to stay nested and, along a spatial dim, to stay
// one unit's share, so that a fan-out keeps its sub-tiles when its parent tile shrinks.
void halve_tile(Dataflow& dataflow, int level, int d) {
  int64_t& tile = dataflow.levels[level].tile[d];
  tile = (tile + 1) / 2;
  for (int inner = level + 1; inner < kNumLevels; ++inner) {
    const LevelMapping& parent = dataflow.levels[inner - 1];
    const int64_t ways = parent.fanout[d];
    const int64_t limit = parent.tile[d] / ways + (parent.tile[d] % ways != 0 ? 1 : 0);
    dataflow.levels[inner].tile[d] = std::min(dataflow.levels[inner].tile[d], limit);
  }
}

int innermost_overflowing_level(const Layer& layer, const ArchSpec& arch,
                                const Dataflow& dataflow) {
  for (int level = kNumLevels - 1; level >= 0; --level) {
    if (overflow_bytes(layer, arch, dataflow, level) > 0) return level;
  }
  return -1;
}

// Share of unit-steps doing work along the spatial dims, over all levels. A split into fewer
// sub-tiles than units idles units; a split whose sub-tiles don't fill the last round of units
// idles them in that round (64 channels over 12 PEs in tiles of 6: one round, 64 / 72 busy).
double spatial_efficiency(const Dataflow& dataflow) {
  double efficiency = 1;
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& mapping = dataflow.levels[level];
    for (Dim dim : mapping.spatial_dims()) {
      const int d = dim_index(dim);
      const int64_t ways = mapping.fanout[d];
      const int64_t child_tile = level == kNumLevels - 1 ? 1 : dataflow.levels[level + 1].tile[d];
      const int64_t sub_tiles = available_fanout(dataflow, level, dim);
      const int64_t rounds = sub_tiles / ways + (sub_tiles % ways != 0 ? 1 : 0);
      efficiency *= static_cast<double>(mapping.tile[d]) /
                    (static_cast<double>(rounds) * static_cast<double>(ways) *
                     static_cast<double>(child_tile));
    }
  }
  return efficiency;
}

// Sets every L0 tile an L1-bypassing operand depends on to a PE's share of the L1 tile.
void tie_to_l1_shares(const Layer& layer, const ArchSpec& arch, Dataflow& dataflow) {
  for (Dim dim : kAllDims) {
    const int d = dim_index(dim);
    if (tied_to_l1_share(layer, arch, dim))
      dataflow.levels[kNumLevels - 1].tile[d] = l1_bypass_share(dataflow, d);
  }
}

// Halves the tile at `level` that best relieves its buffer; false if every tile there is 1.
bool halve_best_tile(const Layer& layer, const ArchSpec& arch, const ShrinkLast& shrink_last,
                     int level, Dataflow& dataflow) {
  // Lexicographic: avoid idling units, then avoid shrink_last tiles, then relieve the overflow
  // most (a scratchpad that overflows is only relieved by its own tensor's dims), then free the
  // most bytes, then prefer the larger tile.
  using Rank = std::tuple<bool, bool, int64_t, int64_t, int64_t>;
  const double tolerable_efficiency = spatial_efficiency(dataflow) * (1 - kEfficiencyTolerance);
  bool found = false;
  Rank best_rank{};
  Dataflow best;
  for (int d = 0; d < kNumDims; ++d) {
    const int64_t tile = dataflow.levels[level].tile[d];
    if (tile <= 1) continue;
    Dataflow candidate = dataflow;
    // An L0 tile tied to its L1 share shrinks with that share, so the L1 tile halves instead.
    const bool tied = level == kNumLevels - 1 && tied_to_l1_share(layer, arch, kAllDims[d]);
    if (tied && dataflow.levels[level - 1].tile[d] <= 1) continue;
    halve_tile(candidate, tied ? level - 1 : level, d);
    const Rank rank{spatial_efficiency(candidate) < tolerable_efficiency, shrink_last[level][d],
                    overflow_bytes(layer, arch, candidate, level),
                    footprint_bytes(layer, arch, candidate, level), -tile};
    if (!found || rank < best_rank) {
      found = true;
      best_rank = rank;
      best = candidate;
    }
  }
  if (found) dataflow = best;
  return found;
}

// Lowers the largest fan-outs of `mapping` until their product is at most `limit`.
void fit_units(LevelMapping& mapping, int64_t limit) {
  while (mapping.units() > limit) {
    const int d = dim_index(mapping.main_spatial_dim());
    // Scaling the largest factor by limit / product fits in one step unless it reaches 1.
    mapping.fanout[d] = std::max<int64_t>(
        1, static_cast<int64_t>(static_cast<double>(mapping.fanout[d]) *
                                static_cast<double>(limit) / static_cast<double>(mapping.units())));
  }
}

// Where the dataflow binds rows or columns, lowers the largest fan-out on an axis until what the
// L2 and L1 maps put on it fits the array.
void fit_array_axes(const ArchSpec& arch, Dataflow& dataflow) {
  if (!binds_array_axes(dataflow)) return;
  for (const Axis axis : {Axis::Rows, Axis::Cols}) {
    const int64_t size = axis == Axis::Rows ? arch.array_rows : arch.array_cols;
    for (int64_t used = array_units_on(dataflow, axis); used > size;
         used = array_units_on(dataflow, axis)) {
      int64_t* largest = nullptr;
      for (int level = 0; level < kNumLevels - 1; ++level) {
        LevelMapping& mapping = dataflow.levels[level];
        for (Dim dim : kAllDims) {
          int64_t& ways = mapping.fanout[dim_index(dim)];
          if (mapping.resolved_axis(level, dim) == axis && (!largest || ways > *largest))
            largest = &ways;
        }
      }
      *largest = std::max<int64_t>(1, *largest * size / used);
    }
  }
}

void clamp_fanouts(const ArchSpec& arch, Dataflow& dataflow) {
  // Outermost first: the PEs of one cluster depend on the (clamped) cluster count.
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    for (Dim dim : kAllDims) {
      int64_t& ways = mapping.fanout[dim_index(dim)];
      ways = std::clamp<int64_t>(ways, 1, available_fanout(dataflow, level, dim));
      if (ways == 1) mapping.axis[dim_index(dim)] = Axis::Any;
    }
    fit_units(mapping, units_at_level(arch, dataflow, level));
  }
  fit_array_axes(arch, dataflow);
}

void fit_buffers(const Layer& layer, const ArchSpec& arch, const ShrinkLast& shrink_last,
                 Dataflow& dataflow) {
  // Every pass halves a tile above 1 and nothing ever grows, so this ends.
  for (int level = innermost_overflowing_level(layer, arch, dataflow); level >= 0;
       level = innermost_overflowing_level(layer, arch, dataflow)) {
    if (!halve_best_tile(layer, arch, shrink_last, level, dataflow)) {
      const int64_t needed =
          level_capacity_bytes(arch, level) + overflow_bytes(layer, arch, dataflow, level);
      throw InputError(arch.source.empty() ? arch.name : arch.source, buffer_field(level),
                       std::to_string(level_capacity_bytes(arch, level)) +
                           " B is too small: layer '" + layer.name + "' needs " +
                           std::to_string(needed) + " B at " + level_name(level) +
                           " even with 1-element tiles",
                       ">= " + std::to_string(needed));
    }
  }
}

}  // namespace

void repair_dataflow(const Layer& layer, const ArchSpec& arch, Dataflow& dataflow,
                     const ShrinkLast& shrink_last) {
  clamp_tiles(layer, dataflow);
  for (LevelMapping& mapping : dataflow.levels) {
    for (int64_t& ways : mapping.fanout) ways = std::max<int64_t>(1, ways);
  }

  // Lowering fan-outs grows the L0 tiles tied to L1 shares, which may overflow L0 again; fan-outs
  // only ever fall, so the passes end. Without an L1 bypass nothing is tied and one pass fits
  // (repair runs for every dataflow a search draws, so it does not copy and compare then).
  const bool tied = arch.l1_bypass != TensorFlags{};
  Dataflow before_pass;
  do {
    if (tied) before_pass = dataflow;
    tie_to_l1_shares(layer, arch, dataflow);
    fit_buffers(layer, arch, shrink_last, dataflow);
    clamp_fanouts(arch, dataflow);
  } while (tied && !(dataflow == before_pass));
}

Dataflow fit_structure(const Dataflow& shape, const Layer& layer, const ArchSpec& arch) {
  Dataflow fitted = shape;
  DimArray tile = layer.dims();
  for (LevelMapping& mapping : fitted.levels) {
    mapping.tile = tile;
    for (int d = 0; d < kNumDims; ++d) {
      mapping.fanout[d] = std::clamp<int64_t>(mapping.fanout[d], 1, tile[d]);
      if (mapping.fanout[d] == 1) mapping.axis[d] = Axis::Any;
      tile[d] = ceil_div(tile[d], mapping.fanout[d]);
    }
  }
  repair_dataflow(layer, arch, fitted);
  return fitted;
}

}  // namespace dcp
