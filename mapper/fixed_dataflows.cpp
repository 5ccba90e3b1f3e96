#include "mapper/fixed_dataflows.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "common/input_error.hpp"
#include "mapper/repair.hpp"

namespace dcp {
namespace {

using Order = std::array<Dim, kNumDims>;
// Y, X innermost: a PE's weights stay while the outputs stream past them.
constexpr Order kWeightStationary = {Dim::K, Dim::C, Dim::R, Dim::S, Dim::Y, Dim::X};
// Reductions innermost: a PE's partial sums stay until they are complete.
constexpr Order kOutputStationary = {Dim::K, Dim::Y, Dim::X, Dim::C, Dim::R, Dim::S};
// X innermost: a filter row slides along an input row.
constexpr Order kRowStationary = {Dim::K, Dim::C, Dim::Y, Dim::R, Dim::S, Dim::X};
// Channels outermost: a block of filters and channels is finished before the next is fetched.
constexpr Order kChannelsOuter = {Dim::K, Dim::C, Dim::Y, Dim::X, Dim::R, Dim::S};

constexpr int64_t kUncapped = std::numeric_limits<int64_t>::max();
constexpr int kL1 = 1;
constexpr int kL0 = 2;

// What distinguishes one fixed dataflow. Tiles start as large as nesting allows, with each
// spatial split sized to feed exactly its fan-out, and repair_dataflow shrinks them to fit.
struct Design {
  std::array<Dim, kNumLevels> spatial{};  // L0's is the dim the PE's MAC lanes share
  int64_t clusters = 1;                   // L2 fan-out wanted
  int64_t pes_per_cluster = 1;            // L1 fan-out wanted
  std::array<Order, kNumLevels> order{};
  DimArray l2_tile_cap{kUncapped, kUncapped, kUncapped, kUncapped, kUncapped, kUncapped};
  DimArray l0_tile_cap{kUncapped, kUncapped, kUncapped, kUncapped, kUncapped, kUncapped};
  ShrinkLast shrink_last{};
};

// K over clusters, C over the PEs of a cluster (NVDLA's atomic-K x atomic-C MAC array); with
// few channels the spare PEs become more K clusters.
Design nvdla(const Layer& layer, const ArchSpec& arch) {
  Design design;
  design.spatial = {Dim::K, Dim::C, Dim::K};
  design.pes_per_cluster = std::min(arch.array_rows, layer.C);
  design.clusters = std::min(layer.K, arch.num_pes / design.pes_per_cluster);
  design.order = {kChannelsOuter, kWeightStationary, kWeightStationary};
  return design;
}

// Eyeriss row stationary: a cluster is a column of PEs computing one output row, PE r holding
// filter row r and sliding it along an input row. Clusters take different output rows; a 1x1
// filter has a single row, so its cluster spreads input channels instead.
Design eyeriss_rs(const Layer& layer, const ArchSpec& arch) {
  Design design;
  const Dim within_cluster = layer.R > 1 ? Dim::R : Dim::C;
  design.spatial = {Dim::Y, within_cluster, Dim::K};
  design.pes_per_cluster = std::min(arch.array_rows, layer.dim(within_cluster));
  design.clusters = std::min(layer.Y, arch.num_pes / design.pes_per_cluster);
  design.order = {kChannelsOuter, kChannelsOuter, kRowStationary};
  design.l0_tile_cap[dim_index(Dim::Y)] = 1;
  design.l0_tile_cap[dim_index(Dim::R)] = 1;
  design.shrink_last[kL0][dim_index(Dim::S)] = true;
  return design;
}

// ShiDianNao output stationary: every PE owns output pixels, rows over clusters and columns
// over the PEs of a cluster, and accumulates them over C, R, S before moving on. A gemm has a
// single column, so its PEs own output channels instead.
Design shidiannao(const Layer& layer, const ArchSpec& arch) {
  Design design;
  const Dim within_cluster = layer.X > 1 ? Dim::X : Dim::K;
  design.spatial = {Dim::Y, within_cluster, Dim::K};
  design.pes_per_cluster = std::min(arch.array_cols, layer.dim(within_cluster));
  design.clusters = std::min(layer.Y, arch.num_pes / design.pes_per_cluster);
  design.order = {kOutputStationary, kOutputStationary, kOutputStationary};
  return design;
}

// TPU weight stationary: input channels down the rows, filters across the columns of the
// systolic array, each cell holding its weights while every output pixel streams through. The
// array shape is physical here, so the fan-outs never exceed rows and columns.
Design tpu_ws(const Layer& layer, const ArchSpec& arch) {
  Design design;
  design.spatial = {Dim::C, Dim::K, Dim::X};
  design.clusters = std::min(arch.array_rows, layer.C);
  design.pes_per_cluster = std::min(arch.array_cols, layer.K);
  design.order = {kWeightStationary, kWeightStationary, kWeightStationary};
  design.shrink_last[kL1][dim_index(Dim::Y)] = true;
  design.shrink_last[kL1][dim_index(Dim::X)] = true;
  // One fold of weights per global-buffer tile, so the next fold's data streams in from DRAM
  // while this one computes instead of the whole layer arriving before the first MAC.
  design.l2_tile_cap[dim_index(Dim::C)] = design.clusters;
  design.l2_tile_cap[dim_index(Dim::K)] = design.pes_per_cluster;
  return design;
}

Dataflow build(const std::string& name, const Design& design, const Layer& layer,
               const ArchSpec& arch) {
  Dataflow dataflow;
  dataflow.name = name;
  const std::array<int64_t, kNumLevels> fanouts = {design.clusters, design.pes_per_cluster,
                                                   arch.macs_per_pe};
  DimArray tile = layer.dims();
  for (int d = 0; d < kNumDims; ++d) tile[d] = std::min(tile[d], design.l2_tile_cap[d]);
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    mapping.spatial_dim = design.spatial[level];
    mapping.order = design.order[level];
    mapping.fanout = fanouts[level];
    mapping.tile = tile;
    // The next level's tile along the spatial dim is one unit's share of this one.
    const int s = dim_index(mapping.spatial_dim);
    tile[s] = (tile[s] + mapping.fanout - 1) / mapping.fanout;
  }
  DimArray& l0_tile = dataflow.levels[kL0].tile;
  for (int d = 0; d < kNumDims; ++d) l0_tile[d] = std::min(l0_tile[d], design.l0_tile_cap[d]);
  repair_dataflow(layer, arch, dataflow, design.shrink_last);
  return dataflow;
}

using DesignFunction = Design (*)(const Layer&, const ArchSpec&);

struct FixedDataflow {
  const char* name;
  DesignFunction design;
};

constexpr std::array<FixedDataflow, 4> kFixedDataflows = {{
    {"nvdla", nvdla},
    {"eyeriss-rs", eyeriss_rs},
    {"shidiannao", shidiannao},
    {"tpu-ws", tpu_ws},
}};

}  // namespace

const std::vector<std::string>& fixed_dataflow_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const FixedDataflow& fixed : kFixedDataflows) list.push_back(fixed.name);
    return list;
  }();
  return names;
}

bool is_fixed_dataflow_name(const std::string& name) {
  const std::vector<std::string>& names = fixed_dataflow_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

Dataflow make_fixed_dataflow(const std::string& name, const Layer& layer, const ArchSpec& arch) {
  for (const FixedDataflow& fixed : kFixedDataflows) {
    if (name == fixed.name) return build(name, fixed.design(layer, arch), layer, arch);
  }
  std::string allowed;
  for (const std::string& known : fixed_dataflow_names()) {
    allowed += (allowed.empty() ? "" : ", ") + known;
  }
  throw InputError("--dataflow", "", "unknown fixed dataflow '" + name + "'", allowed);
}

}  // namespace dcp
