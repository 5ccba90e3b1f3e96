#pragma once
// Schedule compiler: turns (layer, arch, dataflow) into the stream of L1 steps the event model
// consumes. An L1 step is one iteration of the L1 loops: every active cluster receives its L1
// tile over the NoC and runs a compute burst on it. Reuse follows from comparing tile coordinates
// with the previous step: a tensor whose tile did not move is not fetched again. Multicast and
// spatial reduction follow from the union tile of a step: data shared by clusters moves once.
#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace dcp::sim {

// Levels of a binary tree with `value` leaves: the smallest b with 2^b >= value.
int64_t ceil_log2(int64_t value);
// Whole cycles to move `bytes` at `bytes_per_cycle`.
int64_t transfer_cycles(int64_t bytes, double bytes_per_cycle);

struct TileRange {
  DimArray origin{};
  DimArray size{};
};

// Same tile of `tensor`: equal origin and size on every dim the tensor depends on.
bool same_tensor_tile(const Layer& layer, Tensor tensor, const TileRange& a, const TileRange& b);
// Elements of `tensor` in `next` that a buffer holding `previous` already has: all of them for
// the same tile, an input tile's rows and columns shared with its neighbour along Y or X (the
// sliding window's halo), none otherwise. `origin` says where the tiles' K ranges may start, as
// footprint_elements takes it.
int64_t held_elements(const Layer& layer, Tensor tensor, const TileRange& previous,
                      const TileRange& next, KOrigin origin = KOrigin::Anywhere);
// First visit of an output tile: all its reduction coordinates (C, R, S) start at zero, so no
// partial sum exists yet to be read back.
bool first_reduction_visit(const TileRange& range);

// The units working in one step: the first (the busiest: edge tiles come last), the last (the
// last active unit along every spatial dim), and how many are active, per dim and in all.
struct StepUnits {
  TileRange first;
  TileRange last;
  DimArray active_per_dim = kUnitDims;
  int64_t active = 0;
  // The tile they cover together, LevelSplit::step_union without recomputing it: from the first
  // unit's origin to the last one's end along every dim.
  TileRange span() const;
};
// Elements of `tensor` that all active units of a step hold together (each its own copy), their
// K ranges starting at `origin`.
int64_t units_footprint(const Layer& layer, const StepUnits& units, Tensor tensor, KOrigin origin);
// units_footprint for the latest units' sizes, which consecutive steps mostly share; it depends
// on nothing else. A step calls use() once with its units, then get() per tensor. A memo serves
// one level's units, so every get() passes the same `origin` (that level's k_origin).
class UnitsFootprintMemo {
 public:
  void use(const StepUnits& units);
  int64_t get(const Layer& layer, const StepUnits& units, Tensor tensor, KOrigin origin);

 private:
  DimArray first_size_{};
  DimArray last_size_{};
  DimArray active_per_dim_{};
  std::array<int64_t, kNumTensors> elements_{};
  std::array<bool, kNumTensors> known_{};
};

// How a parent range splits at one level: temporal loops over child tiles, each spatial dim d
// advancing `fanout[d]` child tiles per iteration (one per unit along d).
struct LevelSplit {
  DimArray child_tile{};
  DimArray fanout = kUnitDims;
  std::array<Dim, kNumDims> order = kAllDims;

  // The split below `level`: level 0 walks the layer in L2 tiles (no fan-out), level 1 walks an
  // L2 tile in L1 tiles over the L2 fan-out's clusters, level 2 an L1 tile in L0 tiles over the
  // L1 fan-out's PEs.
  static LevelSplit below(const Dataflow& dataflow, int level);
  // A PE's L0 tile over its MAC lanes: each lane's share is one element step of the L0 fan-out.
  static LevelSplit lanes(const Dataflow& dataflow);
  int64_t units() const;
  // Temporal trip count per dim over a parent of `parent_size`.
  DimArray trips(const DimArray& parent_size) const;
  // How far one step advances along dim d: a child tile per unit.
  int64_t step_extent(int d) const { return child_tile[d] * fanout[d]; }
  // The index of the last step over a parent of `parent_size`: trips - 1 per dim.
  DimArray last_index(const DimArray& parent_size) const;
  // Per dim, whether the last step over a parent of `parent_size` is an edge one (the parent does
  // not divide into whole steps).
  std::array<bool, kNumDims> edge_flags(const DimArray& parent_size) const;
  // Tile of spatial unit `unit` (mixed radix over the fan-outs, K fastest) at temporal index
  // `index`; false if that unit idles.
  bool unit_range(const TileRange& parent, const DimArray& index, int64_t unit,
                  TileRange& range) const;
  // Union over the units of one step, and how many units are active.
  TileRange step_union(const TileRange& parent, const DimArray& index) const;
  DimArray active_per_dim(const TileRange& parent, const DimArray& index) const;
  int64_t active_units(const TileRange& parent, const DimArray& index) const;
  StepUnits step_units(const TileRange& parent, const DimArray& index) const;
  // The first unit's tile of a step (StepUnits::first, without the other units).
  TileRange first_unit(const TileRange& parent, const DimArray& index) const;
  // Advances `index` in loop order (innermost fastest); returns false after the last step.
  bool next_index(const DimArray& trips, DimArray& index) const;

 private:
  bool range_at(const TileRange& parent, const DimArray& index, const DimArray& coordinates,
                TileRange& range) const;
};

// What one cluster's compute burst on an L1 tile costs: L1 -> L0 fills over the cluster bus,
// double-buffered against the MAC pipeline, and partial sums written back to L1.
struct BurstCost {
  int64_t cycles = 0;
  int64_t mac_cycles = 0;         // the busiest PE's MAC cycles alone
  int64_t fill_stall_cycles = 0;  // MACs idle while waiting for L0 fills
  AccessCounts counts;            // L1 and L0 accesses of one cluster
  int64_t l0_steps = 0;
};

// DRAM -> L2 fetch of one L2 tile. Posted when the tile before it starts, so that the
// double-buffered tensors' part overlaps that tile's work; the single-buffered tensors' part
// waits until that tile is done with.
struct TileFetch {
  int64_t l2_sequence = 0;           // which L2 tile (counting only those walked, not skipped)
  int64_t dram_read_bytes = 0;       // double-buffered tensors
  int64_t late_dram_read_bytes = 0;  // single-buffered tensors
};

// One phase of an L1 fill: `noc` bytes cross the NoC, `from_dram` of them straight from DRAM
// (tensors that bypass L2), the rest from the global buffer.
struct FillBytes {
  int64_t noc = 0;
  int64_t from_dram = 0;
};

struct StepRecord {
  int64_t index = 0;  // position in the walked step stream
  int64_t l2_sequence = 0;
  bool ends_l2_tile = false;
  int64_t dram_write_bytes = 0;  // after this step: outputs evicted from L2
  // L2 -> L1 before this step (multicast counted once): double-buffered tensors may arrive while
  // the previous step computes, single-buffered ones (`late_fill`) once it no longer needs
  // their space: operands once its MACs are done, partial sums once it has drained.
  FillBytes fill, late_fill;
  bool late_fill_has_outputs = false;
  // L1 -> L2 after this step (partial sums, reduced in the NoC); straight to DRAM when outputs
  // bypass L2.
  int64_t noc_out_bytes = 0;
  int64_t compute_cycles = 0;  // the cluster burst
  int64_t fill_stall_cycles = 0;
  int64_t cluster_output_words = 0;  // partial sums held in the clusters' L1s
  int64_t output_tree_links = 0;     // links each reduced output word crosses on its way to L2
  int64_t output_tree_cycles = 0;    // adder-tree levels the partial sums pass on that way
  // Coordinates, used to derive reuse for the next step.
  TileRange l2_tile;
  TileRange l1_union;
  TileRange cluster_tile;  // the first (busiest) cluster's tile
};

// The sink's state at a loop-iteration boundary. `state` is everything that decides its future
// timing, relative to `time` and to how many steps and L2 tiles it had received; `totals` are
// its cumulative counters.
struct SinkSnapshot {
  int64_t time = 0;
  std::vector<int64_t> state;
  std::vector<int64_t> totals;
  int64_t steps_received = 0;
  int64_t tiles_received = 0;
};

// Receives the step stream. snapshot/advance let the walker skip repeating loop iterations: when
// an iteration starts in the state one a few iterations earlier started in, advance() accounts
// `times` more such periods, each costing what happened between the two snapshots. settle/replay
// let it reuse an iteration it has seen: one that starts in a state seen before, with the same
// steps to come, ends as that one did, and replay() puts the sink in that end state.
class StepSink {
 public:
  virtual ~StepSink() = default;
  virtual void prefetch(const TileFetch& fetch) = 0;
  virtual void consume(const StepRecord& step) = 0;
  // Lets everything due at the current moment happen, so that the state a snapshot then records
  // can be loaded back. Called at every iteration boundary, whether or not iterations are
  // skipped, so that both walks see the same moments.
  virtual void settle() = 0;
  // Fills `snapshot` (reusing its vectors' room).
  virtual void snapshot(SinkSnapshot& snapshot) = 0;
  // Whether anything has happened (time passed, a step came, a state was loaded) since the last
  // snapshot(), which would otherwise fill in the same again.
  virtual bool moved_since_snapshot() const = 0;
  virtual void advance(const SinkSnapshot& before, const SinkSnapshot& after, int64_t times) = 0;
  // Three entry states a period of iterations apart, `first` to `current` (the state the sink
  // is in). When they differ only in clocks that each period moves by its own length, the same
  // way twice (the countdown of work that spans many periods, such as a long DRAM transfer, and
  // how long a process has waited for it), the periods repeat but for those clocks. Advances up
  // to `most` periods, while no countdown could end inside one, and loads the state the clocks
  // then show; returns how many periods it advanced (0 when the states do not drift so).
  virtual int64_t advance_drifting(const SinkSnapshot& first, const SinkSnapshot& second,
                                   const SinkSnapshot& current, int64_t most) = 0;
  // From a state equal to `before`'s: accounts what happened between `before` and `after` and
  // loads `after`'s state.
  virtual void replay(const SinkSnapshot& before, const SinkSnapshot& after) = 0;
};

// Bytes a buffer has free beside the dataflow's tiles: one pool, or one per tensor for a split
// L0. A single-buffered tensor whose next words fit there receives them while the current step
// still computes, as a circular buffer does (an Eyeriss ifmap spad takes the window's next column
// beside the current one).
struct SpareSpace {
  bool per_tensor = false;
  std::array<int64_t, kNumTensors> bytes{};  // [0] is the pool when not per tensor
  // Takes room for `wanted` bytes of `tensor`; false, and nothing taken, when it does not fit.
  bool claim(Tensor tensor, int64_t wanted);
};

// How the walker feeds the sink: with `skip_steady_state`, repeating iterations are advanced or
// replayed instead of simulated; with `reload_state` (and no skipping), the sink's state is
// written and loaded back at every iteration boundary, which must change nothing: a check that a
// loaded state runs on exactly as it first ran.
struct WalkOptions {
  bool skip_steady_state = true;
  bool reload_state = false;
};

class ScheduleCompiler {
 public:
  ScheduleCompiler(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow);
  // Walks every L1 step in order, skipping, replaying or reloading as `options` say.
  void walk(StepSink& sink, const WalkOptions& options);
  int64_t total_steps() const;
  // Accesses of the walk so far, all levels: known when a step is compiled, so they never wait
  // on the timing model.
  const AccessCounts& counts() const { return counts_; }

 private:
  struct Loop {
    int level;  // 0: L2 loops (over L2 tiles), 1: L1 loops (over L1 steps)
    Dim dim;
  };
  void walk_loop(std::size_t loop_position, StepSink& sink);
  // An iteration seen before: how the sink and the walk stood after it, relative to where they
  // stood before it.
  struct Replay {
    SinkSnapshot before;  // time, counters and stream position only
    SinkSnapshot after;
    AccessCounts counts;
    int64_t steps = 0;
    int64_t l2_tiles = 0;
    bool has_pending = false;
    StepRecord
        pending;  // coordinates from the iteration's first tile, sequence numbers from its end
  };
  // A replay key and its hash, computed once when the key is built: the lookup and the insertion
  // both use it, and keys of different hashes compare unequal at once.
  struct ReplayKey {
    std::vector<int64_t> words;
    std::size_t hash = 0;
    bool operator==(const ReplayKey& other) const {
      return hash == other.hash && words == other.words;
    }
  };
  struct KeyHash {
    std::size_t operator()(const ReplayKey& key) const { return key.hash; }
  };
  // What decides an iteration's steps and their timing, into `key` (reusing its room): where it
  // stands in every loop up to its own (an edge, every reduction index of a level at zero, the
  // fetch of the L2 tile after its last), the step still pending (append_pending), and the
  // sink's state.
  void replay_key(std::size_t loop_position, const SinkSnapshot& entry, ReplayKey& key) const;
  // Whether `loop`'s last iteration walks edge tiles: its dim does not divide into its steps.
  bool ends_in_edge(const Loop& loop) const;
  // Steps in one iteration of the loop at `loop_position` (full tiles).
  int64_t iteration_steps(std::size_t loop_position) const;
  // Where the iteration about to start begins: its first L2 tile's origin and its first step's.
  struct IterationOrigin {
    DimArray l2_tile{};
    DimArray step{};
  };
  IterationOrigin iteration_origin() const;
  // The state at the start of the latest iterations of a loop: states repeat with a period of
  // one iteration or of a few (double-buffered slots alternate, so two iterations is common).
  static constexpr int kMaxPeriod = 4;
  // The pending step as an iteration about to start sees it: its position in the stream and
  // its tiles relative to the iteration's (move_pending), so that it compares equal to the one
  // a repeating iteration saw.
  struct PendingAtEntry {
    bool has_pending = false;
    StepRecord step;
  };
  PendingAtEntry pending_at_entry() const;
  static bool same_pending(const PendingAtEntry& a, const PendingAtEntry& b);
  struct LoopSnapshots {
    SinkSnapshot entry;
    // A ring: the latest iteration's state is at `latest`, p iterations back at latest - p + 1.
    std::array<SinkSnapshot, kMaxPeriod> earlier;
    std::array<AccessCounts, kMaxPeriod> earlier_counts;
    int latest = 0;
    int earlier_known = 0;
    // The ring slot of the iteration `back` iterations before this one (1: the latest).
    int slot(int back) const { return (latest - back + 1 + kMaxPeriod) % kMaxPeriod; }
    // The sink has not had the walk's pending step at an entry yet, so two entries repeat only if
    // their pending steps do too. From iteration 2 on the pending step is a repeating iteration's
    // last; at iteration 1 it is iteration 0's, which may differ (its reuse and partial sums
    // follow the enclosing loop's previous iteration). So that one is kept, with the ring slot
    // holding iteration 1's entry (-1 once the slot is reused or the ring restarts).
    PendingAtEntry first_pending;
    int first_slot = -1;
  };
  // Whether the pending step now is the one the entry in ring slot `slot` saw.
  bool pending_repeats(const LoopSnapshots& snapshots, int slot) const;
  // When the entry state and pending step equal those `p` iterations back, advances the whole
  // periods among the `repeating_left` iterations from this one and returns how many iterations
  // that skipped.
  int64_t skip_periods(LoopSnapshots& snapshots, int64_t repeating_left, const Loop& loop,
                       StepSink& sink);
  // The walk's side of a skip of `periods` periods of `period` iterations, the period's accesses
  // being those since ring slot `slot`; returns the iterations skipped.
  int64_t account_skip(LoopSnapshots& snapshots, int slot, int64_t periods, int period,
                       const Loop& loop);
  // Keeps the entry state (and the access counts at it) as the latest iteration's; returns where
  // it now is.
  const SinkSnapshot& remember_entry(LoopSnapshots& snapshots);
  // Fills `into` with the sink's state. Nested loops' boundaries often meet (an iteration's end,
  // the next one's start, an inner loop's first iteration): when the sink has not moved since
  // the latest snapshot, that one is copied, or kept when it is `into` already.
  void take_snapshot(StepSink& sink, SinkSnapshot& into);
  // Puts the walk where `replay`'s iteration, started at `origin`, ends.
  void replay(const Replay& replay, const IterationOrigin& origin, StepSink& sink);
  // `direction` -1: makes `step`'s position relative to `origin` (its L2 tile to the L2 tile's,
  // its step tiles to the step's) and the stream's position; +1: absolute again.
  void move_pending(StepRecord& step, const IterationOrigin& origin, int direction) const;
  // Everything a step takes from the pending step's tiles: whether it starts a new L2 tile,
  // what each level still holds of each tensor, whether outputs leave L1 and L2, what the cells
  // and the PEs keep. Two pending steps with equal relations (and equal sizes and timing) lead
  // to the same step, wherever their tiles lie, so the replay key holds this, not coordinates.
  struct PendingRelation {
    bool new_l2_tile = true;
    bool outputs_leave_l1 = false;
    bool outputs_leave_l2 = false;
    bool stationary_held = false;  // systolic: the cells hold the step's first fold already
    int kept_in_l0 = 0;            // operands_kept_in_l0's bits
    std::array<int64_t, kNumTensors> l1_union_held{}, cluster_held{}, pe_held{};
  };
  // Where an operand that bypasses L1 lands: the PEs of a step's first cluster (none when no
  // operand bypasses L1).
  StepUnits bypass_pes(const TileRange& cluster_tile) const;
  // bypass_pes's latest answer, with origins from the cluster tile's: the split depends on the
  // tile's size only, which consecutive steps mostly share.
  struct PesMemo {
    bool valid = false;
    DimArray cluster_size{};
    StepUnits pes;
  };
  mutable PesMemo pes_memo_;
  // The relation of the pending step (if any) to a step with these tiles; `pes` from bypass_pes.
  PendingRelation relate_pending(const TileRange& l2_tile, const StepUnits& clusters,
                                 const StepUnits& pes) const;
  // The relation but for the L2 tiles' part (new_l2_tile, outputs_leave_l2).
  PendingRelation relate_below_l2(const TileRange& l1_union, const StepUnits& clusters,
                                  const StepUnits& pes) const;
  // relate_below_l2's latest answers. They depend only on the sizes of the pending step's union
  // and cluster tile and the new step's, and on where these lie relative to each other, which
  // consecutive steps of a loop mostly repeat: the key is the four tiles' sizes and the pending
  // ones' origins taken from the new step's cluster tile.
  struct RelationMemo {
    static constexpr std::size_t kEntries = 4;
    using Key = std::array<int64_t, 6 * kNumDims>;
    std::array<Key, kEntries> keys{};
    std::array<PendingRelation, kEntries> relations{};
    std::size_t filled = 0;
    std::size_t next = 0;  // the entry the next new answer replaces
  };
  mutable RelationMemo relation_memo_;
  UnitsFootprintMemo cluster_footprints_;  // of a step's clusters
  UnitsFootprintMemo pe_footprints_;       // of a cluster's PEs, when a tensor bypasses L1
  // The fetch of the L2 tile after the iteration's last one, which the iteration posts: its
  // bytes and DRAM words, not where that tile lies.
  void append_lookahead(std::vector<int64_t>& key, std::size_t loop_position) const;
  // The pending step as the iteration at `loop_position` about to start sees it: its timing,
  // its sizes and its relation to the iteration's first step.
  void append_pending(std::vector<int64_t>& key, std::size_t loop_position) const;
  // append_pending's latest words. Iterations of nested loops that start at one moment see the
  // same pending step and the same first step, so they share them; `pending_version_` counts
  // the changes to the pending step and the stream's position that would change them.
  struct PendingWordsMemo {
    bool valid = false;
    uint64_t pending_version = 0;
    DimArray l2_index{};
    DimArray l1_index{};
    std::vector<int64_t> words;
  };
  mutable PendingWordsMemo pending_words_memo_;
  uint64_t pending_version_ = 0;
  void emit(StepSink& sink);
  void finish(StepSink& sink);
  // The pending step's partial sums go back to L2 (its L1 outputs are done with), and its L2
  // output tile back to DRAM.
  void evict_l1_outputs();
  void evict_l2_outputs();
  void shift_pending(int level, Dim dim, int64_t iterations);
  // DRAM bytes to bring `next` into L2 after `current` (data that moved, partial sums that
  // exist; nothing of the tensors that bypass L2), with the matching DRAM/L2 accesses added to
  // `counts`.
  TileFetch l2_fetch(int64_t sequence, const TileRange* current, const TileRange& next,
                     AccessCounts& counts) const;
  // Where `tensor` lives above the NoC: L2, or DRAM when it bypasses L2. Fills read it there and
  // partial sums leaving L1 are written there.
  CostLevel home_above_noc(Tensor tensor) const;
  // `kept_in_l0`: bit t set when operand tensor t's L0 tiles are still in the PEs from the
  // previous step (its last L0 step held the tiles this step starts with).
  const BurstCost& burst(const TileRange& cluster_tile, int kept_in_l0);
  BurstCost compute_burst(const TileRange& cluster_tile, int kept_in_l0) const;
  int operands_kept_in_l0(const TileRange& cluster_tile) const;
  // L0 writes of an operand that bypasses L1: the NoC delivers each PE of the step's first
  // cluster (`pes`) its share of the step, `pe_new` words of it new to the first PE.
  void add_l0_deliveries(Tensor tensor, const StepUnits& clusters, const StepUnits& pes,
                         int64_t pe_new);
  // Systolic arrays: the tensor the cells hold while the others stream, and the load, fill and
  // drain cycles a step adds to its MACs.
  Tensor stationary_tensor() const;
  int64_t systolic_skew_cycles(const TileRange& cluster_tile, bool stationary_held) const;
  // Systolic arrays: the distinct row streams the columns of a step need at once, which take
  // turns (one per group of a grouped layer the columns' filters belong to; 1 otherwise).
  int64_t column_streams(const StepUnits& clusters, const TileRange& l1_union) const;
  int64_t bytes(int64_t elements) const;
  // Links a word crosses from L2 to `clusters` leaves of the NoC tree (or back, reduced).
  int64_t tree_links(int64_t clusters) const;
  // Cycles a drain of partial sums spends in the adder tree over `units` (clusters or PEs).
  int64_t reduction_tree_cycles(const StepUnits& units) const;
  // Units (clusters or PEs) of a step that share each element of `tensor`: those that differ
  // only along dims the tensor does not depend on.
  int64_t sharing_clusters(const StepUnits& clusters, Tensor tensor) const;

  const Layer& layer_;
  const ArchSpec& arch_;
  const Dataflow& dataflow_;
  LevelSplit l2_split_, l1_split_, l0_split_;
  Tensor stationary_ = Tensor::Weight;
  int l1_bypass_bits_ = 0;  // bit t: operand t bypasses L1, so no burst ever fills it
  std::array<SpareSpace, kNumLevels> spare_;  // per level, beside the dataflow's tiles
  // Where the K ranges start (k_origin) of the clusters' tiles, of the PEs' L0 tiles, and of a
  // step's clusters together and a burst's PEs together: the unit's, unless the units split K.
  struct KOrigins {
    KOrigin cluster, pe, clusters, pes;
  } k_origins_{};
  int64_t noc_tree_depth_ = 0;  // levels of the binary tree over the L2 fan-out's clusters
  bool skip_ = true;
  bool reload_ = false;
  std::vector<Loop> loops_;  // L2 loops outermost, then L1 loops, trivial (1-trip) loops kept
  // Walk state: current L2 tile index/range and L1 index.
  DimArray l2_index_{}, l1_index_{};
  TileRange layer_range_, l2_tile_;
  DimArray l2_trips_{};                           // L2 loop trips over the whole layer
  DimArray l1_trips_{};                           // L1 loop trips over the current L2 tile
  std::array<bool, kNumDims> l2_ends_in_edge_{};  // the L2 split's edge_flags
  std::array<bool, kNumDims> l1_ends_in_edge_{};  // and of the L1 loops in the current L2 tile
  int64_t l2_sequence_ = -1;
  bool has_pending_ = false;
  StepRecord pending_;
  int64_t emitted_ = 0;
  AccessCounts counts_;
  using BurstMemo = std::map<std::tuple<DimArray, bool, int>, BurstCost>;
  BurstMemo burst_memo_;
  BurstMemo::const_iterator last_burst_ = burst_memo_.end();  // the latest burst() answer
  std::unordered_map<ReplayKey, Replay, KeyHash> replays_;
  ReplayKey key_;                         // the latest replay key, kept to reuse its room
  std::vector<LoopSnapshots> snapshots_;  // per loop position, kept to reuse their room
  // Where the latest snapshot is now: it follows the ring's swaps and the move into replays_.
  const SinkSnapshot* latest_snapshot_ = nullptr;
};

}  // namespace dcp::sim
