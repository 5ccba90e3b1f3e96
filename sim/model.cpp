#include "sim/model.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <systemc>

#include "common/input_error.hpp"
#include "common/saturating.hpp"
#include "sim/dram.hpp"

namespace dcp::sim {
namespace {

using sc_core::sc_event;
using sc_core::sc_module;
using sc_core::sc_module_name;
using sc_core::sc_time;
using sc_core::wait;

const sc_time& cycle_time() {
  static const sc_time cycle(1, sc_core::SC_NS);
  return cycle;
}

int64_t now_cycles() {
  return static_cast<int64_t>(sc_core::sc_time_stamp().value() / cycle_time().value());
}

// Longest single wait: its picoseconds must fit SystemC's uint64 time. A longer one only comes
// from a transfer whose cycles saturated (common/saturating.hpp); its unit's busy cycles are
// saturated too, so evaluate() refuses the result and the shortened wait changes nothing.
constexpr int64_t kMaxWaitCycles = int64_t{1} << 40;

void wait_cycles(int64_t cycles) {
  if (cycles > 0) {
    const auto waited = static_cast<sc_dt::uint64>(std::min(cycles, kMaxWaitCycles));
    wait(sc_time::from_value(waited * cycle_time().value()));
  }
}

// Tile slots a level's buffer has: two when any tensor is double-buffered (that tensor's next
// tile arrives meanwhile; single-buffered ones wait for the previous tile to be done with).
int64_t buffer_slots(const ArchSpec& arch) {
  for (bool flag : arch.double_buffered)
    if (flag) return 2;
  return 1;
}

// Per-job settings and counters shared by the modules. The kernel is built once, so everything
// that depends on the job lives here rather than in constructors.
struct Job {
  const ArchSpec* arch = nullptr;
  std::vector<TimelineEvent>* timeline = nullptr;
  int64_t time_offset = 0;  // cycles advanced without simulating (steady state)
  int64_t start_time = 0;
  PipelineResult totals;

  void record(const char* unit, const std::string& name, int64_t start, int64_t duration) const {
    if (timeline != nullptr && duration > 0)
      timeline->push_back({unit, name, start - start_time + time_offset, duration});
  }
};

// The part of a step the hardware acts on: the compiler's tile coordinates stay behind, so the
// queues copy a few words per step instead of the whole record.
struct StepTiming {
  int64_t index = 0;
  int64_t l2_sequence = 0;
  bool ends_l2_tile = false;
  bool late_fill_has_outputs = false;
  int64_t dram_write_bytes = 0;
  FillBytes fill, late_fill;
  int64_t noc_out_bytes = 0;
  int64_t compute_cycles = 0;
  int64_t fill_stall_cycles = 0;
  int64_t output_tree_cycles = 0;

  explicit StepTiming(const StepRecord& step = {})
      : index(step.index),
        l2_sequence(step.l2_sequence),
        ends_l2_tile(step.ends_l2_tile),
        late_fill_has_outputs(step.late_fill_has_outputs),
        dram_write_bytes(step.dram_write_bytes),
        fill(step.fill),
        late_fill(step.late_fill),
        noc_out_bytes(step.noc_out_bytes),
        compute_cycles(step.compute_cycles),
        fill_stall_cycles(step.fill_stall_cycles),
        output_tree_cycles(step.output_tree_cycles) {}
};

// The parts of a step that decide its timing, relative to the newest L2 tile posted, so that two
// moments whose in-flight steps match compare equal.
void append_step(std::vector<int64_t>& state, const StepTiming& step, int64_t newest_sequence) {
  state.insert(state.end(), {newest_sequence - step.l2_sequence, step.fill.noc, step.fill.from_dram,
                             step.late_fill.noc, step.late_fill.from_dram, step.noc_out_bytes,
                             step.output_tree_cycles, step.dram_write_bytes, step.compute_cycles,
                             step.fill_stall_cycles, step.ends_l2_tile ? 1 : 0,
                             step.late_fill_has_outputs ? 1 : 0});
}

// What a process is doing, so a snapshot can tell whether two moments have the same future.
struct Activity {
  int phase = 0;
  int64_t until = 0;  // end of the current timed wait (absolute cycles); 0 when untimed
  void set(int new_phase, int64_t duration = 0) {
    phase = new_phase;
    until = duration > 0 ? now_cycles() + duration : 0;
  }
  void append(std::vector<int64_t>& state, int64_t now) const {
    state.push_back(phase);
    state.push_back(until > now ? until - now : 0);
  }
};

// An event for a condition that its waiters re-check in a loop. Notifying it when no process
// waits is skipped: a process that starts waiting later checks the condition first, so the
// notification could only wake it spuriously, and each one costs the kernel a delta cycle.
class Condition {
 public:
  void wait() {
    ++waiters_;
    sc_core::wait(event_);
    --waiters_;
  }
  void notify() {
    if (waiters_ > 0) event_.notify(sc_core::SC_ZERO_TIME);
  }

 private:
  sc_event event_;
  int waiters_ = 0;
};

// Single-producer single-consumer queue with back-pressure.
template <typename Item>
class Queue {
 public:
  explicit Queue(std::size_t capacity) : capacity_(capacity) {}
  void push(Item item) {
    while (items_.size() >= capacity_) changed_.wait();
    items_.push_back(std::move(item));
    changed_.notify();
  }
  Item pop() {
    while (items_.empty()) changed_.wait();
    Item item = std::move(items_.front());
    items_.pop_front();
    changed_.notify();
    return item;
  }
  bool empty() const { return items_.empty(); }
  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  template <typename Append>
  void append_items(std::vector<int64_t>& state, Append&& append) const {
    state.push_back(size());
    for (const Item& item : items_) append(state, item);
  }

 private:
  std::size_t capacity_;
  std::deque<Item> items_;
  Condition changed_;
};

// Buffer slots: a tile holds one from its fetch until its outputs have left.
class SlotPool {
 public:
  void reset(int64_t slots) { free_ = slots; }
  void acquire() {
    while (free_ == 0) released_.wait();
    --free_;
  }
  void release() {
    ++free_;
    released_.notify();
  }
  int64_t free() const { return free_; }

 private:
  int64_t free_ = 0;
  Condition released_;
};

// A shared resource (the DRAM channel, the NoC, the global buffer's port) that serves one
// transfer at a time, in request order: contention shows up as waiting, and its busy cycles can
// never exceed the run. Each service is one box on the resource's timeline track.
class TransferChannel : public sc_module {
 public:
  TransferChannel(sc_module_name name, Job& job, const char* track)
      : sc_module(name), job_(job), track_(track) {}
  void reset() { busy_cycles = 0; }
  void serve(const char* what, int64_t cycles) { serve_together(what, *this, cycles, nullptr, 0); }
  // A transfer that needs two resources at once (the NoC and the global buffer's port): it starts
  // when both are free and holds both until the slower is done, each busy for its own cycles.
  // Both tickets are taken before any wait, so every resource serves in one global order and two
  // transfers can never wait on each other.
  static void serve_together(const char* what, TransferChannel& first, int64_t first_cycles,
                             TransferChannel* second, int64_t second_cycles) {
    const int64_t first_ticket = first.take_ticket();
    const int64_t second_ticket = second != nullptr ? second->take_ticket() : 0;
    while (!first.is_turn(first_ticket) || (second != nullptr && !second->is_turn(second_ticket))) {
      if (!first.is_turn(first_ticket))
        first.released_.wait();
      else
        second->released_.wait();
    }
    const int64_t start = now_cycles();
    first.book(what, start, first_cycles, first_cycles);
    if (second != nullptr) second->book(what, start, second_cycles, second_cycles);
    wait_cycles(std::max(first_cycles, second != nullptr ? second_cycles : 0));
    first.end_turn();
    if (second != nullptr) second->end_turn();
  }
  virtual ~TransferChannel() = default;
  virtual void append(std::vector<int64_t>& state, int64_t now) const {
    state.push_back(next_ticket_ - serving_);
    state.push_back(held_until_ > now ? held_until_ - now : 0);
  }
  int64_t busy_cycles = 0;
  const char* track() const { return track_; }

 protected:
  int64_t take_ticket() { return next_ticket_++; }
  bool is_turn(int64_t ticket) const { return serving_ == ticket; }
  void wait_turn(int64_t ticket) {
    while (!is_turn(ticket)) released_.wait();
  }
  // This turn holds the channel `hold` cycles from `start`, `busy` of them doing work.
  void book(const char* what, int64_t start, int64_t hold, int64_t busy) {
    held_until_ = saturating_add(start, hold);
    busy_cycles = saturating_add(busy_cycles, busy);
    job_.record(track_, what, start, busy);
  }
  void end_turn() {
    ++serving_;
    released_.notify();
  }
  Job& job_;

 private:
  const char* track_;
  int64_t next_ticket_ = 0;
  int64_t serving_ = 0;
  int64_t held_until_ = 0;
  Condition released_;
};

// Moves data between DRAM and the global buffer: the DRAM channel, timed by the bank and
// row-buffer model, then the buffer's port (the data lands in the port's staging FIFO, so the
// port is not held while DRAM is slow). Each transfer is a stream from a fresh DRAM row at the
// first bank (tiles live apart in memory), so repeating transfers see repeating bank states.
class DramChannel : public TransferChannel {
 public:
  DramChannel(sc_module_name name, Job& job, TransferChannel& l2_port)
      : TransferChannel(name, job, "DRAM"), l2_port_(l2_port) {}
  void reset(const ArchSpec& arch) {
    TransferChannel::reset();
    model_.emplace(arch);
    next_stream_row_ = 0;
  }
  void read_into_l2(const char* what, int64_t bytes) {
    access(what, bytes, false);
    l2_port_.serve(what, transfer_cycles(bytes, job_.arch->l2_bandwidth));
  }
  void write_from_l2(const char* what, int64_t bytes) {
    l2_port_.serve(what, transfer_cycles(bytes, job_.arch->l2_bandwidth));
    access(what, bytes, true);
  }
  // Tensors that bypass L2 move between DRAM and the NoC without the buffer's port.
  void read_bypassing_l2(const char* what, int64_t bytes) { access(what, bytes, false); }
  void write_bypassing_l2(const char* what, int64_t bytes) { access(what, bytes, true); }
  void append(std::vector<int64_t>& state, int64_t now) const override {
    TransferChannel::append(state, now);
    model_->append_state(state, now, next_stream_row_);
  }

 private:
  void access(const char* what, int64_t bytes, bool is_write) {
    const int64_t ticket = take_ticket();
    wait_turn(ticket);
    const int64_t start = now_cycles();
    const int64_t bus_busy_before = model_->bus_busy_cycles();
    const DramTiming& timing = job_.arch->dram;
    const auto address = static_cast<uint64_t>(next_stream_row_) *
                         static_cast<uint64_t>(timing.banks * timing.row_bytes);
    const int64_t done = model_->access(start, address, bytes, is_write);
    next_stream_row_ += ceil_div(bytes, timing.banks * timing.row_bytes);
    book(what, start, done - start, model_->bus_busy_cycles() - bus_busy_before);
    wait_cycles(done - start);
    end_turn();
  }
  TransferChannel& l2_port_;
  std::optional<DramModel> model_;
  int64_t next_stream_row_ = 0;  // in rows of every bank: where the next transfer starts
};

// L2 <-> cluster network. A transfer holds the NoC and the global buffer's port together.
class Noc : public TransferChannel {
 public:
  Noc(sc_module_name name, Job& job, TransferChannel& l2_port)
      : TransferChannel(name, job, "NoC"), l2_port_(l2_port) {}
  // `l2_bytes` of the `bytes` pass the global buffer's port; the rest bypass L2.
  void transfer(const char* what, int64_t bytes, int64_t l2_bytes) {
    serve_together(what, *this, transfer_cycles(bytes, job_.arch->noc_bandwidth),
                   l2_bytes > 0 ? &l2_port_ : nullptr,
                   transfer_cycles(l2_bytes, job_.arch->l2_bandwidth));
  }

 private:
  TransferChannel& l2_port_;
};

// Global buffer: prefetches L2 tiles from DRAM into free slots, in order.
class GlobalBuffer : public sc_module {
 public:
  SC_HAS_PROCESS(GlobalBuffer);
  GlobalBuffer(sc_module_name name, Job& job, DramChannel& dram)
      : sc_module(name), fetches(1u << 30), job_(job), dram_(dram), drains_(1u << 30) {
    SC_THREAD(prefetch);
    SC_THREAD(drain);
  }
  void reset() {
    slots.reset(buffer_slots(*job_.arch));
    tiles_ready = 0;
    tiles_released_ = 0;
    tiles_ended_ = 0;
  }
  void wait_ready(int64_t sequence) {
    while (tiles_ready <= sequence) tile_ready_.wait();
  }
  // The tile's last step has drained into L2: its outputs go to DRAM while later tiles compute,
  // and its slot is released once they are written. Single-buffered outputs share their space
  // with the next tile's partial sums, so the caller then waits for the write to finish.
  void end_tile(int64_t dram_write_bytes) {
    drains_.push(dram_write_bytes);
    ++tiles_ended_;
    if (!flag_of(job_.arch->double_buffered, Tensor::Output)) wait_released(tiles_ended_);
  }
  // Until every ended tile's outputs are in DRAM: the run is not over before.
  void wait_drained() { wait_released(tiles_ended_); }
  void append(std::vector<int64_t>& state, int64_t now, int64_t newest_sequence) const {
    auto append_fetch = [newest_sequence](std::vector<int64_t>& out, const TileFetch& fetch) {
      out.insert(out.end(), {newest_sequence - fetch.l2_sequence, fetch.dram_read_bytes,
                             fetch.late_dram_read_bytes});
    };
    fetches.append_items(state, append_fetch);
    append_fetch(state, current_);
    state.push_back(slots.free());
    state.push_back(newest_sequence - tiles_ready);
    state.push_back(newest_sequence - tiles_released_);
    state.push_back(newest_sequence - tiles_ended_);
    activity_.append(state, now);
    drains_.append_items(state,
                         [](std::vector<int64_t>& out, int64_t bytes) { out.push_back(bytes); });
    state.push_back(draining_bytes_);
    drain_activity_.append(state, now);
  }

  Queue<TileFetch> fetches;
  SlotPool slots;
  int64_t tiles_ready = 0;

 private:
  enum Phase { kIdle, kWaitSlot, kFetch, kWaitRelease, kLateFetch };
  void prefetch() {
    while (true) {
      activity_.set(kIdle);
      current_ = fetches.pop();
      const TileFetch& fetch = current_;
      activity_.set(kWaitSlot);
      slots.acquire();
      activity_.set(kFetch);
      if (fetch.dram_read_bytes > 0) dram_.read_into_l2("fetch L2 tile", fetch.dram_read_bytes);
      if (fetch.late_dram_read_bytes > 0) {
        // Single-buffered tensors overwrite the previous tile's, so they wait for its release.
        activity_.set(kWaitRelease);
        wait_released(fetch.l2_sequence);
        activity_.set(kLateFetch);
        dram_.read_into_l2("fetch L2 tile (single-buffered)", fetch.late_dram_read_bytes);
      }
      ++tiles_ready;
      tile_ready_.notify();
    }
  }
  void drain() {
    while (true) {
      drain_activity_.set(0);
      draining_bytes_ = drains_.pop();
      drain_activity_.set(1);
      if (draining_bytes_ > 0) dram_.write_from_l2("outputs to DRAM", draining_bytes_);
      draining_bytes_ = 0;
      slots.release();
      ++tiles_released_;
      tile_released_.notify();
    }
  }
  void wait_released(int64_t tiles) {
    while (tiles_released_ < tiles) tile_released_.wait();
  }
  Job& job_;
  DramChannel& dram_;
  Queue<int64_t> drains_;
  Activity activity_, drain_activity_;
  int64_t draining_bytes_ = 0;
  int64_t tiles_ended_ = 0;
  TileFetch current_;
  Condition tile_ready_;
  int64_t tiles_released_ = 0;
  Condition tile_released_;
};

// PEs with L0 and the MAC pipeline, run as one burst per L1 step (the busiest cluster's time).
class PeArray : public sc_module {
 public:
  SC_HAS_PROCESS(PeArray);
  PeArray(sc_module_name name, Job& job) : sc_module(name), steps(2), done(2), job_(job) {
    SC_THREAD(compute);
  }
  // Until the first step arrives the PEs wait for the first tile from DRAM.
  void reset() {
    wait_start_ = last_busy_end = now_cycles();
    computed = 0;
    stall_cause_ = waiting_for = StallCause::Dram;
  }
  void append(std::vector<int64_t>& state, int64_t now, int64_t newest_sequence) const {
    auto append = [newest_sequence](std::vector<int64_t>& out, const StepTiming& step) {
      append_step(out, step, newest_sequence);
    };
    steps.append_items(state, append);
    done.append_items(state, append);
    append(state, current_);
    activity_.append(state, now);
    // A stall is booked when it ends, so how long the current one has lasted is state too.
    state.push_back(activity_.phase == kWaitStep ? now - wait_start_ : 0);
  }
  Queue<StepTiming> steps;
  Queue<StepTiming> done;
  // Set by the cluster array: why the next step is not here yet.
  StallCause waiting_for = StallCause::Noc;

 private:
  enum Phase { kWaitStep, kCompute, kHandOver };
  // Every cycle of the run is either a MAC cycle or a stall with one cause: waiting for a step
  // (its cause set by the cluster array), L1 fills inside a burst, or handing a finished step to
  // a write-back that is still busy.
  void compute() {
    while (true) {
      activity_.set(kWaitStep);
      wait_start_ = now_cycles();
      stall_cause_ = waiting_for;
      current_ = steps.pop();
      const StepTiming& step = current_;
      // Read the members after the wait: a new job resets them while this thread is parked.
      book_stall(stall_cause_, wait_start_, now_cycles() - wait_start_);
      activity_.set(kCompute, step.compute_cycles);
      const int64_t start = now_cycles();
      wait_cycles(step.compute_cycles);
      const int64_t mac_cycles = step.compute_cycles - step.fill_stall_cycles;
      ++computed;
      step_computed.notify();
      if (job_.timeline != nullptr)
        job_.record("PE array", "step " + std::to_string(step.index), start, mac_cycles);
      job_.totals.busy.compute = saturating_add(job_.totals.busy.compute, mac_cycles);
      book_stall(StallCause::L1Fill, start + mac_cycles, step.fill_stall_cycles);
      activity_.set(kHandOver);
      const int64_t hand_over = now_cycles();
      done.push(step);
      book_stall(StallCause::Writeback, hand_over, now_cycles() - hand_over);
      last_busy_end = now_cycles();
    }
  }
  void book_stall(StallCause cause, int64_t start, int64_t cycles) {
    int64_t& total = job_.totals.stall_cycles[static_cast<int>(cause)];
    total = saturating_add(total, cycles);
    job_.record("stall", stall_cause_name(cause), start, cycles);
  }

 public:
  // When the PEs last finished a step: what follows until the run ends is draining.
  int64_t last_busy_end = 0;
  // Steps whose MACs are done: their operands' space may be refilled.
  int64_t computed = 0;
  Condition step_computed;
  // The drain after the last step (partial sums and outputs still leaving) is a write-back stall.
  void book_drain(int64_t end) {
    book_stall(StallCause::Writeback, last_busy_end, end - last_busy_end);
  }

 private:
  Job& job_;
  Activity activity_;
  StepTiming current_;
  int64_t wait_start_ = 0;
  StallCause stall_cause_ = StallCause::Dram;
};

// Clusters with their L1s: fill each step's L1 tile over the NoC once its L2 tile is present and
// an L1 slot is free; after the PEs are done, send partial sums back and release the slots.
class ClusterArray : public sc_module {
 public:
  SC_HAS_PROCESS(ClusterArray);
  ClusterArray(sc_module_name name, Job& job, GlobalBuffer& l2, Noc& noc, DramChannel& dram,
               PeArray& pes)
      : sc_module(name), steps(2), job_(job), l2_(l2), noc_(noc), dram_(dram), pes_(pes) {
    SC_THREAD(fill);
    SC_THREAD(writeback);
  }
  void reset() {
    slots.reset(buffer_slots(*job_.arch));
    drained = 0;
  }
  void append(std::vector<int64_t>& state, int64_t now, int64_t newest_sequence) const {
    auto append = [newest_sequence](std::vector<int64_t>& out, const StepTiming& step) {
      append_step(out, step, newest_sequence);
    };
    steps.append_items(state, append);
    append(state, filling_);
    append(state, writing_back_);
    state.push_back(slots.free());
    state.push_back(fill_activity_.phase == kWaitDrain ? filling_.index - drained : 0);
    state.push_back(fill_activity_.phase == kWaitCompute ? filling_.index - pes_.computed : 0);
    fill_activity_.append(state, now);
    writeback_activity_.append(state, now);
  }

  Queue<StepTiming> steps;
  SlotPool slots;
  int64_t drained = 0;
  Condition step_drained;

 private:
  enum FillPhase {
    kIdle,
    kWaitTile,
    kWaitSlot,
    kTransfer,
    kWaitDrain,
    kWaitCompute,
    kBypassRead,
    kHandOver
  };
  void set_fill(FillPhase phase) {
    fill_activity_.set(phase);
    pes_.waiting_for = phase == kWaitTile || phase == kBypassRead  ? StallCause::Dram
                       : phase == kWaitSlot || phase == kWaitDrain ? StallCause::Writeback
                                                                   : StallCause::Noc;
  }
  void fill_phase(const char* what, const FillBytes& bytes) {
    if (bytes.from_dram > 0) {
      set_fill(kBypassRead);
      dram_.read_bypassing_l2(what, bytes.from_dram);
    }
    set_fill(kTransfer);
    if (bytes.noc > 0) noc_.transfer(what, bytes.noc, bytes.noc - bytes.from_dram);
  }
  void fill() {
    while (true) {
      set_fill(kIdle);
      filling_ = steps.pop();
      const StepTiming& step = filling_;
      set_fill(kWaitTile);
      l2_.wait_ready(step.l2_sequence);
      set_fill(kWaitSlot);
      slots.acquire();
      fill_phase("fill L1", step.fill);
      if (step.late_fill.noc > 0) {
        // Single-buffered tensors overwrite the previous step's: operands once its MACs are
        // done, partial sums once it has drained.
        if (step.late_fill_has_outputs) {
          set_fill(kWaitDrain);
          while (drained < step.index) step_drained.wait();
        } else {
          set_fill(kWaitCompute);
          while (pes_.computed < step.index) pes_.step_computed.wait();
        }
        fill_phase("fill L1 (single-buffered)", step.late_fill);
      }
      set_fill(kHandOver);
      pes_.steps.push(step);
    }
  }
  void writeback() {
    while (true) {
      writeback_activity_.set(0);
      writing_back_ = pes_.done.pop();
      const StepTiming& step = writing_back_;
      writeback_activity_.set(1);
      if (step.noc_out_bytes > 0) {
        const bool to_dram = flag_of(job_.arch->l2_bypass, Tensor::Output);
        noc_.transfer(to_dram ? "partial sums to DRAM" : "partial sums to L2", step.noc_out_bytes,
                      to_dram ? 0 : step.noc_out_bytes);
        // The last reduced word leaves the adder tree this much after the NoC sent it; the NoC
        // itself is free meanwhile.
        writeback_activity_.set(2, step.output_tree_cycles);
        wait_cycles(step.output_tree_cycles);
        if (to_dram) dram_.write_bypassing_l2("partial sums to DRAM", step.noc_out_bytes);
      }
      slots.release();
      if (step.ends_l2_tile) l2_.end_tile(step.dram_write_bytes);
      ++drained;
      step_drained.notify();
    }
  }
  Job& job_;
  GlobalBuffer& l2_;
  Noc& noc_;
  DramChannel& dram_;
  PeArray& pes_;
  Activity fill_activity_, writeback_activity_;
  StepTiming filling_, writing_back_;
};

// Walks the compiled schedule and feeds the step stream to the hardware; also the StepSink that
// lets the walker skip iterations whose timing repeats.
class Controller : public sc_module, public StepSink {
 public:
  SC_HAS_PROCESS(Controller);
  Controller(sc_module_name name, Job& job, GlobalBuffer& l2, TransferChannel& l2_port, Noc& noc,
             DramChannel& dram, ClusterArray& clusters, PeArray& pes)
      : sc_module(name),
        job_(job),
        l2_(l2),
        channels_{&dram, &noc, &l2_port},
        clusters_(clusters),
        pes_(pes) {
    SC_THREAD(run);
  }
  void start(ScheduleCompiler& compiler, bool skip) {
    compiler_ = &compiler;
    skip_ = skip;
    consumed_ = 0;
    newest_sequence_ = 0;
    start_.notify(sc_core::SC_ZERO_TIME);
  }
  int64_t end_time = 0;

  void prefetch(const TileFetch& fetch) override {
    newest_sequence_ = fetch.l2_sequence;
    l2_.fetches.push(fetch);
  }
  void consume(const StepRecord& step) override {
    ++job_.totals.walked_steps;
    ++consumed_;
    clusters_.steps.push(StepTiming(step));
  }
  SinkSnapshot snapshot() override {
    SinkSnapshot snapshot;
    // Snapshots of one run have about the same size: one allocation instead of a growing vector.
    snapshot.state.reserve(state_size_);
    const int64_t now = now_cycles();
    // Include time advanced by inner loops, so an outer iteration's period covers all of it.
    snapshot.time = now + job_.time_offset;
    l2_.append(snapshot.state, now, newest_sequence_);
    clusters_.append(snapshot.state, now, newest_sequence_);
    pes_.append(snapshot.state, now, newest_sequence_);
    for (const TransferChannel* channel : channels_) channel->append(snapshot.state, now);
    snapshot.state.push_back(static_cast<int64_t>(pes_.waiting_for));
    snapshot.totals = counters();
    state_size_ = snapshot.state.size();
    return snapshot;
  }
  void advance(const SinkSnapshot& before, const SinkSnapshot& after, int64_t times) override {
    // The skipped iterations fill the gap the time offset opens on the timeline; each track gets
    // one box as long as its busy (or stall) cycles grew, so the tracks still sum to the totals.
    const int64_t gap_start = now_cycles() - job_.start_time + job_.time_offset;
    job_.time_offset =
        saturating_add(job_.time_offset, saturating_mul(times, after.time - before.time));
    const CounterSlots totals = counter_slots();
    const std::string label =
        job_.timeline != nullptr ? "steady state: " + std::to_string(times) + " iterations" : "";
    for (std::size_t i = 0; i < totals.size(); ++i) {
      const int64_t delta = saturating_mul(times, after.totals[i] - before.totals[i]);
      *totals[i] = saturating_add(*totals[i], delta);
      if (job_.timeline != nullptr && delta > 0)
        job_.timeline->push_back({counter_track(i), label, gap_start, delta});
    }
  }

 private:
  // Every cumulative counter, in a fixed order, so that snapshots can be subtracted: the stalls
  // by cause, the MAC cycles, then each channel's busy cycles. Walked steps stay the steps that
  // really went through the model.
  static constexpr std::size_t kNumCounters = kNumStallCauses + 1 + 3;
  using CounterSlots = std::array<int64_t*, kNumCounters>;
  CounterSlots counter_slots() {
    CounterSlots slots{};
    std::size_t next = 0;
    for (int64_t& stall : job_.totals.stall_cycles) slots[next++] = &stall;
    slots[next++] = &job_.totals.busy.compute;
    for (TransferChannel* channel : channels_) slots[next++] = &channel->busy_cycles;
    return slots;
  }
  std::vector<int64_t> counters() {
    const CounterSlots slots = counter_slots();
    std::vector<int64_t> values(slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) values[i] = *slots[i];
    return values;
  }
  const char* counter_track(std::size_t slot) const {
    if (slot < static_cast<std::size_t>(kNumStallCauses)) return "stall";
    if (slot == static_cast<std::size_t>(kNumStallCauses)) return "PE array";
    return channels_[slot - kNumStallCauses - 1]->track();
  }

  void run() {
    while (true) {
      wait(start_);
      compiler_->walk(*this, skip_);
      while (clusters_.drained < consumed_) clusters_.step_drained.wait();
      l2_.wait_drained();
      end_time = now_cycles();
      pes_.book_drain(end_time);
    }
  }

  Job& job_;
  GlobalBuffer& l2_;
  std::array<TransferChannel*, 3> channels_;  // DRAM, NoC, L2 port
  ClusterArray& clusters_;
  PeArray& pes_;
  ScheduleCompiler* compiler_ = nullptr;
  bool skip_ = true;
  int64_t consumed_ = 0;
  int64_t newest_sequence_ = 0;
  std::size_t state_size_ = 0;
  sc_event start_;
};

class Accelerator : public sc_module {
 public:
  explicit Accelerator(sc_module_name name)
      : sc_module(name),
        l2_port("l2_port", job, "L2 port"),
        dram("dram", job, l2_port),
        noc("noc", job, l2_port),
        l2("l2", job, dram),
        pes("pes", job),
        clusters("clusters", job, l2, noc, dram, pes),
        controller("controller", job, l2, l2_port, noc, dram, clusters, pes) {}

  Job job;
  TransferChannel l2_port;
  DramChannel dram;
  Noc noc;
  GlobalBuffer l2;
  PeArray pes;
  ClusterArray clusters;
  Controller controller;
};

Accelerator& accelerator() {
  // SystemC elaborates once per process: the model is built on first use and serves every job.
  static Accelerator* instance = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
    auto* model = new Accelerator("accelerator");
    // Run the initialization phase now, so every process is parked at its first wait before a
    // job's start notification arrives.
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    return model;
  }();
  return *instance;
}

}  // namespace

PipelineResult run_pipeline(ScheduleCompiler& compiler, const ArchSpec& arch,
                            bool skip_steady_state, std::vector<TimelineEvent>* timeline) {
  Accelerator& model = accelerator();
  Job& job = model.job;
  job = Job{};
  job.arch = &arch;
  job.timeline = timeline;
  job.start_time = now_cycles();
  model.dram.reset(arch);
  model.noc.reset();
  model.l2_port.reset();
  model.l2.reset();
  model.clusters.reset();
  model.pes.reset();
  model.controller.start(compiler, skip_steady_state);
  sc_core::sc_start();  // returns when the job has drained and nothing is left to happen
  PipelineResult result = job.totals;
  result.cycles = saturating_add(model.controller.end_time - job.start_time, job.time_offset);
  result.busy.noc = model.noc.busy_cycles;
  result.busy.dram = model.dram.busy_cycles;
  result.busy.l2 = model.l2_port.busy_cycles;
  return result;
}

void write_timeline(const std::vector<TimelineEvent>& events, const std::string& path) {
  nlohmann::json trace = nlohmann::json::array();
  std::vector<std::string> units;
  for (const TimelineEvent& event : events) {
    auto found = std::find(units.begin(), units.end(), event.unit);
    const auto track = static_cast<int>(found - units.begin());
    if (found == units.end()) {
      units.push_back(event.unit);
      trace.push_back({{"name", "thread_name"},
                       {"ph", "M"},
                       {"pid", 0},
                       {"tid", track},
                       {"args", {{"name", event.unit}}}});
    }
    trace.push_back({{"name", event.name},
                     {"ph", "X"},
                     {"pid", 0},
                     {"tid", track},
                     {"ts", event.start},
                     {"dur", event.duration}});
  }
  std::ofstream out(path);
  // Trace-event timestamps are nominally microseconds; here every unit is one cycle.
  out << nlohmann::json{{"traceEvents", trace},
                        {"displayTimeUnit", "ns"},
                        {"otherData", {{"time_unit", "cycles"}}}}
             .dump()
      << "\n";
  if (!out) throw InputError(path, "", "cannot write the timeline file");
}

}  // namespace dcp::sim
