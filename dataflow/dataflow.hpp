#pragma once
// The mapping description (Timeloop's "mapping"): how one layer is tiled, ordered and spread
// over the three levels of an ArchSpec. Three levels, outermost first:
//   levels[0] L2: `tile` is the chunk resident in the global buffer; `order` is the loop order
//                 over L2 tiles (DRAM -> L2 steps); the L2 tile is split over clusters, `fanout[d]`
//                 ways along each dim d (several dims at once, as Timeloop's spatial factors).
//   levels[1] L1: `tile` is one cluster's chunk in L1; `order` is the loop order over L1 tiles
//                 inside an L2 tile (NoC steps); split over the PEs of a cluster by `fanout`.
//   levels[2] L0: `tile` is one PE's chunk in L0; `order` is the loop order over L0 tiles inside
//                 an L1 tile; split over the MAC lanes of the PE by `fanout`.
// Tiles nest: L0 <= L1 <= L2 <= layer, dim by dim. Edge tiles are clipped to the layer.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "workloads/layer.hpp"

namespace dcp {

constexpr int kNumLevels = 3;
const char* level_name(int level);  // "L2", "L1", "L0"

// Which physical axis of an `array: {rows, cols}` arch a spatially unrolled dim runs along.
// Unbound dims take rows at L2 and columns at L1 (the cluster is a column of the array's rows
// when clusters are rows), so a one-dim-per-level dataflow needs no binding.
enum class Axis { Any = 0, Rows = 1, Cols = 2 };
const char* axis_name(Axis axis);  // "any", "rows", "cols"

struct LevelMapping {
  DimArray fanout = kUnitDims;                 // spatial split per dim; 1 = not unrolled
  std::array<Axis, kNumDims> axis{};           // binding of each unrolled dim (L2 and L1 only)
  std::array<Dim, kNumDims> order = kAllDims;  // outermost loop first
  DimArray tile = kUnitDims;

  // Units the level spreads over: the product of the fan-outs (saturating).
  int64_t units() const;
  // The dims with a fan-out above 1, in K, C, Y, X, R, S, N order.
  std::vector<Dim> spatial_dims() const;
  // The dim with the largest fan-out (K when nothing is unrolled): a one-dim summary for tables.
  Dim main_spatial_dim() const;
  // A single-dim map: `fanout` along `dim`, everything else 1.
  void set_single_spatial(Dim dim, int64_t fanout);
  // The array axis unit-dim `dim` of this level occupies (`level` 0 or 1), Any binding resolved.
  Axis resolved_axis(int level, Dim dim) const;
};

struct Dataflow {
  std::string name;
  std::array<LevelMapping, kNumLevels> levels;
  bool operator==(const Dataflow& other) const;
};

// Where a tile's K range may start: anywhere (an inner level's tile sits wherever its parent
// and its unit put it), or at a multiple of its size, as every L2 tile does (L2 tiles walk the
// layer from K = 0).
enum class KOrigin { Anywhere, MultipleOfSize };
// Where the K ranges of `level`'s tiles start. A level's tiles (one per unit of the level above)
// sit at whole multiples of their size from their parent's origin, so a size that divides the K
// tile of every level above starts at multiples of itself; otherwise it may start anywhere.
KOrigin k_origin(const Dataflow& dataflow, int level);
// Groups of a grouped convolution whose output channels a K tile touches; each brings its own
// C input channels. An upper bound for a tile starting anywhere; exact for one starting at a
// multiple of its size when the size divides a group (one group) or a group divides it. It never
// depends on the tile's actual origin, so equal-sized tiles of a level cost the same.
int64_t groups_spanned(const Layer& layer, int64_t tile_k, KOrigin origin = KOrigin::Anywhere);
// Elements of `tensor` touched by a tile of the layer (input includes the halo:
// rows = (ty - 1) * stride + tr). Unclipped at padded borders, so it never undercounts.
int64_t footprint_elements(const Layer& layer, const DimArray& tile, Tensor tensor,
                           KOrigin origin = KOrigin::Anywhere);
// Bytes `tensor`'s share of a `level` tile whose K range starts at `origin` takes in that level's
// buffer: its words, doubled when the arch double-buffers it; none when it bypasses the level.
int64_t tensor_footprint_bytes(const Layer& layer, const ArchSpec& arch, const DimArray& tile,
                               Tensor tensor, int level, KOrigin origin);
// Whether `tensor` skips `level`'s buffer (L2: buffers.l2_bypass, L1: buffers.l1_bypass).
bool bypasses_level(const ArchSpec& arch, Tensor tensor, int level);
// Whether the L0 tile along `dim` must be a PE's whole share of the L1 tile: an operand that
// depends on `dim` bypasses L1, so the NoC delivers it into the PEs once per step.
bool tied_to_l1_share(const Layer& layer, const ArchSpec& arch, Dim dim);
// A PE's share of the L1 tile along dim index `d`: ceil(L1 tile / L1 fan-out).
int64_t l1_bypass_share(const Dataflow& dataflow, int d);
// Whether every L0 tile dim tied by an L1 bypass equals the PE's share of the L1 tile.
bool keeps_l1_bypass_ties(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow);
// Bytes one unit at `level` must hold: every tensor's share of its tile, its K range starting
// at k_origin(dataflow, level).
int64_t footprint_bytes(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                        int level);
// Bytes by which `level`'s tile overflows its buffer (summed over the scratchpads when L0 is
// partitioned per tensor); 0 when it fits.
int64_t overflow_bytes(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                       int level);
// Capacity of one unit at `level` (L2: global buffer, L1: per cluster, L0: per PE).
int64_t level_capacity_bytes(const ArchSpec& arch, int level);
// The tile `level` splits into its own tiles: the layer (`layer_dims`) for L2, the enclosing
// level's tile otherwise.
const DimArray& parent_tile(const Dataflow& dataflow, int level, const DimArray& layer_dims);
// Units `level`'s fan-out can spread over: PEs for L2, the PEs of one cluster for L1 (the PEs
// over the L2 fan-out's clusters), MAC lanes for L0.
int64_t units_at_level(const ArchSpec& arch, const Dataflow& dataflow, int level);
// The most units `level`'s fan-out along `dim` can keep busy: the next level's tiles inside this
// level's tile along `dim` (L0: single elements, one per MAC lane). Tiles must be positive.
int64_t available_fanout(const Dataflow& dataflow, int level, Dim dim);
// PEs the dataflow occupies: clusters x PEs per cluster (saturates instead of overflowing).
int64_t pes_used(const Dataflow& dataflow);
// Whether any L2 or L1 dim is bound to the array's rows or columns (only then do they limit it).
bool binds_array_axes(const Dataflow& dataflow);
// Array rows (or columns) the L2 and L1 fan-outs occupy under their axis bindings.
int64_t array_units_on(const Dataflow& dataflow, Axis axis);
// The same for a step that keeps only `l2_units` / `l1_units` of the fan-out per dim busy.
int64_t array_units_on(const Dataflow& dataflow, Axis axis, const DimArray& l2_units,
                       const DimArray& l1_units);
// The product of the entries (saturating): units of a spatial map, elements of a tile.
int64_t product(const DimArray& values);

// All reasons the dataflow is illegal for this layer on this arch, each a one-line message
// naming the field (e.g. "levels[1].tile.K: 64 exceeds the L2 tile 32 (allowed: 1..32)").
// Empty means legal.
std::vector<std::string> legality_violations(const Layer& layer, const ArchSpec& arch,
                                             const Dataflow& dataflow);
// Throws InputError(source, ...) with the first violation.
void require_legal(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                   const std::string& source);

// YAML round trip (schema in dataflow/README.md). load_dataflow throws InputError naming
// file/field. It also reads the one-dim form `spatial: {dim: K, fanout: 4}` and 6-dim files
// without N (N then has tile 1 and runs outermost).
Dataflow load_dataflow(const std::string& path);
std::string dataflow_to_yaml(const Dataflow& dataflow);
// MAESTRO directives (SpatialMap / TemporalMap / Cluster) for this layer.
std::string dataflow_to_maestro(const Dataflow& dataflow, const Layer& layer);
// MAESTRO's name for `dim` in this layer's directives: Y' and X' for output rows and columns,
// and K and C swapped for a depthwise layer (MAESTRO's DSCONV has K = 1).
std::string maestro_dim(Dim dim, const Layer& layer);

}  // namespace dcp
