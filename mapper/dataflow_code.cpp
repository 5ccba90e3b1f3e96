#include "mapper/dataflow_code.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "common/input_error.hpp"
#include "mapper/repair.hpp"

namespace dcp {
namespace {

// Units a level's fan-out shares out: the PEs (L2), one cluster's PEs (L1), the MAC lanes (L0).
int64_t units_available(const ArchSpec& arch, const Dataflow& dataflow, int level) {
  if (level == 0) return arch.num_pes;
  if (level == 1) return std::max<int64_t>(1, arch.num_pes / dataflow.levels[0].fanout);
  return arch.macs_per_pe;
}

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

}  // namespace

int code_index_parallel_logit(int level, Dim dim) {
  return level * kCodeFloatsPerLevel + dim_index(dim);
}
int code_index_fanout(int level) {
  return level * kCodeFloatsPerLevel + kNumDims;
}
int code_index_priority(int level, Dim dim) {
  return level * kCodeFloatsPerLevel + kNumDims + 1 + 2 * dim_index(dim);
}
int code_index_tile(int level, Dim dim) {
  return code_index_priority(level, dim) + 1;
}

CodeVector code_to_vector(const DataflowCode& code) {
  CodeVector vector{};
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelCode& genes = code.levels[level];
    vector[code_index_fanout(level)] = genes.fanout_log2_fraction;
    for (Dim dim : kAllDims) {
      const int d = dim_index(dim);
      vector[code_index_parallel_logit(level, dim)] = genes.parallel_logit[d];
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
    genes.fanout_log2_fraction = vector[code_index_fanout(level)];
    for (Dim dim : kAllDims) {
      const int d = dim_index(dim);
      genes.parallel_logit[d] = vector[code_index_parallel_logit(level, dim)];
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
    genes.parallel_logit.fill(-kParallelLogitMargin);
    genes.parallel_logit[dim_index(mapping.spatial_dim)] = 0;
    genes.fanout_log2_fraction =
        log2_fraction(mapping.fanout, units_available(arch, dataflow, level));
    // Outermost loop gets the highest priority, evenly spaced in [0, 1].
    for (int position = 0; position < kNumDims; ++position) {
      genes.order_priority[dim_index(mapping.order[position])] =
          static_cast<float>(kNumDims - 1 - position) / static_cast<float>(kNumDims - 1);
    }
    for (int d = 0; d < kNumDims; ++d) {
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
      require_finite(genes.parallel_logit[d], gene_field(level, "parallel_logit", dim));
      require_finite(genes.order_priority[d], gene_field(level, "order_priority", dim));
      require_finite(genes.tile_log2_fraction[d], gene_field(level, "tile", dim));
    }
    require_finite(genes.fanout_log2_fraction,
                   "levels[" + std::to_string(level) + "].fanout_log2_fraction");

    const auto& logits = genes.parallel_logit;
    mapping.spatial_dim =
        static_cast<Dim>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    mapping.order = kAllDims;
    std::stable_sort(mapping.order.begin(), mapping.order.end(), [&](Dim a, Dim b) {
      return genes.order_priority[dim_index(a)] > genes.order_priority[dim_index(b)];
    });
    mapping.fanout =
        scaled_count(units_available(arch, dataflow, level), genes.fanout_log2_fraction);
    for (int d = 0; d < kNumDims; ++d) {
      mapping.tile[d] = scaled_count(parent[d], genes.tile_log2_fraction[d]);
    }
    parent = mapping.tile;
  }
  repair_dataflow(layer, arch, dataflow);
  return dataflow;
}

DataflowCode random_code(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick_dim(0, kNumDims - 1);
  DataflowCode code;
  const int64_t units[kNumLevels] = {arch.num_pes, arch.num_pes, arch.macs_per_pe};
  for (int level = 0; level < kNumLevels; ++level) {
    LevelCode& genes = code.levels[level];
    genes.parallel_logit.fill(-kParallelLogitMargin);
    genes.parallel_logit[pick_dim(rng)] = 0;
    genes.fanout_log2_fraction =
        -unit(rng) * static_cast<float>(std::log2(static_cast<double>(units[level])));
    for (int d = 0; d < kNumDims; ++d) genes.order_priority[d] = unit(rng);
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
