#include "dataflow/fixed_dataflows.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>
#include <vector>

#include "common/input_error.hpp"
#include "common/saturating.hpp"
#include "dataflow/repair.hpp"

namespace dcp {
namespace {

using Order = std::array<Dim, kNumDims>;
// Y, X (and the batch) innermost: a PE's weights stay while the outputs stream past them.
constexpr Order kWeightStationary = {Dim::K, Dim::C, Dim::R, Dim::S, Dim::N, Dim::Y, Dim::X};
// Reductions innermost: a PE's partial sums stay until they are complete.
constexpr Order kOutputStationary = {Dim::K, Dim::N, Dim::Y, Dim::X, Dim::C, Dim::R, Dim::S};
// X innermost: a filter row slides along an input row.
constexpr Order kRowStationary = {Dim::K, Dim::C, Dim::N, Dim::Y, Dim::R, Dim::S, Dim::X};
// Channels outermost: a block of filters and channels is finished, over the whole batch, before
// the next is fetched, so weights are read once per batch.
constexpr Order kChannelsOuter = {Dim::K, Dim::C, Dim::N, Dim::Y, Dim::X, Dim::R, Dim::S};
// Every reduction dim outside the pixels: when a filter is split over several steps (a row too
// long for a PE's spads, or more rows than the array has), each part meets every output pixel
// before the next part's weights come in; the partial sums wait in the buffer between parts, as
// they do between channel blocks.
constexpr Order kReductionsOuter = {Dim::K, Dim::C, Dim::R, Dim::S, Dim::N, Dim::Y, Dim::X};

constexpr int64_t kUncapped = std::numeric_limits<int64_t>::max();
constexpr DimArray kNoCap = {kUncapped, kUncapped, kUncapped, kUncapped,
                             kUncapped, kUncapped, kUncapped};
constexpr int kL2 = 0;
constexpr int kL1 = 1;
constexpr int kL0 = 2;

// What distinguishes one fixed dataflow. Tiles start as large as nesting allows, with each
// spatial split sized to feed exactly its fan-out, and repair_dataflow shrinks them to fit.
struct Design {
  std::array<DimArray, kNumLevels> fanout = {kUnitDims, kUnitDims, kUnitDims};
  // The physical axis of each level's spatial map (L2 and L1; L0 is a PE's MAC lanes).
  std::array<Axis, 2> axis = {Axis::Any, Axis::Any};
  std::array<Order, kNumLevels> order{};
  std::array<DimArray, kNumLevels> tile_cap = {kNoCap, kNoCap, kNoCap};
  ShrinkLast shrink_last{};

  // Unrolls `dim` at `level` over as many of `units` as it has elements; returns the units left
  // for the next dim.
  int64_t unroll(int level, const Layer& layer, Dim dim, int64_t units) {
    const int64_t ways = std::max<int64_t>(1, std::min(layer.dim(dim), units));
    fanout[level][dim_index(dim)] *= ways;
    return units / ways;
  }
};

// Share of `units` doing work when `dims` of `layer` are unrolled `ways` each: rounds of a dim
// that do not divide evenly idle units in their last round.
double fold_efficiency(const Layer& layer, const std::vector<std::pair<Dim, int64_t>>& unrolled,
                       int64_t units) {
  double efficiency = 1;
  int64_t used = 1;
  for (const auto& [dim, ways] : unrolled) {
    const int64_t extent = layer.dim(dim);
    const int64_t rounds = (extent + ways - 1) / ways;
    efficiency *= static_cast<double>(extent) / static_cast<double>(rounds * ways);
    used *= ways;
  }
  return efficiency * static_cast<double>(used) / static_cast<double>(units);
}

// The split of `units` over three dims that keeps the most of them busy over the whole layer
// (e.g. C x R x S flattened onto a systolic array's rows, im2col-style).
std::array<int64_t, 3> best_fold(const Layer& layer, const std::array<Dim, 3>& dims,
                                 int64_t units) {
  std::array<int64_t, 3> best = {1, 1, 1};
  double best_efficiency = -1;
  const int64_t limit_a = std::min(layer.dim(dims[0]), units);
  for (int64_t a = 1; a <= limit_a; ++a) {
    const int64_t limit_b = std::min(layer.dim(dims[1]), units / a);
    for (int64_t b = 1; b <= limit_b; ++b) {
      const int64_t limit_c = std::min(layer.dim(dims[2]), units / (a * b));
      for (int64_t c = 1; c <= limit_c; ++c) {
        const double efficiency =
            fold_efficiency(layer, {{dims[0], a}, {dims[1], b}, {dims[2], c}}, units);
        // On a tie, the fold that puts more units to work (fewer idle in every round).
        const bool better =
            efficiency > best_efficiency + 1e-9 ||
            (efficiency > best_efficiency - 1e-9 && a * b * c > best[0] * best[1] * best[2]);
        if (better) {
          best_efficiency = efficiency;
          best = {a, b, c};
        }
      }
    }
  }
  return best;
}

// NVDLA direct convolution (NVDLA hardware architecture guide, "Convolution core"): an atomic
// operation multiplies atomic-C input channels by atomic-K kernels at once. K over clusters
// (MAC cells), C over the PEs of a cluster (a cell's multipliers); with few channels the spare
// PEs become more K clusters.
Design nvdla(const Layer& layer, const ArchSpec& arch) {
  Design design;
  const int64_t pes_per_cluster = std::min(arch.array_rows, layer.C);
  design.fanout[kL1][dim_index(Dim::C)] = pes_per_cluster;
  design.unroll(kL2, layer, Dim::K, arch.num_pes / pes_per_cluster);
  design.unroll(kL0, layer, Dim::K, arch.macs_per_pe);
  design.order = {kChannelsOuter, kWeightStationary, kWeightStationary};
  return design;
}

// Whether a `level` tile of `tile` fits that level's buffer (each scratchpad of a split L0), its
// K range starting at a multiple of its size, as the fixed dataflows' tiles do when their sizes
// nest evenly (repair_dataflow checks the dataflow they end up with).
bool fits_buffer(const Layer& layer, const ArchSpec& arch, int level, const DimArray& tile) {
  Dataflow probe;
  for (int enclosing = 0; enclosing <= level; ++enclosing) probe.levels[enclosing].tile = tile;
  return overflow_bytes(layer, arch, probe, level) == 0;
}

// Sizes to try for a tile that holds whole multiples of `unit` up to `extent`: the powers of two
// times `unit`, and the whole extent.
std::vector<int64_t> pass_sizes(int64_t unit, int64_t extent) {
  std::vector<int64_t> sizes;
  for (int64_t multiple = 1; unit * multiple < extent; multiple *= 2)
    sizes.push_back(unit * multiple);
  sizes.push_back(extent);
  return sizes;
}

// The global buffer's pass, as Eyeriss's mapper picks one (Chen et al., ISCA 2016, Sec. V): of
// the L2 tiles that hold whole PE-array rounds (`round`) and fit the buffer, the one and the
// order of the passes over the layer that move the fewest DRAM words, then the fewest passes.
std::pair<DimArray, Order> least_traffic_pass(const Layer& layer, const ArchSpec& arch,
                                              const DimArray& round) {
  const auto sizes = [&](Dim dim) {
    std::vector<int64_t> sizes =
        pass_sizes(std::min(round[dim_index(dim)], layer.dim(dim)), layer.dim(dim));
    // A grouped layer's filters also come in whole groups, so that each pass reads the channels
    // of the groups it needs and no others.
    const int64_t group_size = layer.output_channels_per_group();
    if (dim == Dim::K && layer.groups > 1 && group_size >= round[dim_index(Dim::K)])
      for (int64_t groups = 1; group_size * groups < layer.K; groups *= 2)
        sizes.push_back(group_size * groups);
    return sizes;
  };
  std::array<Dim, 4> outer = {Dim::K, Dim::C, Dim::Y, Dim::N};
  std::sort(outer.begin(), outer.end());
  DimArray best_pass = round;
  Order best_order = kChannelsOuter;
  double best_words = std::numeric_limits<double>::infinity();
  int64_t best_passes = 0;
  for (int64_t k : sizes(Dim::K))
    for (int64_t c : sizes(Dim::C))
      for (int64_t y : sizes(Dim::Y))
        for (int64_t n : sizes(Dim::N)) {
          const DimArray pass = {k, c, y, layer.X, layer.R, layer.S, n};
          if (!fits_buffer(layer, arch, kL2, pass)) continue;
          int64_t passes = 1;
          for (Dim dim : outer) passes *= ceil_div(layer.dim(dim), pass[dim_index(dim)]);
          std::array<Dim, 4> permutation = outer;
          do {
            const Order order = {permutation[0], permutation[1], permutation[2], permutation[3],
                                 Dim::X,         Dim::R,         Dim::S};
            const double words = pass_dram_words(layer, arch, pass, order, round);
            if (words < best_words || (words == best_words && passes < best_passes)) {
              best_words = words;
              best_passes = passes;
              best_pass = pass;
              best_order = order;
            }
          } while (std::next_permutation(permutation.begin(), permutation.end()));
        }
  return {best_pass, best_order};
}

// Eyeriss row stationary (Chen et al., ISCA 2016, Sec. IV-V; JSSC 2017, Sec. III): a PE set of
// R filter rows down a column x E output rows across; PE (r, e) slides filter row r along input
// row e + r, holding p filters x q channels of it, and passes partial sums up the column. Sets
// too wide are folded; spare rows replicate the set over r channel groups and t filter groups,
// so AlexNet CONV3-5 (3 x 13 sets) run four sets at once on the 12 x 14 array. Here a cluster is
// a column (L2 fan-out over the array's columns: output rows, then filters, then images) and its
// PEs the rows (L1 fan-out: filter rows, then channels, then filters).
//  - A PE's tile is its spads' working set: p x q x S weights, q x S inputs, p partial sums; p
//    and q are the largest product that fits L0 (more channels on a tie: fewer psum passes),
//    and a grouped layer's p divides its groups.
//  - A step (L1 tile) is one output pixel of every PE at once: the NoC brings each PE the input
//    column its window slides onto and, when the channels or filters move on, new weights.
//  - The global buffer holds the pass Eyeriss's mapper would pick (least_traffic_pass). Inside
//    it the steps run filters, then channels and the parts of a filter row too long for the
//    spads (partial sums wait in the buffer meanwhile), then images, rows and columns.
Design eyeriss_rs(const Layer& layer, const ArchSpec& arch) {
  Design design;
  design.axis = {Axis::Cols, Axis::Rows};
  int64_t cols_left = design.unroll(kL2, layer, Dim::Y, arch.array_cols);
  cols_left = design.unroll(kL2, layer, Dim::K, cols_left);
  design.unroll(kL2, layer, Dim::N, cols_left);
  int64_t rows_left = design.unroll(kL1, layer, Dim::R, arch.array_rows);
  rows_left = design.unroll(kL1, layer, Dim::C, rows_left);
  const auto ways = [&](int level, Dim dim) { return design.fanout[level][dim_index(dim)]; };
  const int64_t k_left = ceil_div(layer.K, ways(kL2, Dim::K));
  design.fanout[kL1][dim_index(Dim::K)] = std::max<int64_t>(1, std::min(k_left, rows_left));

  const int64_t filters_per_pe = ceil_div(k_left, ways(kL1, Dim::K));
  const int64_t channels_per_pe = ceil_div(layer.C, ways(kL1, Dim::C));
  DimArray pe_tile = {1, 1, 1, 1, 1, layer.S, 1};
  const int64_t group_size = layer.output_channels_per_group();
  for (int64_t q = 1; q <= channels_per_pe; ++q)
    for (int64_t p = 1; p <= filters_per_pe; ++p) {
      // A grouped layer's PE takes filters of one group only, so that it needs one group's
      // channels and the passes can hold whole groups (a depthwise PE's filters each have their
      // own channel anyway).
      if (group_size > 1 && layer.groups > 1 && group_size % p != 0) continue;
      const DimArray tile = {p, q, 1, 1, 1, layer.S, 1};
      const int64_t best = pe_tile[dim_index(Dim::K)] * pe_tile[dim_index(Dim::C)];
      if (p * q >= best && fits_buffer(layer, arch, kL0, tile)) pe_tile = tile;
    }
  design.unroll(kL0, layer, Dim::K, std::min(arch.macs_per_pe, pe_tile[dim_index(Dim::K)]));

  DimArray step = pe_tile;
  for (int d = 0; d < kNumDims; ++d) step[d] *= design.fanout[kL1][d];
  DimArray round = step;
  for (int d = 0; d < kNumDims; ++d) round[d] *= design.fanout[kL2][d];
  const auto [pass, pass_order] = least_traffic_pass(layer, arch, round);
  design.tile_cap = {pass, step, pe_tile};
  // A whole filter in one step leaves R and S one step each, where channels-outer means the same.
  const bool filter_split = layer.R > ways(kL1, Dim::R) || !fits_buffer(layer, arch, kL0, pe_tile);
  design.order = {pass_order, filter_split ? kReductionsOuter : kChannelsOuter, kRowStationary};
  design.shrink_last[kL0][dim_index(Dim::S)] = true;
  return design;
}

// ShiDianNao output stationary (Du et al., ISCA 2015): every PE owns output pixels, rows over
// clusters and columns over the PEs of a cluster, and accumulates them over C, R, S before
// moving on. A gemm has a single column, so its PEs own output channels instead, and its single
// output row leaves the rows to the images of the batch.
Design shidiannao(const Layer& layer, const ArchSpec& arch) {
  Design design;
  design.axis = {Axis::Rows, Axis::Cols};
  const Dim within_cluster = layer.X > 1 ? Dim::X : Dim::K;
  design.unroll(kL1, layer, within_cluster, arch.array_cols);
  // Rows the output rows leave idle take more images of the batch (a gemm has one output row).
  design.unroll(kL2, layer, Dim::N, design.unroll(kL2, layer, Dim::Y, arch.array_rows));
  design.unroll(kL0, layer, Dim::K, arch.macs_per_pe);
  design.order = {kOutputStationary, kOutputStationary, kOutputStationary};
  return design;
}

// A systolic array's shape: `row_dims` folded onto the rows (the fold that idles the fewest rows
// over the layer), filters across the columns.
Design systolic(const Layer& layer, const ArchSpec& arch, const std::array<Dim, 3>& row_dims) {
  Design design;
  design.axis = {Axis::Rows, Axis::Cols};
  const std::array<int64_t, 3> fold = best_fold(layer, row_dims, arch.array_rows);
  for (int i = 0; i < 3; ++i) design.fanout[kL2][dim_index(row_dims[i])] = fold[i];
  design.unroll(kL1, layer, Dim::K, arch.array_cols);
  return design;
}

// Systolic weight stationary (Jouppi et al., ISCA 2017; SCALE-Sim's WS, Samajdar et al.,
// arXiv 1811.02883): the rows carry the reduction, C x R x S flattened as im2col does, and the
// columns carry filters; each cell holds its weight while every output pixel streams through.
// The rows take the fold of C, R and S that idles the fewest rows over the layer (a 7x7, C = 3
// layer fills 16 rows as 4 x 4 filter taps rather than 3 channels).
Design tpu_ws(const Layer& layer, const ArchSpec& arch) {
  Design design = systolic(layer, arch, {Dim::C, Dim::R, Dim::S});
  for (const Dim dim : {Dim::C, Dim::R, Dim::S})
    design.tile_cap[kL2][dim_index(dim)] = design.fanout[kL2][dim_index(dim)];
  design.unroll(kL0, layer, Dim::K, arch.macs_per_pe);
  design.order = {kWeightStationary, kWeightStationary, kWeightStationary};
  design.shrink_last[kL1][dim_index(Dim::Y)] = true;
  design.shrink_last[kL1][dim_index(Dim::X)] = true;
  // One fold of weights per global-buffer tile, so the next fold's data streams in from DRAM
  // while this one computes instead of the whole layer arriving before the first MAC.
  design.tile_cap[kL2][dim_index(Dim::K)] = design.fanout[kL1][dim_index(Dim::K)];
  return design;
}

// Systolic output stationary (SCALE-Sim's OS, Samajdar et al., arXiv 1811.02883): each row owns
// output pixels (Y x X, and images of the batch), each column a filter; inputs stream along the
// rows and weights down the columns while every cell accumulates its output over C x R x S.
Design tpu_os(const Layer& layer, const ArchSpec& arch) {
  Design design = systolic(layer, arch, {Dim::Y, Dim::X, Dim::N});
  design.unroll(kL0, layer, Dim::K, arch.macs_per_pe);
  design.order = {kOutputStationary, kOutputStationary, kOutputStationary};
  return design;
}

Dataflow build(const std::string& name, const Design& design, const Layer& layer,
               const ArchSpec& arch) {
  Dataflow dataflow;
  dataflow.name = name;
  DimArray tile = layer.dims();
  for (int level = 0; level < kNumLevels; ++level) {
    LevelMapping& mapping = dataflow.levels[level];
    mapping.order = design.order[level];
    for (int d = 0; d < kNumDims; ++d) tile[d] = std::min(tile[d], design.tile_cap[level][d]);
    mapping.tile = tile;
    for (int d = 0; d < kNumDims; ++d) {
      mapping.fanout[d] = std::min(design.fanout[level][d], tile[d]);
      if (level < kL0 && mapping.fanout[d] > 1) mapping.axis[d] = design.axis[level];
      // The next level's tile along a spatial dim is one unit's share of this one.
      tile[d] = (tile[d] + mapping.fanout[d] - 1) / mapping.fanout[d];
    }
  }
  repair_dataflow(layer, arch, dataflow, design.shrink_last);
  return dataflow;
}

using DesignFunction = Design (*)(const Layer&, const ArchSpec&);

struct FixedDataflow {
  const char* name;
  DesignFunction design;
};

constexpr std::array<FixedDataflow, 5> kFixedDataflows = {{
    {"nvdla", nvdla},
    {"eyeriss-rs", eyeriss_rs},
    {"shidiannao", shidiannao},
    {"tpu-ws", tpu_ws},
    {"tpu-os", tpu_os},
}};

// How many times a pass of `tile_k` filters reads a grouped layer's input: every L2 tile reads
// the channels of each group its filters span, counted as the simulator does (tiles start at
// multiples of their size), and reads them again when the next tile's filters differ, even within
// one group.
double grouped_input_reads(const Layer& layer, int64_t tile_k) {
  if (layer.groups <= 1) return 1;
  const int64_t full_tiles = layer.K / tile_k, edge = layer.K % tile_k;
  const int64_t groups_read = full_tiles * groups_spanned(layer, tile_k, KOrigin::MultipleOfSize) +
                              (edge > 0 ? groups_spanned(layer, edge, KOrigin::MultipleOfSize) : 0);
  return static_cast<double>(groups_read) / static_cast<double>(layer.groups);
}

}  // namespace

double pass_dram_words(const Layer& layer, const ArchSpec& arch, const DimArray& pass,
                       const std::array<Dim, kNumDims>& order, const DimArray& array_tile) {
  double total = 0;
  for (Tensor tensor : kAllTensors) {
    // A tensor that bypasses L2 stays on chip between passes only in the PEs, which hold all of
    // a pass's share of it only when one step covers it; otherwise each pass fetches it anew.
    const bool bypassed =
        bypasses_level(arch, tensor, kL2) &&
        footprint_elements(layer, array_tile, tensor) < footprint_elements(layer, pass, tensor);
    double refetch =
        tensor == Tensor::Input ? grouped_input_reads(layer, pass[dim_index(Dim::K)]) : 1;
    bool inside_relevant = false;
    for (auto dim = order.rbegin(); dim != order.rend(); ++dim) {
      const int64_t trips = ceil_div(layer.dim(*dim), pass[dim_index(*dim)]);
      const bool relevant = tensor_uses_dim(layer, tensor, *dim);
      if (trips <= 1) continue;
      if (relevant)
        inside_relevant = true;
      else if (inside_relevant || bypassed)
        refetch *= static_cast<double>(trips);
    }
    const auto words = static_cast<double>(footprint_elements(layer, layer.dims(), tensor));
    total += tensor == Tensor::Output ? words * (2 * refetch - 1) : words * refetch;
  }
  return total;
}

const std::vector<std::string>& fixed_dataflow_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const FixedDataflow& fixed : kFixedDataflows) list.push_back(fixed.name);
    return list;
  }();
  return names;
}

std::string fixed_dataflow_names_text() {
  std::string text;
  for (const std::string& name : fixed_dataflow_names()) text += (text.empty() ? "" : ", ") + name;
  return text;
}

bool is_fixed_dataflow_name(const std::string& name) {
  const std::vector<std::string>& names = fixed_dataflow_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

Dataflow make_fixed_dataflow(const std::string& name, const Layer& layer, const ArchSpec& arch) {
  for (const FixedDataflow& fixed : kFixedDataflows) {
    if (name == fixed.name) return build(name, fixed.design(layer, arch), layer, arch);
  }
  throw InputError("fixed dataflow", "", "unknown '" + name + "'", fixed_dataflow_names_text());
}

}  // namespace dcp
