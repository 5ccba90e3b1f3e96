#include "mapper/dataflow_code.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "common/input_error.hpp"
#include "dataflow/repair.hpp"

namespace dcp {
namespace {

// Chance that random_code unrolls a dim: about two dims per level, so that single-dim maps (the
// paper's), pairs and wider maps are all drawn often.
constexpr double kRandomSpatialChance = 0.3;

float log2_fraction(int64_t part, int64_t whole) {
  return static_cast<float>(std::log2(static_cast<double>(part) / static_cast<double>(whole)));
}

std::string gene_field(int level, const char* gene, Dim dim) {
  return std::string("levels[") + std::to_string(level) + "]." + gene + "." + dim_letter(dim);
}

void require_finite(float value, const std::string& field) {
  if (std::isnan(value)) throw InputError("dataflow code", field, "is NaN", "finite or +-inf");
}

// round(whole * 2^fraction) kept inside 1..whole; +-inf land on the ends of that range.
int64_t scaled_count(int64_t whole, float log2_fraction_value) {
  const double scaled = static_cast<double>(whole) *
                        std::exp2(static_cast<double>(std::min(log2_fraction_value, 0.0f)));
  return std::clamp<int64_t>(std::llround(std::min(scaled, static_cast<double>(whole))), 1, whole);
}

// The fan-outs of `level` from its shares; the tiles of every level must be decoded already
// (sub-tiles bound the fan-outs) and the fan-outs of the levels above it (L1's units are the
// PEs the L2 fan-out leaves each cluster).
void decode_fanouts(const ArchSpec& arch, const LevelCode& genes, int level, Dataflow& dataflow) {
  const int64_t units = units_at_level(arch, dataflow, level);
  std::array<Dim, kNumDims> by_share = kAllDims;
  std::stable_sort(by_share.begin(), by_share.end(), [&](Dim a, Dim b) {
    return genes.spatial_share[dim_index(a)] > genes.spatial_share[dim_index(b)];
  });
  LevelMapping& mapping = dataflow.levels[level];
  int64_t remaining = units;
  for (Dim dim : by_share) {
    const int d = dim_index(dim);
    const int64_t most = std::min(remaining, available_fanout(dataflow, level, dim));
    // scaled_count keeps at least 1 way, and `most` is at least 1 since every tile is.
    mapping.fanout[d] = std::min(scaled_count(units, genes.spatial_share[d]), most);
    remaining /= mapping.fanout[d];
  }
}

}  // namespace

int code_index_spatial_share(int level, Dim dim) {
  return level * kCodeFloatsPerLevel + dim_index(dim) * kCodeFloatsPerGene;
}
int code_index_priority(int level, Dim dim) {
  return code_index_spatial_share(level, dim) + 1;
}
int code_index_tile(int level, Dim dim) {
  return code_index_spatial_share(level, dim) + 2;
}

CodeVector code_to_vector(const DataflowCode& code) {
  CodeVector vector{};
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelCode& genes = code.levels[level];
    for (Dim dim : kAllDims) {
      const int d = dim_index(dim);
      vector[code_index_spatial_share(level, dim)] = genes.spatial_share[d];
      vector[code_index_priority(level, dim)] = genes.order_priority[d];
      vector[code_index_tile(level, dim)] = genes.tile_log2_fraction[d];
    }
  }
  return vector;
}

DataflowCode code_from_vector(const CodeVector& vector) {
  DataflowCode code;
  for (int level = 0; level < kNumLevels; ++level) {
    LevelCode& genes = code.levels[level];
    for (Dim dim : kAllDims) {
      const int d = dim_index(dim);
      genes.spatial_share[d] = vector[code_index_spatial_share(level, dim)];
      genes.order_priority[d] = vector[code_index_priority(level, dim)];
      genes.tile_log2_fraction[d] = vector[code_index_tile(level, dim)];
    }
  }
  return code;
}

DataflowCode encode_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow) {
  DataflowCode code;
  DimArray parent = layer.dims();
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& mapping = dataflow.levels[level];
    LevelCode& genes = code.levels[level];
    const int64_t units = units_at_level(arch, dataflow, level);
    // Outermost loop gets the highest priority, evenly spaced in [0, 1].
    for (int position = 0; position < kNumDims; ++position) {
      genes.order_priority[dim_index(mapping.order[position])] =
          static_cast<float>(kNumDims - 1 - position) / static_cast<float>(kNumDims - 1);
    }
    for (int d = 0; d < kNumDims; ++d) {
      // A dim that is not unrolled gets -log2(units): exactly one way, and as close to being
      // unrolled as a gradient step can bring it.
      genes.spatial_share[d] = log2_fraction(mapping.fanout[d], units);
      genes.tile_log2_fraction[d] = log2_fraction(mapping.tile[d], parent[d]);
    }
    parent = mapping.tile;
  }
  return code;
}

Dataflow decode_dataflow(const Layer& layer, const ArchSpec& arch, const DataflowCode& code) {
  Dataflow dataflow;
  dataflow.name = "decoded";
  DimArray parent = layer.dims();
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelCode& genes = code.levels[level];
    LevelMapping& mapping = dataflow.levels[level];
    for (Dim dim : kAllDims) {
      const int d = dim_index(dim);
      require_finite(genes.spatial_share[d], gene_field(level, "spatial_share", dim));
      require_finite(genes.order_priority[d], gene_field(level, "order_priority", dim));
      require_finite(genes.tile_log2_fraction[d], gene_field(level, "tile", dim));
    }
    mapping.order = kAllDims;
    std::stable_sort(mapping.order.begin(), mapping.order.end(), [&](Dim a, Dim b) {
      return genes.order_priority[dim_index(a)] > genes.order_priority[dim_index(b)];
    });
    for (int d = 0; d < kNumDims; ++d) {
      mapping.tile[d] = scaled_count(parent[d], genes.tile_log2_fraction[d]);
    }
    parent = mapping.tile;
  }
  for (int level = 0; level < kNumLevels; ++level)
    decode_fanouts(arch, code.levels[level], level, dataflow);
  repair_dataflow(layer, arch, dataflow);
  return dataflow;
}

DataflowCode random_code(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::bernoulli_distribution unrolled(kRandomSpatialChance);
  DataflowCode code;
  // The widest each level's units can be (L1: every PE, when the L2 fan-out is 1).
  const int64_t units[kNumLevels] = {arch.num_pes, arch.num_pes, arch.macs_per_pe};
  for (int level = 0; level < kNumLevels; ++level) {
    LevelCode& genes = code.levels[level];
    const float depth = static_cast<float>(std::log2(static_cast<double>(units[level])));
    for (int d = 0; d < kNumDims; ++d) {
      genes.spatial_share[d] = unrolled(rng) ? -unit(rng) * depth : -depth;
      genes.order_priority[d] = unit(rng);
    }
  }
  // Each dim's three nested tiles are three sorted points uniform in log2 over 1..dim, so every
  // nesting is equally likely; drawing each level's fraction independently over the whole range
  // would push almost every inner tile to 1.
  const DimArray dims = layer.dims();
  for (int d = 0; d < kNumDims; ++d) {
    const float depth = static_cast<float>(std::log2(static_cast<double>(dims[d])));
    std::array<float, kNumLevels> log2_tile;
    for (float& point : log2_tile) point = unit(rng) * depth;
    std::sort(log2_tile.begin(), log2_tile.end(), std::greater<float>());
    float log2_parent = depth;
    for (int level = 0; level < kNumLevels; ++level) {
      code.levels[level].tile_log2_fraction[d] = log2_tile[level] - log2_parent;
      log2_parent = log2_tile[level];
    }
  }
  return code;
}

}  // namespace dcp
