#include "sim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "common/saturating.hpp"

namespace dcp::sim {

int64_t ceil_log2(int64_t value) {
  int64_t bits = 0;
  for (int64_t reach = 1; reach < value; reach *= 2) ++bits;
  return bits;
}

bool same_tensor_tile(const Layer& layer, Tensor tensor, const TileRange& a, const TileRange& b) {
  const DimMask dims = tensor_dim_mask(layer, tensor);
  for (int d = 0; d < kNumDims; ++d)
    if (((dims >> d) & 1u) != 0 && (a.origin[d] != b.origin[d] || a.size[d] != b.size[d]))
      return false;
  return true;
}

namespace {

int64_t interval_overlap(int64_t a_start, int64_t a_length, int64_t b_start, int64_t b_length) {
  return std::max<int64_t>(
      0, std::min(a_start + a_length, b_start + b_length) - std::max(a_start, b_start));
}

}  // namespace

int64_t held_elements(const Layer& layer, Tensor tensor, const TileRange& previous,
                      const TileRange& next, KOrigin origin) {
  if (same_tensor_tile(layer, tensor, previous, next))
    return footprint_elements(layer, next.size, tensor, origin);
  // Weight and output tiles sit on their loops' grid: equal or disjoint. Input tiles overlap in
  // the rows and columns of the sliding window.
  if (tensor != Tensor::Input) return 0;
  const auto same_range = [&](Dim dim) {
    const int d = dim_index(dim);
    return previous.origin[d] == next.origin[d] && previous.size[d] == next.size[d];
  };
  // A grouped layer's K range decides which groups' channels the tile reads.
  if (layer.groups > 1 && !same_range(Dim::K)) return 0;
  const auto overlap = [&](Dim dim) {
    const int d = dim_index(dim);
    return interval_overlap(previous.origin[d], previous.size[d], next.origin[d], next.size[d]);
  };
  // Input rows of a tile: from y0 * stride + r0, (size_Y - 1) * stride + size_R of them.
  const auto window_overlap = [&](Dim out, Dim filter) {
    const int o = dim_index(out), f = dim_index(filter);
    const auto start = [&](const TileRange& t) { return t.origin[o] * layer.stride + t.origin[f]; };
    const auto length = [&](const TileRange& t) {
      return (t.size[o] - 1) * layer.stride + t.size[f];
    };
    return interval_overlap(start(previous), length(previous), start(next), length(next));
  };
  const auto window_length = [&](Dim out, Dim filter) {
    return (next.size[dim_index(out)] - 1) * layer.stride + next.size[dim_index(filter)];
  };
  // The footprint is channels x rows x cols x samples, channels counting every group the K
  // range spans; the held part keeps that group factor.
  const int64_t held_extents = saturating_mul(
      overlap(Dim::C),
      saturating_mul(saturating_mul(window_overlap(Dim::Y, Dim::R), window_overlap(Dim::X, Dim::S)),
                     overlap(Dim::N)));
  if (held_extents == 0) return 0;
  const int64_t extents = next.size[dim_index(Dim::C)] * window_length(Dim::Y, Dim::R) *
                          window_length(Dim::X, Dim::S) * next.size[dim_index(Dim::N)];
  const int64_t groups = footprint_elements(layer, next.size, tensor, origin) / extents;
  return saturating_mul(groups, held_extents);
}

bool first_reduction_visit(const TileRange& range) {
  return range.origin[dim_index(Dim::C)] == 0 && range.origin[dim_index(Dim::R)] == 0 &&
         range.origin[dim_index(Dim::S)] == 0;
}

int64_t transfer_cycles(int64_t bytes, double bytes_per_cycle) {
  // A whole bandwidth (every preset's) divides in integers: the same answer wherever a double
  // holds `bytes` exactly (below 2^53), without a floating-point division on every transfer.
  constexpr int64_t kExactInDouble = int64_t{1} << 53;
  if (bytes >= 0 && bytes < kExactInDouble && bytes_per_cycle >= 1 &&
      bytes_per_cycle < static_cast<double>(kExactInDouble)) {
    const auto whole_bandwidth = static_cast<int64_t>(bytes_per_cycle);
    if (static_cast<double>(whole_bandwidth) == bytes_per_cycle) {
      // Powers of two (most bandwidths) shift instead of dividing.
      if ((whole_bandwidth & (whole_bandwidth - 1)) == 0)
        return (bytes >> __builtin_ctzll(static_cast<uint64_t>(whole_bandwidth))) +
               ((bytes & (whole_bandwidth - 1)) != 0 ? 1 : 0);
      return ceil_div(bytes, whole_bandwidth);
    }
  }
  return saturating_from_double(std::ceil(static_cast<double>(bytes) / bytes_per_cycle));
}

LevelSplit LevelSplit::below(const Dataflow& dataflow, int level) {
  const auto& levels = dataflow.levels;
  if (level == 0) return {levels[0].tile, kUnitDims, levels[0].order};
  return {levels[level].tile, levels[level - 1].fanout, levels[level].order};
}

LevelSplit LevelSplit::lanes(const Dataflow& dataflow) {
  const LevelMapping& l0 = dataflow.levels[kNumLevels - 1];
  DimArray lane_tile = l0.tile;
  for (int d = 0; d < kNumDims; ++d) lane_tile[d] = ceil_div(lane_tile[d], l0.fanout[d]);
  return {lane_tile, l0.fanout, l0.order};
}

int64_t LevelSplit::units() const {
  return product(fanout);
}

DimArray LevelSplit::trips(const DimArray& parent_size) const {
  DimArray result;
  for (int d = 0; d < kNumDims; ++d)
    result[d] = ceil_div(ceil_div(parent_size[d], child_tile[d]), fanout[d]);
  return result;
}

DimArray LevelSplit::last_index(const DimArray& parent_size) const {
  // trips - 1 with one division: ceil(ceil(s / c) / f) = ceil(s / (c f)), and for s >= 1
  // ceil(s / m) - 1 = floor((s - 1) / m).
  DimArray result;
  for (int d = 0; d < kNumDims; ++d) result[d] = (parent_size[d] - 1) / step_extent(d);
  return result;
}

std::array<bool, kNumDims> LevelSplit::edge_flags(const DimArray& parent_size) const {
  std::array<bool, kNumDims> edges{};
  for (int d = 0; d < kNumDims; ++d) edges[d] = parent_size[d] % step_extent(d) != 0;
  return edges;
}

namespace {

// Along one dim of a split: the units of a step that hold a tile, `fanout` at most and fewer where
// the parent ends first (`step_offset`: where the step's first tile starts in the parent).
int64_t active_along(int64_t parent_size, int64_t step_offset, int64_t child_tile, int64_t fanout) {
  const int64_t remaining = parent_size - step_offset;
  // Every step but the edge one is full: no division for it (the walker asks for every step).
  if (remaining >= fanout * child_tile) return fanout;
  return std::min(fanout, ceil_div(remaining, child_tile));
}

// Along one dim: the child tile `offset` into the parent, cut where the parent ends.
void tile_along(int64_t parent_origin, int64_t parent_size, int64_t offset, int64_t child_tile,
                int64_t& origin, int64_t& size) {
  origin = parent_origin + offset;
  size = std::min(child_tile, parent_size - offset);
}

}  // namespace

bool LevelSplit::range_at(const TileRange& parent, const DimArray& index,
                          const DimArray& coordinates, TileRange& range) const {
  for (int d = 0; d < kNumDims; ++d) {
    const int64_t tile_index = index[d] * fanout[d] + coordinates[d];
    const int64_t offset = tile_index * child_tile[d];
    if (offset >= parent.size[d]) return false;
    tile_along(parent.origin[d], parent.size[d], offset, child_tile[d], range.origin[d],
               range.size[d]);
  }
  return true;
}

bool LevelSplit::unit_range(const TileRange& parent, const DimArray& index, int64_t unit,
                            TileRange& range) const {
  DimArray coordinates{};
  for (int d = 0; d < kNumDims; ++d) {
    coordinates[d] = unit % fanout[d];
    unit /= fanout[d];
  }
  return range_at(parent, index, coordinates, range);
}

TileRange LevelSplit::step_union(const TileRange& parent, const DimArray& index) const {
  TileRange range;
  range_at(parent, index, DimArray{}, range);
  for (int d = 0; d < kNumDims; ++d) {
    const int64_t offset = index[d] * step_extent(d);
    range.size[d] = std::min(step_extent(d), parent.size[d] - offset);
  }
  return range;
}

DimArray LevelSplit::active_per_dim(const TileRange& parent, const DimArray& index) const {
  DimArray active;
  for (int d = 0; d < kNumDims; ++d)
    active[d] = active_along(parent.size[d], index[d] * step_extent(d), child_tile[d], fanout[d]);
  return active;
}

int64_t LevelSplit::active_units(const TileRange& parent, const DimArray& index) const {
  return product(active_per_dim(parent, index));
}

TileRange LevelSplit::first_unit(const TileRange& parent, const DimArray& index) const {
  TileRange range;
  range_at(parent, index, DimArray{}, range);
  return range;
}

StepUnits LevelSplit::step_units(const TileRange& parent, const DimArray& index) const {
  // active_per_dim and the first and last units' range_at in one pass: the walker asks this
  // several times per step.
  StepUnits units;
  units.active = 1;
  for (int d = 0; d < kNumDims; ++d) {
    const int64_t first_tile = index[d] * fanout[d];
    const int64_t first_offset = first_tile * child_tile[d];
    const int64_t active = active_along(parent.size[d], first_offset, child_tile[d], fanout[d]);
    const int64_t last_offset = (first_tile + active - 1) * child_tile[d];
    units.active_per_dim[d] = active;
    units.active = saturating_mul(units.active, active);
    tile_along(parent.origin[d], parent.size[d], first_offset, child_tile[d], units.first.origin[d],
               units.first.size[d]);
    tile_along(parent.origin[d], parent.size[d], last_offset, child_tile[d], units.last.origin[d],
               units.last.size[d]);
  }
  return units;
}

TileRange StepUnits::span() const {
  TileRange range;
  range.origin = first.origin;
  for (int d = 0; d < kNumDims; ++d)
    range.size[d] = last.origin[d] + last.size[d] - first.origin[d];
  return range;
}

int64_t units_footprint(const Layer& layer, const StepUnits& units, Tensor tensor, KOrigin origin) {
  // Along each spatial dim every active unit but the last holds a full tile and the last may
  // hold an edge tile; sum the footprint over each mix of full and edge extents.
  std::array<int, kNumDims> edge_dims{};
  std::size_t edge_count = 0;
  int64_t uniform_units = 1;  // units along dims whose tiles are all the same size
  for (int d = 0; d < kNumDims; ++d) {
    if (units.active_per_dim[d] > 1 && units.first.size[d] != units.last.size[d])
      edge_dims[edge_count++] = d;
    else
      uniform_units = saturating_mul(uniform_units, units.active_per_dim[d]);
  }
  int64_t total = 0;
  for (unsigned mask = 0; mask < (1u << edge_count); ++mask) {
    DimArray size = units.first.size;
    int64_t count = uniform_units;
    for (std::size_t i = 0; i < edge_count; ++i) {
      const int d = edge_dims[i];
      if ((mask >> i) & 1u)
        size[d] = units.last.size[d];
      else
        count = saturating_mul(count, units.active_per_dim[d] - 1);
    }
    total = saturating_add(total,
                           saturating_mul(count, footprint_elements(layer, size, tensor, origin)));
  }
  return total;
}

void UnitsFootprintMemo::use(const StepUnits& units) {
  if (units.first.size != first_size_ || units.last.size != last_size_ ||
      units.active_per_dim != active_per_dim_) {
    first_size_ = units.first.size;
    last_size_ = units.last.size;
    active_per_dim_ = units.active_per_dim;
    known_ = {};
  }
}

int64_t UnitsFootprintMemo::get(const Layer& layer, const StepUnits& units, Tensor tensor,
                                KOrigin origin) {
  const int t = static_cast<int>(tensor);
  if (!known_[t]) {
    elements_[t] = units_footprint(layer, units, tensor, origin);
    known_[t] = true;
  }
  return elements_[t];
}

bool LevelSplit::next_index(const DimArray& trips, DimArray& index) const {
  for (int position = kNumDims - 1; position >= 0; --position) {
    const int d = dim_index(order[position]);
    if (++index[d] < trips[d]) return true;
    index[d] = 0;
  }
  return false;
}

namespace {

void add_access(AccessCounts& counts, CostLevel level, Tensor tensor, int64_t reads,
                int64_t writes) {
  int64_t& read_count = counts.reads[static_cast<int>(level)][static_cast<int>(tensor)];
  int64_t& write_count = counts.writes[static_cast<int>(level)][static_cast<int>(tensor)];
  read_count = saturating_add(read_count, reads);
  write_count = saturating_add(write_count, writes);
}

// `words` crossing `links` links of the NoC tree each.
void add_link_words(AccessCounts& counts, Tensor tensor, int64_t words, int64_t links) {
  int64_t& link_words = counts.noc_link_words[static_cast<int>(tensor)];
  link_words = saturating_add(link_words, saturating_mul(words, links));
}

constexpr std::array<Tensor, 2> kOperands = {Tensor::Input, Tensor::Weight};
// kOperands as tensor bits (bit t for tensor t).
constexpr int kOperandBits =
    (1 << static_cast<int>(Tensor::Input)) | (1 << static_cast<int>(Tensor::Weight));

}  // namespace

bool SpareSpace::claim(Tensor tensor, int64_t wanted) {
  int64_t& room = bytes[per_tensor ? static_cast<int>(tensor) : 0];
  if (wanted > room) return false;
  room -= wanted;
  return true;
}

ScheduleCompiler::ScheduleCompiler(const Layer& layer, const ArchSpec& arch,
                                   const Dataflow& dataflow)
    : layer_(layer), arch_(arch), dataflow_(dataflow) {
  const int k = dim_index(Dim::K);
  k_origins_.cluster = k_origin(dataflow, 1);
  k_origins_.pe = k_origin(dataflow, 2);
  k_origins_.clusters = dataflow.levels[0].fanout[k] > 1 ? KOrigin::Anywhere : k_origins_.cluster;
  k_origins_.pes = dataflow.levels[1].fanout[k] > 1 ? KOrigin::Anywhere : k_origins_.pe;
  for (int level = 0; level < kNumLevels; ++level) {
    SpareSpace& spare = spare_[level];
    spare.per_tensor = level == kNumLevels - 1 && l0_partitioned(arch);
    if (!spare.per_tensor) {
      spare.bytes[0] = std::max<int64_t>(
          0, level_capacity_bytes(arch, level) - footprint_bytes(layer, arch, dataflow, level));
      continue;
    }
    // Only L0 (the PEs' tiles) is split per tensor.
    for (Tensor tensor : kAllTensors) {
      const auto t = static_cast<int>(tensor);
      spare.bytes[t] =
          std::max<int64_t>(0, arch.l0_partition_bytes[t] -
                                   tensor_footprint_bytes(layer, arch, dataflow.levels[level].tile,
                                                          tensor, level, k_origins_.pe));
    }
  }
  l2_split_ = LevelSplit::below(dataflow, 0);
  l1_split_ = LevelSplit::below(dataflow, 1);
  l0_split_ = LevelSplit::below(dataflow, 2);
  stationary_ = stationary_tensor();
  for (Tensor tensor : kOperands)
    if (flag_of(arch.l1_bypass, tensor)) l1_bypass_bits_ |= 1 << static_cast<int>(tensor);
  noc_tree_depth_ = ceil_log2(l1_split_.units());
  for (int level = 0; level < 2; ++level)
    for (Dim dim : dataflow.levels[level].order) loops_.push_back({level, dim});
  layer_range_.size = layer.dims();
  l2_trips_ = l2_split_.trips(layer_range_.size);
  l2_ends_in_edge_ = l2_split_.edge_flags(layer_range_.size);
}

TileFetch ScheduleCompiler::l2_fetch(int64_t sequence, const TileRange* current,
                                     const TileRange& next, AccessCounts& counts) const {
  TileFetch fetch{sequence};
  SpareSpace spare = spare_[0];
  for (Tensor tensor : kAllTensors) {
    if (flag_of(arch_.l2_bypass, tensor)) continue;
    // L2 tiles start at multiples of their size, so the groups an input tile reads are known.
    constexpr KOrigin kL2Origin = KOrigin::MultipleOfSize;
    const int64_t words =
        footprint_elements(layer_, next.size, tensor, kL2Origin) -
        (current == nullptr ? 0 : held_elements(layer_, tensor, *current, next, kL2Origin));
    if (words > 0 && (tensor != Tensor::Output || !first_reduction_visit(next))) {
      const bool early =
          flag_of(arch_.double_buffered, tensor) || spare.claim(tensor, bytes(words));
      int64_t& phase_bytes = early ? fetch.dram_read_bytes : fetch.late_dram_read_bytes;
      phase_bytes = saturating_add(phase_bytes, bytes(words));
      add_access(counts, CostLevel::Dram, tensor, words, 0);
      add_access(counts, CostLevel::L2, tensor, 0, words);
    }
  }
  return fetch;
}

int64_t ScheduleCompiler::total_steps() const {
  // L1 trips factor per dim, and along each dim the L2 tiles are all full but the last, so the
  // sum over L2 tiles of their L1 steps is a product of per-dim sums.
  int64_t total = 1;
  for (int d = 0; d < kNumDims; ++d) {
    const int64_t extent = layer_range_.size[d], tile = l2_split_.child_tile[d];
    const int64_t full_tiles = extent / tile, edge = extent % tile;
    auto l1_trips = [&](int64_t l2_size) {
      DimArray size = l2_split_.child_tile;
      size[d] = l2_size;
      return l1_split_.trips(size)[d];
    };
    total = saturating_mul(total, full_tiles * l1_trips(tile) + (edge > 0 ? l1_trips(edge) : 0));
  }
  return total;
}

void ScheduleCompiler::walk(StepSink& sink, const WalkOptions& options) {
  skip_ = options.skip_steady_state;
  reload_ = options.reload_state && !skip_;
  has_pending_ = false;
  ++pending_version_;
  emitted_ = 0;
  l2_sequence_ = -1;
  counts_ = AccessCounts{};
  l2_index_ = {};
  l1_index_ = {};
  replays_.clear();
  snapshots_.resize(loops_.size());
  latest_snapshot_ = nullptr;
  walk_loop(0, sink);
  finish(sink);
}

void ScheduleCompiler::walk_loop(std::size_t loop_position, StepSink& sink) {
  if (loop_position == loops_.size()) {
    emit(sink);
    return;
  }
  const Loop loop = loops_[loop_position];
  const int d = dim_index(loop.dim);
  if (loop_position == kNumDims) {
    l2_tile_ = l2_split_.first_unit(layer_range_, l2_index_);
    l1_trips_ = l1_split_.trips(l2_tile_.size);
    l1_ends_in_edge_ = l1_split_.edge_flags(l2_tile_.size);
  }
  DimArray& index = loop.level == 0 ? l2_index_ : l1_index_;
  const int64_t trips = loop.level == 0 ? l2_trips_[d] : l1_trips_[d];
  if (trips == 1) {
    // Nothing repeats: walk the one iteration without the steady-state bookkeeping.
    index[d] = 0;
    if (loop.level == 0) l1_index_ = {};
    walk_loop(loop_position + 1, sink);
    return;
  }
  // Iterations 1 .. trips-2 see identical step records (same tile sizes, same reuse pattern),
  // and so does the last one when the dim divides evenly. Once the state at the start of such an
  // iteration matches the state p iterations earlier (p <= kMaxPeriod), the remaining ones repeat
  // with period p, and all their whole periods are advanced at once.
  const bool last_is_full = !ends_in_edge(loop);
  // At L2 loops each tile posts the fetch of the tile after it, so the last iteration (whose
  // successor lies in the next outer iteration) and the one before an edge iteration differ too.
  const int64_t lookahead = loop.level == 0 ? 1 : 0;
  const int64_t last_repeating = (last_is_full ? trips - 1 : trips - 2) - lookahead;
  // The sink settles at the boundaries of every loop that repeats, in both walks, so skipping
  // never changes what happens at a moment. A snapshot costs about a tenth of a simulated step
  // (callgrind), and looking for a repeat takes one per iteration until it is found, so a loop is
  // watched only when a skip could save at least kMinSkippableSteps steps: a skip needs two
  // repeating iterations to compare and comes after the first. Replaying an iteration costs a
  // snapshot, a key and a lookup, so only iterations of at least kMinReplaySteps steps are reused.
  // Both thresholds are the best of those tried on scripts/bench_sim's random dataflows (skippable
  // steps: 8 beat 0, 2, 3, 4, 6, 10, 12 and 16; it also saves 6 % of the instructions on
  // MobileNet-V2 at edge and ViT-B/16 at cloud; replayed steps: 8 beat 2, 4 and 32).
  constexpr int64_t kMinSkippableSteps = 8;
  constexpr int64_t kMinReplaySteps = 8;
  constexpr std::size_t kMaxReplays = 1 << 16;
  const int64_t steps_per_iteration = iteration_steps(loop_position);
  const bool can_repeat =
      skip_ && last_repeating >= 2 &&
      saturating_mul(last_repeating - 1, steps_per_iteration) >= kMinSkippableSteps;
  const bool reuse = skip_ && steps_per_iteration >= kMinReplaySteps;
  // Per loop position, so their room is reused by every walk of the loop.
  LoopSnapshots& snapshots = snapshots_[loop_position];
  SinkSnapshot& fresh = snapshots.entry;
  snapshots.earlier_known = 0;
  snapshots.first_slot = -1;
  for (int64_t i = 0; i < trips; ++i) {
    index[d] = i;
    if (loop.level == 0) l1_index_ = {};
    sink.settle();
    // The state this iteration starts in, once taken: the fresh snapshot, or the ring slot that
    // took it over.
    const SinkSnapshot* entry = nullptr;
    if (can_repeat && i >= 1 && i <= last_repeating) {
      take_snapshot(sink, fresh);
      const int64_t skipped = skip_periods(snapshots, last_repeating - i + 1, loop, sink);
      if (skipped > 0) {
        i += skipped;
        if (i >= trips) break;
        index[d] = i;
      } else {
        entry = &remember_entry(snapshots);
        if (i == 1) {
          snapshots.first_pending = pending_at_entry();
          snapshots.first_slot = snapshots.latest;
        }
      }
    }
    if (reload_) {
      take_snapshot(sink, fresh);
      sink.replay(fresh, fresh);
    }
    if (!reuse) {
      walk_loop(loop_position + 1, sink);
      sink.settle();
      continue;
    }
    if (entry == nullptr) {
      take_snapshot(sink, fresh);
      entry = &fresh;
    }
    const IterationOrigin origin = iteration_origin();
    replay_key(loop_position, *entry, key_);
    if (const auto seen = replays_.find(key_); seen != replays_.end()) {
      replay(seen->second, origin, sink);
      continue;
    }
    Replay recorded;
    recorded.before.time = entry->time;
    recorded.before.totals = entry->totals;
    recorded.before.steps_received = entry->steps_received;
    recorded.before.tiles_received = entry->tiles_received;
    ReplayKey key = key_;  // the inner iterations reuse key_
    const AccessCounts counts_before = counts_;
    const int64_t emitted_before = emitted_, l2_sequence_before = l2_sequence_;
    walk_loop(loop_position + 1, sink);
    sink.settle();
    take_snapshot(sink, recorded.after);
    // The walk's side: differences for the counters, and the pending step relative to the
    // iteration's first tile and to the stream's position after it.
    recorded.counts = counts_;
    recorded.counts -= counts_before;
    recorded.steps = emitted_ - emitted_before;
    recorded.l2_tiles = l2_sequence_ - l2_sequence_before;
    recorded.has_pending = has_pending_;
    recorded.pending = pending_;
    move_pending(recorded.pending, origin, -1);
    // Bounds the memory a long walk takes; the iterations seen first are the most reused.
    if (replays_.size() < kMaxReplays) {
      latest_snapshot_ = &replays_.emplace(std::move(key), std::move(recorded)).first->second.after;
    } else {
      latest_snapshot_ = nullptr;  // `recorded` goes
    }
  }
  index[d] = 0;
}

int64_t ScheduleCompiler::skip_periods(LoopSnapshots& snapshots, int64_t repeating_left,
                                       const Loop& loop, StepSink& sink) {
  for (int period = 1; period <= snapshots.earlier_known; ++period) {
    const int slot = snapshots.slot(period);
    const SinkSnapshot& before = snapshots.earlier[slot];
    if (snapshots.entry.state != before.state || !pending_repeats(snapshots, slot)) continue;
    const int64_t periods = repeating_left / period;
    if (periods == 0) return 0;
    sink.advance(before, snapshots.entry, periods);
    return account_skip(snapshots, slot, periods, period, loop);
  }
  // Not a repeat: perhaps iterations that repeat but for the clocks of longer work.
  for (int period = 1; 2 * period <= snapshots.earlier_known; ++period) {
    const int second = snapshots.slot(period), first = snapshots.slot(2 * period);
    if (!pending_repeats(snapshots, second) || !pending_repeats(snapshots, first)) continue;
    const int64_t periods =
        sink.advance_drifting(snapshots.earlier[first], snapshots.earlier[second], snapshots.entry,
                              repeating_left / period);
    if (periods > 0) return account_skip(snapshots, second, periods, period, loop);
  }
  return 0;
}

int64_t ScheduleCompiler::account_skip(LoopSnapshots& snapshots, int slot, int64_t periods,
                                       int period, const Loop& loop) {
  AccessCounts per_period = counts_;
  per_period -= snapshots.earlier_counts[slot];
  counts_.add_scaled(per_period, periods);
  const int64_t skipped = periods * period;
  shift_pending(loop.level, loop.dim, skipped);
  // What came before the skip is no longer a whole number of iterations back.
  snapshots.earlier_known = 0;
  snapshots.first_slot = -1;
  return skipped;
}

void ScheduleCompiler::take_snapshot(StepSink& sink, SinkSnapshot& into) {
  if (latest_snapshot_ == nullptr || sink.moved_since_snapshot())
    sink.snapshot(into);
  else if (latest_snapshot_ != &into)
    into = *latest_snapshot_;
  latest_snapshot_ = &into;
}

const SinkSnapshot& ScheduleCompiler::remember_entry(LoopSnapshots& snapshots) {
  // The entry moves into the oldest slot, whose room the next snapshot reuses.
  snapshots.latest = (snapshots.latest + 1) % kMaxPeriod;
  SinkSnapshot& slot = snapshots.earlier[snapshots.latest];
  std::swap(slot, snapshots.entry);
  if (snapshots.latest == snapshots.first_slot) snapshots.first_slot = -1;
  if (latest_snapshot_ == &snapshots.entry)
    latest_snapshot_ = &slot;
  else if (latest_snapshot_ == &slot)
    latest_snapshot_ = &snapshots.entry;
  snapshots.earlier_counts[snapshots.latest] = counts_;
  snapshots.earlier_known = std::min(snapshots.earlier_known + 1, kMaxPeriod);
  return snapshots.earlier[snapshots.latest];
}

void ScheduleCompiler::replay(const Replay& replay, const IterationOrigin& origin, StepSink& sink) {
  sink.replay(replay.before, replay.after);
  ++pending_version_;
  counts_ += replay.counts;
  emitted_ += replay.steps;
  l2_sequence_ += replay.l2_tiles;
  has_pending_ = replay.has_pending;
  pending_ = replay.pending;
  move_pending(pending_, origin, 1);
}

void ScheduleCompiler::move_pending(StepRecord& step, const IterationOrigin& origin,
                                    int direction) const {
  step.index += direction * emitted_;
  step.l2_sequence += direction * l2_sequence_;
  for (int d = 0; d < kNumDims; ++d) {
    step.l2_tile.origin[d] += direction * origin.l2_tile[d];
    step.l1_union.origin[d] += direction * origin.step[d];
    step.cluster_tile.origin[d] += direction * origin.step[d];
  }
}

namespace {

std::size_t hash_words(const std::vector<int64_t>& words) {
  // Keys are a few hundred words, hashed once per iteration: one multiply per word, in four
  // independent lanes so that the multiplies do not wait for each other.
  constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ull;
  const auto mix = [](uint64_t lane, int64_t word) {
    return (lane ^ static_cast<uint64_t>(word)) * kMultiplier;
  };
  // Written out, not a loop over the lanes: the compiler keeps them in registers then.
  uint64_t lane0 = words.size(), lane1 = 1, lane2 = 2, lane3 = 3;
  const int64_t* word = words.data();
  const int64_t* const end = word + words.size();
  for (; end - word >= 4; word += 4) {
    lane0 = mix(lane0, word[0]);
    lane1 = mix(lane1, word[1]);
    lane2 = mix(lane2, word[2]);
    lane3 = mix(lane3, word[3]);
  }
  for (; word != end; ++word) lane0 = mix(lane0, *word);
  uint64_t hash = lane0;
  for (const uint64_t lane : {lane1, lane2, lane3})
    hash = (((hash << 23) | (hash >> 41)) ^ lane) * kMultiplier;
  return static_cast<std::size_t>(hash ^ (hash >> 32));
}

}  // namespace

bool ScheduleCompiler::ends_in_edge(const Loop& loop) const {
  const int d = dim_index(loop.dim);
  return (loop.level == 0 ? l2_ends_in_edge_ : l1_ends_in_edge_)[d];
}

int64_t ScheduleCompiler::iteration_steps(std::size_t loop_position) const {
  // Full tiles' trip counts: edges only make an iteration shorter.
  const DimArray l1_trips = l1_split_.trips(l2_split_.child_tile);
  int64_t steps = 1;
  for (std::size_t inner = loop_position + 1; inner < loops_.size(); ++inner) {
    const int d = dim_index(loops_[inner].dim);
    steps = saturating_mul(steps, loops_[inner].level == 0 ? l2_trips_[d] : l1_trips[d]);
  }
  return steps;
}

ScheduleCompiler::IterationOrigin ScheduleCompiler::iteration_origin() const {
  IterationOrigin origin;
  for (int d = 0; d < kNumDims; ++d) {
    origin.l2_tile[d] = l2_index_[d] * l2_split_.step_extent(d);
    origin.step[d] = origin.l2_tile[d] + l1_index_[d] * l1_split_.step_extent(d);
  }
  return origin;
}

void ScheduleCompiler::replay_key(std::size_t loop_position, const SinkSnapshot& entry,
                                  ReplayKey& out) const {
  std::vector<int64_t>& key = out.words;
  key.clear();
  key.push_back(static_cast<int64_t>(loop_position));
  // What the enclosing loops' positions change inside an iteration: along a loop at its last
  // index with an edge, the tiles are edge tiles; while every reduction loop of a level is at
  // index zero no partial sums exist yet (only that conjunction matters: first_reduction_visit).
  std::array<bool, 2> reduction_at_zero = {true, true};  // per level: L2 loops, L1 loops
  for (std::size_t position = 0; position <= loop_position; ++position) {
    const Loop& loop = loops_[position];
    const int d = dim_index(loop.dim);
    const int64_t index = (loop.level == 0 ? l2_index_ : l1_index_)[d];
    const int64_t trips = (loop.level == 0 ? l2_trips_ : l1_trips_)[d];
    key.push_back(ends_in_edge(loop) && index == trips - 1 ? 1 : 0);
    const bool reduction = loop.dim == Dim::C || loop.dim == Dim::R || loop.dim == Dim::S;
    if (reduction && index != 0) reduction_at_zero[loop.level] = false;
  }
  key.insert(key.end(), {reduction_at_zero[0] ? 1 : 0, reduction_at_zero[1] ? 1 : 0});
  append_lookahead(key, loop_position);
  if (loop_position >= static_cast<std::size_t>(kNumDims))
    key.insert(key.end(), l2_tile_.size.begin(), l2_tile_.size.end());
  key.push_back(has_pending_ ? 1 : 0);
  if (has_pending_) append_pending(key, loop_position);
  key.insert(key.end(), entry.state.begin(), entry.state.end());
  out.hash = hash_words(key);
}

void ScheduleCompiler::append_lookahead(std::vector<int64_t>& key,
                                        std::size_t loop_position) const {
  // Only a step that starts an L2 tile posts a fetch: at an L1 loop, only the iteration that
  // holds the L2 tile's first step (every L1 index zero) posts one.
  const bool l1_loop = loop_position >= static_cast<std::size_t>(kNumDims);
  if (l1_loop && l1_index_ != DimArray{}) {
    key.push_back(-1);
    return;
  }
  // The iteration's last L2 tile: the L2 loops inside it at their last index.
  DimArray last_index = l2_index_;
  for (std::size_t position = loop_position + 1; position < static_cast<std::size_t>(kNumDims);
       ++position) {
    const int d = dim_index(loops_[position].dim);
    last_index[d] = l2_trips_[d] - 1;
  }
  DimArray next_index = last_index;
  if (!l2_split_.next_index(l2_trips_, next_index)) {
    key.push_back(-2);
    return;
  }
  const TileRange last_tile = l2_split_.first_unit(layer_range_, last_index);
  const TileRange next_tile = l2_split_.first_unit(layer_range_, next_index);
  AccessCounts counts;
  const TileFetch fetch = l2_fetch(0, &last_tile, next_tile, counts);
  key.insert(key.end(), {fetch.dram_read_bytes, fetch.late_dram_read_bytes});
  const int dram = static_cast<int>(CostLevel::Dram);
  key.insert(key.end(), counts.reads[dram].begin(), counts.reads[dram].end());
}

ScheduleCompiler::PendingAtEntry ScheduleCompiler::pending_at_entry() const {
  PendingAtEntry pending{has_pending_, {}};
  if (has_pending_) {
    pending.step = pending_;
    move_pending(pending.step, iteration_origin(), -1);
  }
  return pending;
}

bool ScheduleCompiler::pending_repeats(const LoopSnapshots& snapshots, int slot) const {
  return slot != snapshots.first_slot || same_pending(pending_at_entry(), snapshots.first_pending);
}

bool ScheduleCompiler::same_pending(const PendingAtEntry& a, const PendingAtEntry& b) {
  if (a.has_pending != b.has_pending) return false;
  if (!a.has_pending) return true;
  const auto fields = [](const StepRecord& step) {
    return std::tie(step.index, step.l2_sequence, step.ends_l2_tile, step.dram_write_bytes,
                    step.fill.noc, step.fill.from_dram, step.late_fill.noc,
                    step.late_fill.from_dram, step.late_fill_has_outputs, step.noc_out_bytes,
                    step.compute_cycles, step.fill_stall_cycles, step.cluster_output_words,
                    step.output_tree_links, step.output_tree_cycles, step.l2_tile.origin,
                    step.l2_tile.size, step.l1_union.origin, step.l1_union.size,
                    step.cluster_tile.origin, step.cluster_tile.size);
  };
  return fields(a.step) == fields(b.step);
}

void ScheduleCompiler::append_pending(std::vector<int64_t>& key, std::size_t loop_position) const {
  PendingWordsMemo& memo = pending_words_memo_;
  if (memo.valid && memo.pending_version == pending_version_ && memo.l2_index == l2_index_ &&
      memo.l1_index == l1_index_) {
    key.insert(key.end(), memo.words.begin(), memo.words.end());
    return;
  }
  const std::size_t start = key.size();
  // The iteration's first step: inner loops at index zero.
  TileRange l2_tile = l2_tile_;
  if (loop_position < static_cast<std::size_t>(kNumDims))
    l2_tile = l2_split_.first_unit(layer_range_, l2_index_);
  const StepUnits clusters = l1_split_.step_units(l2_tile, l1_index_);
  const PendingRelation relation = relate_pending(l2_tile, clusters, bypass_pes(clusters.first));
  key.insert(key.end(), {relation.new_l2_tile ? 1 : 0, relation.outputs_leave_l1 ? 1 : 0,
                         relation.outputs_leave_l2 ? 1 : 0, relation.stationary_held ? 1 : 0,
                         relation.kept_in_l0});
  for (const auto* held : {&relation.l1_union_held, &relation.cluster_held, &relation.pe_held})
    key.insert(key.end(), held->begin(), held->end());
  // What the first step does with the pending one: evicts its outputs (so the sizes of its
  // output tiles and the reduction they go through count, as far as they are evicted) and
  // hands it to the sink (its timing).
  const StepRecord& step = pending_;
  if (relation.outputs_leave_l1) {
    key.insert(key.end(), {footprint_elements(layer_, step.l1_union.size, Tensor::Output),
                           step.cluster_output_words, step.output_tree_links});
  }
  if (relation.new_l2_tile && relation.outputs_leave_l2)
    key.push_back(footprint_elements(layer_, step.l2_tile.size, Tensor::Output));
  key.insert(key.end(),
             {step.index - emitted_, step.l2_sequence - l2_sequence_, step.ends_l2_tile ? 1 : 0,
              step.dram_write_bytes, step.fill.noc, step.fill.from_dram, step.late_fill.noc,
              step.late_fill.from_dram, step.late_fill_has_outputs ? 1 : 0, step.noc_out_bytes,
              step.compute_cycles, step.fill_stall_cycles, step.output_tree_cycles});
  memo.words.assign(key.begin() + static_cast<std::ptrdiff_t>(start), key.end());
  memo.pending_version = pending_version_;
  memo.l2_index = l2_index_;
  memo.l1_index = l1_index_;
  memo.valid = true;
}

void ScheduleCompiler::shift_pending(int level, Dim dim, int64_t iterations) {
  // The pending step was the last of the last simulated iteration; after skipping it stands for
  // the last step of the last skipped one, `iterations` tiles further along `dim`.
  ++pending_version_;
  const int d = dim_index(dim);
  const int64_t extent = (level == 0 ? l2_split_ : l1_split_).step_extent(d);
  if (level == 0) pending_.l2_tile.origin[d] += iterations * extent;
  pending_.l1_union.origin[d] += iterations * extent;
  pending_.cluster_tile.origin[d] += iterations * extent;
}

void ScheduleCompiler::emit(StepSink& sink) {
  ++pending_version_;
  StepRecord step;
  step.l2_tile = l2_tile_;
  const StepUnits clusters = l1_split_.step_units(l2_tile_, l1_index_);
  step.l1_union = clusters.span();
  const int64_t active_clusters = clusters.active;
  const TileRange& cluster_tile = clusters.first;
  cluster_footprints_.use(clusters);
  auto per_cluster = [&](Tensor tensor) {
    return cluster_footprints_.get(layer_, clusters, tensor, k_origins_.cluster);
  };

  const StepUnits pes = bypass_pes(cluster_tile);
  if (l1_bypass_bits_ != 0) pe_footprints_.use(pes);
  const PendingRelation relation = relate_pending(l2_tile_, clusters, pes);
  const bool new_l2_tile = relation.new_l2_tile;
  if (new_l2_tile) {
    ++l2_sequence_;
    if (!has_pending_) sink.prefetch(l2_fetch(l2_sequence_, nullptr, l2_tile_, counts_));
    // Post the fetch of the following L2 tile now, so it overlaps this tile's work.
    DimArray next_index = l2_index_;
    if (l2_split_.next_index(l2_trips_, next_index)) {
      const TileRange next_tile = l2_split_.first_unit(layer_range_, next_index);
      sink.prefetch(l2_fetch(l2_sequence_ + 1, &l2_tile_, next_tile, counts_));
    }
  }
  step.l2_sequence = l2_sequence_;
  // Where each tensor lands: the PEs' L0s when it bypasses L1, else the cluster's L1.
  std::array<SpareSpace, 2> spare = {spare_[1], spare_[2]};
  for (Tensor tensor : {Tensor::Input, Tensor::Weight, Tensor::Output}) {
    // L2 -> L1 over the NoC, once per step for data the clusters share; what the clusters still
    // hold from the previous step (the same tile, or a sliding window's shared rows) stays.
    const int t = static_cast<int>(tensor);
    const int64_t words =
        footprint_elements(layer_, step.l1_union.size, tensor, k_origins_.clusters) -
        relation.l1_union_held[t];
    if (words > 0 && (tensor != Tensor::Output || !first_reduction_visit(step.l1_union))) {
      const int64_t cluster_held = relation.cluster_held[t];
      const bool into_pes = flag_of(arch_.l1_bypass, tensor);
      // A PE keeps what its previous tile shares with this one.
      const int64_t unit_words =
          into_pes ? footprint_elements(layer_, pes.first.size, tensor, k_origins_.pe) -
                         relation.pe_held[t]
                   : footprint_elements(layer_, cluster_tile.size, tensor, k_origins_.cluster) -
                         cluster_held;
      const bool early = flag_of(arch_.double_buffered, tensor) ||
                         spare[into_pes ? 1 : 0].claim(tensor, bytes(unit_words));
      FillBytes& phase = early ? step.fill : step.late_fill;
      if (!early && tensor == Tensor::Output) step.late_fill_has_outputs = true;
      phase.noc = saturating_add(phase.noc, bytes(words));
      if (flag_of(arch_.l2_bypass, tensor))
        phase.from_dram = saturating_add(phase.from_dram, bytes(words));
      add_access(counts_, home_above_noc(tensor), tensor, words, 0);
      add_access(counts_, CostLevel::Noc, tensor, words, 0);
      add_link_words(counts_, tensor, words, tree_links(sharing_clusters(clusters, tensor)));
      if (into_pes) {
        add_l0_deliveries(tensor, clusters, pes, unit_words);
      } else {
        add_access(counts_, CostLevel::L1, tensor, 0,
                   std::max<int64_t>(0, per_cluster(tensor) - active_clusters * cluster_held));
      }
    }
  }
  if (has_pending_) {
    // The previous step's outputs leave L1 (and L2) once this step works on other outputs.
    if (relation.outputs_leave_l1) evict_l1_outputs();
    if (new_l2_tile) {
      pending_.ends_l2_tile = true;
      if (relation.outputs_leave_l2) evict_l2_outputs();
    }
    sink.consume(pending_);
  }

  step.cluster_output_words = per_cluster(Tensor::Output);
  step.output_tree_links = tree_links(sharing_clusters(clusters, Tensor::Output));
  step.output_tree_cycles = reduction_tree_cycles(clusters);
  step.cluster_tile = cluster_tile;
  const BurstCost& cost = burst(cluster_tile, relation.kept_in_l0 | l1_bypass_bits_);
  counts_.add_scaled(cost.counts, active_clusters);
  if (arch_.systolic) {
    // Each row stream is one pass of the step's folds: its MACs and its skews.
    step.compute_cycles = saturating_mul(
        column_streams(clusters, step.l1_union),
        saturating_add(cost.mac_cycles,
                       systolic_skew_cycles(cluster_tile, relation.stationary_held)));
  } else {
    step.compute_cycles = cost.cycles;
    step.fill_stall_cycles = cost.fill_stall_cycles;
  }
  step.index = emitted_++;
  pending_ = step;
  has_pending_ = true;
}

void ScheduleCompiler::evict_l1_outputs() {
  const int64_t words = footprint_elements(layer_, pending_.l1_union.size, Tensor::Output);
  pending_.noc_out_bytes = bytes(words);
  // Each cluster reads its own partial sums out of L1; the tree reduces them on the way.
  add_access(counts_, CostLevel::L1, Tensor::Output, pending_.cluster_output_words, 0);
  add_access(counts_, CostLevel::Noc, Tensor::Output, 0, words);
  add_link_words(counts_, Tensor::Output, words, pending_.output_tree_links);
  add_access(counts_, home_above_noc(Tensor::Output), Tensor::Output, 0, words);
}

CostLevel ScheduleCompiler::home_above_noc(Tensor tensor) const {
  return flag_of(arch_.l2_bypass, tensor) ? CostLevel::Dram : CostLevel::L2;
}

void ScheduleCompiler::evict_l2_outputs() {
  if (flag_of(arch_.l2_bypass, Tensor::Output)) return;
  const int64_t words = footprint_elements(layer_, pending_.l2_tile.size, Tensor::Output);
  pending_.dram_write_bytes = bytes(words);
  add_access(counts_, CostLevel::L2, Tensor::Output, words, 0);
  add_access(counts_, CostLevel::Dram, Tensor::Output, 0, words);
}

void ScheduleCompiler::finish(StepSink& sink) {
  if (!has_pending_) return;
  ++pending_version_;
  evict_l1_outputs();
  pending_.ends_l2_tile = true;
  evict_l2_outputs();
  sink.consume(pending_);
  has_pending_ = false;
}

Tensor ScheduleCompiler::stationary_tensor() const {
  // The tensor that stays in the cells while the innermost PE loop that actually iterates runs:
  // weights under a weight-stationary order (pixels innermost), outputs under an
  // output-stationary one (reductions innermost), inputs under an input-stationary one.
  const LevelMapping& pe_level = dataflow_.levels[kNumLevels - 1];
  const LevelMapping& cluster_level = dataflow_.levels[kNumLevels - 2];
  for (auto position = pe_level.order.rbegin(); position != pe_level.order.rend(); ++position) {
    const int d = dim_index(*position);
    const int64_t pe_share = ceil_div(cluster_level.tile[d], cluster_level.fanout[d]);
    if (ceil_div(pe_share, pe_level.fanout[d]) <= 1) continue;
    for (Tensor tensor : {Tensor::Weight, Tensor::Output, Tensor::Input})
      if (!tensor_uses_dim(layer_, tensor, *position)) return tensor;
    return Tensor::Weight;
  }
  // No PE loop iterates, so each cell does one MAC per step and the order names no stationary
  // operand; the array's shape does. A word can flow along a row or a column only when every
  // cell it passes needs it, so the operand that differs along both the rows and the columns in
  // use has to sit in the cells (inputs when the rows carry the reduction and the columns output
  // pixels, as in SCALE-Sim's IS with a single filter).
  std::array<DimMask, 2> on_axis{};  // rows, cols
  for (int level = 0; level < kNumLevels - 1; ++level)
    for (const Dim dim : kAllDims)
      if (dataflow_.levels[level].fanout[dim_index(dim)] > 1)
        on_axis[dataflow_.levels[level].resolved_axis(level, dim) == Axis::Rows ? 0 : 1] |=
            DimMask{1} << dim_index(dim);
  for (Tensor tensor : {Tensor::Weight, Tensor::Output, Tensor::Input}) {
    const DimMask uses = tensor_dim_mask(layer_, tensor);
    if ((uses & on_axis[0]) != 0 && (uses & on_axis[1]) != 0) return tensor;
  }
  return Tensor::Weight;
}

int64_t ScheduleCompiler::systolic_skew_cycles(const TileRange& cluster_tile,
                                               bool stationary_held) const {
  // SCALE-Sim's fold (Samajdar et al., arXiv 1811.02883): every block of stationary data the
  // cells hold costs its load plus the skewed fill and drain, 2 x rows + cols - 2 cycles, on top
  // of the streamed MACs. Rows and cols are the physical array's, however few of them a fold
  // occupies: the stationary data shift in through the whole height (a partial block padded
  // with zeros), operands pass the skew registers at one edge and results the de-skew registers
  // at the far edge, and those are sized for the full array. SCALE-Sim's cycle model likewise
  // pads every partial fold to the full array.
  // A PE whose share of the step holds several stationary elements runs one fold per element.
  DimArray pe_share;
  for (int d = 0; d < kNumDims; ++d)
    pe_share[d] = ceil_div(cluster_tile.size[d], l0_split_.fanout[d]);
  const int64_t folds = footprint_elements(layer_, pe_share, stationary_);
  // The first fold is free when the cells already hold it from the previous step.
  const bool held = folds == 1 && stationary_held;
  const int64_t skew = 2 * arch_.array_rows + arch_.array_cols - 2;
  return held ? 0 : saturating_mul(folds, skew);
}

int64_t ScheduleCompiler::column_streams(const StepUnits& clusters,
                                         const TileRange& l1_union) const {
  // In each of SCALE-Sim's dataflows one operand enters at the array's left edge and flows along
  // a row past every column (inputs under WS and OS, weights under IS), so the columns working
  // at once all see the same stream. A grouped layer's filter reads only its own group's input
  // channels (and under IS a cell's stationary input meets only its own group's filters), so
  // columns holding filters of different groups cannot share a row's stream: each group takes
  // its turn, as SCALE-Sim runs a grouped layer as one GEMM per group. Only K decides a group,
  // so only the column units along K count; a layer without groups has one stream.
  if (layer_.groups <= 1) return 1;
  const int k = dim_index(Dim::K);
  // Innermost column level first: the PEs of a cluster along K (L1 fan-out), then the clusters
  // (L2 fan-out). At one instant the units along K of a level sit one share apart, so they meet
  // at most one group each and at most the groups their union spans. groups_spanned depends on
  // sizes only, so repeating steps cost the same (steady state); it is exact when K tiles align
  // with groups (always for depthwise layers) and an upper bound otherwise.
  const DimArray first_pes{};
  const int64_t pes_along_k = l0_split_.active_per_dim(clusters.first, first_pes)[k];
  const int64_t pe_union_k = l0_split_.step_union(clusters.first, first_pes).size[k];
  // Per level (1: PEs, 0: clusters): its units along K and their union's K extent.
  const std::array<std::array<int64_t, 2>, 2> along_k = {
      {{clusters.active_per_dim[k], l1_union.size[k]}, {pes_along_k, pe_union_k}}};
  int64_t streams = 1;
  for (int level = 1; level >= 0; --level) {
    if (dataflow_.levels[level].resolved_axis(level, Dim::K) != Axis::Cols) continue;
    const auto [units, union_k] = along_k[level];
    streams = std::min(saturating_mul(streams, units), groups_spanned(layer_, union_k));
  }
  return streams;
}

int64_t ScheduleCompiler::tree_links(int64_t clusters) const {
  // A binary tree over the clusters, one link from L2 into its root. A word for m clusters goes
  // down to the root of the smallest subtree holding them (depth - ceil(log2 m) links), then
  // branches: ceil(m / 2^j) links on each of the subtree's ceil(log2 m) levels.
  const int64_t subtree_depth = ceil_log2(clusters);
  int64_t links = 1 + std::max<int64_t>(0, noc_tree_depth_ - subtree_depth);
  for (int64_t j = 0, width = clusters; j < subtree_depth; ++j, width = ceil_div(width, 2))
    links = saturating_add(links, width);
  return links;
}

int64_t ScheduleCompiler::reduction_tree_cycles(const StepUnits& units) const {
  // Units that differ only along reduction dims (C, R, S) hold partial sums of the same outputs;
  // an adder tree sums them on their way out, ceil(log2 fan-out) levels. It is pipelined, so a
  // drain pays the levels once, not per word. A systolic array reduces along its columns
  // instead, inside the fold's skew.
  return arch_.systolic ? 0 : ceil_log2(sharing_clusters(units, Tensor::Output));
}

int64_t ScheduleCompiler::sharing_clusters(const StepUnits& clusters, Tensor tensor) const {
  const DimMask dims = tensor_dim_mask(layer_, tensor);
  int64_t sharing = 1;
  for (int d = 0; d < kNumDims; ++d)
    if (((dims >> d) & 1u) == 0) sharing = saturating_mul(sharing, clusters.active_per_dim[d]);
  return sharing;
}

int64_t ScheduleCompiler::bytes(int64_t elements) const {
  return saturating_mul(elements, arch_.word_bytes);
}

StepUnits ScheduleCompiler::bypass_pes(const TileRange& cluster_tile) const {
  if (l1_bypass_bits_ == 0) return StepUnits{};
  if (!pes_memo_.valid || pes_memo_.cluster_size != cluster_tile.size) {
    pes_memo_.pes = l0_split_.step_units(TileRange{DimArray{}, cluster_tile.size}, DimArray{});
    pes_memo_.cluster_size = cluster_tile.size;
    pes_memo_.valid = true;
  }
  StepUnits pes = pes_memo_.pes;
  for (int d = 0; d < kNumDims; ++d) {
    pes.first.origin[d] += cluster_tile.origin[d];
    pes.last.origin[d] += cluster_tile.origin[d];
  }
  return pes;
}

ScheduleCompiler::PendingRelation ScheduleCompiler::relate_pending(const TileRange& l2_tile,
                                                                   const StepUnits& clusters,
                                                                   const StepUnits& pes) const {
  if (!has_pending_) return PendingRelation{};
  const TileRange l1_union = clusters.span();
  // The new step's union starts where its first cluster tile does, so only their sizes count.
  RelationMemo::Key key;
  std::size_t word = 0;
  for (const TileRange* pending_tile : {&pending_.l1_union, &pending_.cluster_tile})
    for (int d = 0; d < kNumDims; ++d) {
      key[word++] = pending_tile->origin[d] - clusters.first.origin[d];
      key[word++] = pending_tile->size[d];
    }
  for (int d = 0; d < kNumDims; ++d) {
    key[word++] = l1_union.size[d];
    key[word++] = clusters.first.size[d];
  }
  RelationMemo& memo = relation_memo_;
  std::size_t entry = 0;
  while (entry < memo.filled && memo.keys[entry] != key) ++entry;
  if (entry == memo.filled) {
    entry = memo.next;
    memo.next = (memo.next + 1) % RelationMemo::kEntries;
    memo.filled = std::max(memo.filled, entry + 1);
    memo.keys[entry] = key;
    memo.relations[entry] = relate_below_l2(l1_union, clusters, pes);
  }
  PendingRelation relation = memo.relations[entry];
  relation.new_l2_tile = pending_.l2_tile.origin != l2_tile.origin;
  relation.outputs_leave_l2 = !same_tensor_tile(layer_, Tensor::Output, pending_.l2_tile, l2_tile);
  return relation;
}

ScheduleCompiler::PendingRelation ScheduleCompiler::relate_below_l2(const TileRange& l1_union,
                                                                    const StepUnits& clusters,
                                                                    const StepUnits& pes) const {
  PendingRelation relation;
  const TileRange& cluster_tile = clusters.first;
  relation.outputs_leave_l1 =
      !same_tensor_tile(layer_, Tensor::Output, pending_.l1_union, l1_union);
  if (arch_.systolic)
    relation.stationary_held = same_tensor_tile(layer_, stationary_, pending_.l1_union, l1_union);
  relation.kept_in_l0 = operands_kept_in_l0(cluster_tile);
  // The PEs' L0 tiles hold their whole share of the step (the legality check ties them), so the
  // first PE's previous tile shows what every PE keeps.
  const bool into_pes = l1_bypass_bits_ != 0;
  TileRange previous_pe_tile;
  if (into_pes) previous_pe_tile = l0_split_.first_unit(pending_.cluster_tile, DimArray{});
  for (Tensor tensor : {Tensor::Input, Tensor::Weight, Tensor::Output}) {
    const int t = static_cast<int>(tensor);
    relation.l1_union_held[t] =
        held_elements(layer_, tensor, pending_.l1_union, l1_union, k_origins_.clusters);
    relation.cluster_held[t] =
        held_elements(layer_, tensor, pending_.cluster_tile, cluster_tile, k_origins_.cluster);
    if (into_pes)
      relation.pe_held[t] =
          held_elements(layer_, tensor, previous_pe_tile, pes.first, k_origins_.pe);
  }
  return relation;
}

void ScheduleCompiler::add_l0_deliveries(Tensor tensor, const StepUnits& clusters,
                                         const StepUnits& pes, int64_t pe_new) {
  const int64_t pe_held =
      footprint_elements(layer_, pes.first.size, tensor, k_origins_.pe) - pe_new;
  const int64_t per_cluster = std::max<int64_t>(
      0, pe_footprints_.get(layer_, pes, tensor, k_origins_.pe) - pes.active * pe_held);
  add_access(counts_, CostLevel::L0, tensor, 0, saturating_mul(clusters.active, per_cluster));
}

int ScheduleCompiler::operands_kept_in_l0(const TileRange& cluster_tile) const {
  // An operand that bypasses L1 is never filled by a burst, so whether it is kept is moot (the
  // caller sets its bit anyway): when both bypass there is nothing to find out.
  const int filled_operands = kOperandBits & ~l1_bypass_bits_;
  if (!has_pending_ || filled_operands == 0) return 0;
  const TileRange& previous_tile = pending_.cluster_tile;
  const TileRange last_union =
      l0_split_.step_union(previous_tile, l0_split_.last_index(previous_tile.size));
  const TileRange first_union = l0_split_.step_union(cluster_tile, DimArray{});
  int kept = 0;
  for (Tensor tensor : kOperands) {
    const int bit = 1 << static_cast<int>(tensor);
    if ((filled_operands & bit) != 0 && same_tensor_tile(layer_, tensor, last_union, first_union))
      kept |= bit;
  }
  return kept;
}

const BurstCost& ScheduleCompiler::burst(const TileRange& cluster_tile, int kept_in_l0) {
  const auto key =
      std::make_tuple(cluster_tile.size, first_reduction_visit(cluster_tile), kept_in_l0);
  // Consecutive steps mostly share their burst: try the last one before searching the memo.
  if (last_burst_ != burst_memo_.end() && last_burst_->first == key) return last_burst_->second;
  auto found = burst_memo_.find(key);
  if (found == burst_memo_.end())
    found = burst_memo_.emplace(key, compute_burst(cluster_tile, kept_in_l0)).first;
  last_burst_ = found;
  return found->second;
}

BurstCost ScheduleCompiler::compute_burst(const TileRange& cluster_tile, int kept_in_l0) const {
  // One cluster's L0 loop nest. Per L0 step: fills of operands whose L0 tile moved and partial
  // sums read back, over the cluster bus (multicast to the PEs that share them), then the MACs
  // of the busiest PE. With double buffering the fill of step i+1 overlaps the MACs of step i;
  // the bus carries one transfer at a time.
  BurstCost cost;
  const LevelMapping& lanes = dataflow_.levels[2];
  const DimArray trips = l0_split_.trips(cluster_tile.size);
  DimArray index{};
  TileRange previous_union, previous_pe_tile;
  int64_t previous_pe_outputs = 0, previous_tree_cycles = 0;
  bool first = true;
  int64_t fill_done = 0, compute_done = 0, compute_done_before = 0;
  do {
    const StepUnits pes = l0_split_.step_units(cluster_tile, index);
    const TileRange step_union = pes.span();
    const TileRange& pe_tile = pes.first;
    auto per_pe = [&](Tensor tensor) {
      return units_footprint(layer_, pes, tensor, k_origins_.pe);
    };
    // Bus words per phase: [0] double-buffered tensors, [1] single-buffered ones.
    std::array<int64_t, 2> bus_words{};
    const auto add_bus_words = [&](Tensor tensor, int64_t words) {
      int64_t& phase = bus_words[flag_of(arch_.double_buffered, tensor) ? 0 : 1];
      phase = saturating_add(phase, words);
    };
    for (Tensor tensor : kOperands) {
      const bool kept = first && (kept_in_l0 & (1 << static_cast<int>(tensor))) != 0;
      const int64_t words =
          footprint_elements(layer_, step_union.size, tensor, k_origins_.pes) -
          (first ? 0 : held_elements(layer_, tensor, previous_union, step_union, k_origins_.pes));
      if (!kept && words > 0) {
        const int64_t pe_held =
            first ? 0 : held_elements(layer_, tensor, previous_pe_tile, pe_tile, k_origins_.pe);
        add_bus_words(tensor, words);
        add_access(cost.counts, CostLevel::L1, tensor, words, 0);
        add_access(cost.counts, CostLevel::L0, tensor, 0,
                   std::max<int64_t>(0, per_pe(tensor) - pes.active * pe_held));
      }
    }
    const bool new_outputs =
        first || !same_tensor_tile(layer_, Tensor::Output, previous_union, step_union);
    int64_t tree_cycles = 0;
    if (new_outputs && !first) {
      // The PEs read their partial sums out of L0; reduced, they are written to L1.
      const int64_t words = footprint_elements(layer_, previous_union.size, Tensor::Output);
      add_bus_words(Tensor::Output, words);
      tree_cycles = previous_tree_cycles;
      add_access(cost.counts, CostLevel::L0, Tensor::Output, previous_pe_outputs, 0);
      add_access(cost.counts, CostLevel::L1, Tensor::Output, 0, words);
    }
    if (new_outputs && !first_reduction_visit(step_union)) {
      const int64_t words = footprint_elements(layer_, step_union.size, Tensor::Output);
      add_bus_words(Tensor::Output, words);
      add_access(cost.counts, CostLevel::L1, Tensor::Output, words, 0);
      add_access(cost.counts, CostLevel::L0, Tensor::Output, 0, per_pe(Tensor::Output));
    }
    int64_t mac_cycles = 1;
    for (int d = 0; d < kNumDims; ++d)
      mac_cycles = saturating_mul(mac_cycles, ceil_div(pe_tile.size[d], lanes.fanout[d]));
    // A fill may start once the bus is free and its buffer slot is: a double-buffered tensor's
    // once step i-2 is done, a single-buffered one's once step i-1 is. Partial sums pass their
    // adder tree on the way, in the outputs' phase.
    const int output_phase = flag_of(arch_.double_buffered, Tensor::Output) ? 0 : 1;
    for (int phase = 0; phase < 2; ++phase) {
      if (bus_words[phase] == 0) continue;
      const int64_t cycles =
          saturating_add(transfer_cycles(bytes(bus_words[phase]), arch_.l1_bandwidth),
                         phase == output_phase ? tree_cycles : 0);
      fill_done = saturating_add(
          std::max(fill_done, phase == 0 ? compute_done_before : compute_done), cycles);
    }
    const int64_t start = std::max(fill_done, compute_done);
    cost.fill_stall_cycles = saturating_add(cost.fill_stall_cycles, start - compute_done);
    compute_done_before = compute_done;
    compute_done = saturating_add(start, mac_cycles);
    cost.mac_cycles = saturating_add(cost.mac_cycles, mac_cycles);
    previous_union = step_union;
    previous_pe_tile = pe_tile;
    previous_pe_outputs = per_pe(Tensor::Output);
    previous_tree_cycles = reduction_tree_cycles(pes);
    first = false;
    ++cost.l0_steps;
  } while (l0_split_.next_index(trips, index));
  // Final partial sums go back to L1 after the last MAC leaves the pipeline.
  const int64_t out_words = footprint_elements(layer_, previous_union.size, Tensor::Output);
  add_access(cost.counts, CostLevel::L0, Tensor::Output, previous_pe_outputs, 0);
  add_access(cost.counts, CostLevel::L1, Tensor::Output, 0, out_words);
  const int64_t drain =
      saturating_add(transfer_cycles(bytes(out_words), arch_.l1_bandwidth), previous_tree_cycles);
  cost.cycles = saturating_add(saturating_add(compute_done, arch_.mac_pipeline_depth), drain);
  return cost;
}

}  // namespace dcp::sim
