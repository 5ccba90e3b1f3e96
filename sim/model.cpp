#include "sim/model.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <systemc>

#include "common/input_error.hpp"
#include "common/saturating.hpp"

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

// Per-job settings and counters shared by the modules. The kernel is built once, so everything
// that depends on the job lives here rather than in constructors.
struct Job {
  const ArchSpec* arch = nullptr;
  std::vector<TimelineEvent>* timeline = nullptr;
  int64_t time_offset = 0;  // cycles advanced without simulating (steady state)
  int64_t start_time = 0;
  PipelineResult totals;

  // Every byte into or out of the global buffer occupies its port.
  void use_l2_port(int64_t bytes) {
    totals.busy.l2 = saturating_add(totals.busy.l2, transfer_cycles(bytes, arch->l2_bandwidth));
  }

  void record(const char* unit, const std::string& name, int64_t start, int64_t duration) const {
    if (timeline != nullptr && duration > 0)
      timeline->push_back({unit, name, start - start_time + time_offset, duration});
  }
};

// The parts of a step that decide its timing, relative to the newest L2 tile posted, so that two
// moments whose in-flight steps match compare equal.
void append_step(std::vector<int64_t>& state, const StepRecord& step, int64_t newest_sequence) {
  state.insert(state.end(), {newest_sequence - step.l2_sequence, step.noc_in_bytes,
                             step.noc_out_bytes, step.dram_write_bytes, step.compute_cycles,
                             step.fill_stall_cycles, step.ends_l2_tile ? 1 : 0});
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

// Single-producer single-consumer queue with back-pressure.
template <typename Item>
class Queue {
 public:
  explicit Queue(std::size_t capacity) : capacity_(capacity) {}
  void push(Item item) {
    while (items_.size() >= capacity_) wait(changed_);
    items_.push_back(std::move(item));
    changed_.notify(sc_core::SC_ZERO_TIME);
  }
  Item pop() {
    while (items_.empty()) wait(changed_);
    Item item = std::move(items_.front());
    items_.pop_front();
    changed_.notify(sc_core::SC_ZERO_TIME);
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
  sc_event changed_;
};

// Buffer slots: a tile holds one from its fetch until its outputs have left.
class SlotPool {
 public:
  void reset(int64_t slots) { free_ = slots; }
  void acquire() {
    while (free_ == 0) wait(released_);
    --free_;
  }
  void release() {
    ++free_;
    released_.notify(sc_core::SC_ZERO_TIME);
  }
  int64_t free() const { return free_; }

 private:
  int64_t free_ = 0;
  sc_event released_;
};

// A link that serves one transfer at a time, in request order: contention shows up as waiting.
class TransferChannel : public sc_module {
 public:
  explicit TransferChannel(sc_module_name name) : sc_module(name) {}
  void serve(int64_t cycles) {
    const int64_t ticket = next_ticket_++;
    while (serving_ != ticket) wait(released_);
    busy_until_ = saturating_add(now_cycles(), cycles);
    wait_cycles(cycles);
    busy_cycles = saturating_add(busy_cycles, cycles);
    ++serving_;
    released_.notify(sc_core::SC_ZERO_TIME);
  }
  void append(std::vector<int64_t>& state, int64_t now) const {
    state.push_back(next_ticket_ - serving_);
    state.push_back(busy_until_ > now ? busy_until_ - now : 0);
  }
  int64_t busy_cycles = 0;

 private:
  int64_t next_ticket_ = 0;
  int64_t serving_ = 0;
  int64_t busy_until_ = 0;
  sc_event released_;
};

class DramChannel : public TransferChannel {
 public:
  explicit DramChannel(sc_module_name name, Job& job) : TransferChannel(name), job_(job) {}
  void transfer(const char* what, int64_t bytes) {
    const int64_t start = now_cycles();
    serve(job_.arch->dram_latency + transfer_cycles(bytes, job_.arch->dram_bandwidth));
    job_.record("DRAM", what, start, now_cycles() - start);
  }

 private:
  Job& job_;
};

// L2 <-> cluster network. A transfer is limited by the NoC and by the global buffer's port.
class Noc : public TransferChannel {
 public:
  explicit Noc(sc_module_name name, Job& job) : TransferChannel(name), job_(job) {}
  void transfer(const char* what, int64_t bytes) {
    const int64_t start = now_cycles();
    serve(std::max(transfer_cycles(bytes, job_.arch->noc_bandwidth),
                   transfer_cycles(bytes, job_.arch->l2_bandwidth)));
    job_.record("NoC", what, start, now_cycles() - start);
  }

 private:
  Job& job_;
};

// Global buffer: prefetches L2 tiles from DRAM into free slots, in order.
class GlobalBuffer : public sc_module {
 public:
  SC_HAS_PROCESS(GlobalBuffer);
  GlobalBuffer(sc_module_name name, Job& job, DramChannel& dram)
      : sc_module(name), fetches(1u << 30), job_(job), dram_(dram) {
    SC_THREAD(prefetch);
  }
  void reset() {
    slots.reset(job_.arch->double_buffered ? 2 : 1);
    tiles_ready = 0;
  }
  void wait_ready(int64_t sequence) {
    while (tiles_ready <= sequence) wait(tile_ready_);
  }
  void append(std::vector<int64_t>& state, int64_t now, int64_t newest_sequence) const {
    auto append_fetch = [newest_sequence](std::vector<int64_t>& out, const TileFetch& fetch) {
      out.insert(out.end(), {newest_sequence - fetch.l2_sequence, fetch.dram_read_bytes});
    };
    fetches.append_items(state, append_fetch);
    append_fetch(state, current_);
    state.push_back(slots.free());
    state.push_back(newest_sequence - tiles_ready);
    activity_.append(state, now);
  }

  Queue<TileFetch> fetches;
  SlotPool slots;
  int64_t tiles_ready = 0;

 private:
  enum Phase { kIdle, kWaitSlot, kFetch };
  void prefetch() {
    while (true) {
      activity_.set(kIdle);
      current_ = fetches.pop();
      const TileFetch& fetch = current_;
      activity_.set(kWaitSlot);
      slots.acquire();
      activity_.set(kFetch);
      if (fetch.dram_read_bytes > 0) {
        job_.use_l2_port(fetch.dram_read_bytes);
        dram_.transfer("fetch L2 tile", fetch.dram_read_bytes);
      }
      ++tiles_ready;
      tile_ready_.notify(sc_core::SC_ZERO_TIME);
    }
  }
  Job& job_;
  DramChannel& dram_;
  Activity activity_;
  TileFetch current_;
  sc_event tile_ready_;
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
    wait_start_ = now_cycles();
    stall_cause_ = waiting_for = StallCause::Dram;
  }
  void append(std::vector<int64_t>& state, int64_t now, int64_t newest_sequence) const {
    auto append = [newest_sequence](std::vector<int64_t>& out, const StepRecord& step) {
      append_step(out, step, newest_sequence);
    };
    steps.append_items(state, append);
    done.append_items(state, append);
    append(state, current_);
    activity_.append(state, now);
    // A stall is booked when it ends, so how long the current one has lasted is state too.
    state.push_back(activity_.phase == kWaitStep ? now - wait_start_ : 0);
  }
  Queue<StepRecord> steps;
  Queue<StepRecord> done;
  // Set by the cluster array: why the next step is not here yet.
  StallCause waiting_for = StallCause::Noc;

 private:
  enum Phase { kWaitStep, kCompute, kHandOver };
  void compute() {
    while (true) {
      activity_.set(kWaitStep);
      wait_start_ = now_cycles();
      stall_cause_ = waiting_for;
      current_ = steps.pop();
      const StepRecord& step = current_;
      // Read the members after the wait: a new job resets them while this thread is parked.
      const int64_t stalled = now_cycles() - wait_start_;
      job_.totals.stall_cycles[static_cast<int>(stall_cause_)] += stalled;
      job_.record("stall", stall_cause_name(stall_cause_), wait_start_, stalled);
      activity_.set(kCompute, step.compute_cycles);
      wait_cycles(step.compute_cycles);
      job_.record("PE array", "step " + std::to_string(step.index),
                  now_cycles() - step.compute_cycles, step.compute_cycles);
      job_.totals.busy.compute = saturating_add(job_.totals.busy.compute, step.compute_cycles);
      int64_t& fill_stalls = job_.totals.stall_cycles[static_cast<int>(StallCause::L1Fill)];
      fill_stalls = saturating_add(fill_stalls, step.fill_stall_cycles);
      activity_.set(kHandOver);
      done.push(step);
    }
  }
  Job& job_;
  Activity activity_;
  StepRecord current_;
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
    slots.reset(job_.arch->double_buffered ? 2 : 1);
    drained = 0;
  }
  void append(std::vector<int64_t>& state, int64_t now, int64_t newest_sequence) const {
    auto append = [newest_sequence](std::vector<int64_t>& out, const StepRecord& step) {
      append_step(out, step, newest_sequence);
    };
    steps.append_items(state, append);
    append(state, filling_);
    append(state, writing_back_);
    state.push_back(slots.free());
    fill_activity_.append(state, now);
    writeback_activity_.append(state, now);
  }

  Queue<StepRecord> steps;
  SlotPool slots;
  int64_t drained = 0;
  sc_event step_drained;

 private:
  enum FillPhase { kIdle, kWaitTile, kWaitSlot, kTransfer, kHandOver };
  void set_fill(FillPhase phase) {
    fill_activity_.set(phase);
    pes_.waiting_for = phase == kWaitTile   ? StallCause::Dram
                       : phase == kWaitSlot ? StallCause::Writeback
                                            : StallCause::Noc;
  }
  void fill() {
    while (true) {
      set_fill(kIdle);
      filling_ = steps.pop();
      const StepRecord& step = filling_;
      set_fill(kWaitTile);
      l2_.wait_ready(step.l2_sequence);
      set_fill(kWaitSlot);
      slots.acquire();
      set_fill(kTransfer);
      if (step.noc_in_bytes > 0) {
        job_.use_l2_port(step.noc_in_bytes);
        noc_.transfer("fill L1", step.noc_in_bytes);
      }
      set_fill(kHandOver);
      pes_.steps.push(step);
    }
  }
  void writeback() {
    while (true) {
      writeback_activity_.set(0);
      writing_back_ = pes_.done.pop();
      const StepRecord& step = writing_back_;
      writeback_activity_.set(1);
      if (step.noc_out_bytes > 0) {
        job_.use_l2_port(step.noc_out_bytes);
        noc_.transfer("partial sums to L2", step.noc_out_bytes);
      }
      slots.release();
      if (step.ends_l2_tile) {
        if (step.dram_write_bytes > 0) {
          job_.use_l2_port(step.dram_write_bytes);
          dram_.transfer("outputs to DRAM", step.dram_write_bytes);
        }
        l2_.slots.release();
      }
      ++drained;
      step_drained.notify(sc_core::SC_ZERO_TIME);
    }
  }
  Job& job_;
  GlobalBuffer& l2_;
  Noc& noc_;
  DramChannel& dram_;
  PeArray& pes_;
  Activity fill_activity_, writeback_activity_;
  StepRecord filling_, writing_back_;
};

// Walks the compiled schedule and feeds the step stream to the hardware; also the StepSink that
// lets the walker skip iterations whose timing repeats.
class Controller : public sc_module, public StepSink {
 public:
  SC_HAS_PROCESS(Controller);
  Controller(sc_module_name name, Job& job, GlobalBuffer& l2, Noc& noc, DramChannel& dram,
             ClusterArray& clusters, PeArray& pes)
      : sc_module(name),
        job_(job),
        l2_(l2),
        noc_(noc),
        dram_(dram),
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
    clusters_.steps.push(step);
  }
  SinkSnapshot snapshot() override {
    SinkSnapshot snapshot;
    const int64_t now = now_cycles();
    // Include time advanced by inner loops, so an outer iteration's period covers all of it.
    snapshot.time = now + job_.time_offset;
    l2_.append(snapshot.state, now, newest_sequence_);
    clusters_.append(snapshot.state, now, newest_sequence_);
    pes_.append(snapshot.state, now, newest_sequence_);
    noc_.append(snapshot.state, now);
    dram_.append(snapshot.state, now);
    snapshot.state.push_back(static_cast<int64_t>(pes_.waiting_for));
    snapshot.totals = flatten(job_.totals, noc_.busy_cycles, dram_.busy_cycles);
    return snapshot;
  }
  void advance(const SinkSnapshot& before, const SinkSnapshot& after, int64_t times) override {
    job_.time_offset =
        saturating_add(job_.time_offset, saturating_mul(times, after.time - before.time));
    std::vector<int64_t> delta(after.totals.size());
    for (std::size_t i = 0; i < delta.size(); ++i)
      delta[i] = saturating_mul(times, after.totals[i] - before.totals[i]);
    add_flat(delta, job_.totals, noc_.busy_cycles, dram_.busy_cycles);
    job_.record("PE array", "steady state: " + std::to_string(times) + " iterations advanced",
                now_cycles(), 1);
  }

 private:
  // Every cumulative counter, in a fixed order, so that snapshots can be subtracted.
  static std::vector<int64_t> flatten(const PipelineResult& totals, int64_t noc_busy,
                                      int64_t dram_busy) {
    std::vector<int64_t> flat;
    for (int64_t stall : totals.stall_cycles) flat.push_back(stall);
    flat.insert(flat.end(),
                {totals.busy.compute, totals.busy.l2, noc_busy, dram_busy, totals.walked_steps});
    return flat;
  }
  static void add_flat(const std::vector<int64_t>& delta, PipelineResult& totals, int64_t& noc_busy,
                       int64_t& dram_busy) {
    std::size_t i = 0;
    for (int64_t& stall : totals.stall_cycles) stall = saturating_add(stall, delta[i++]);
    for (int64_t* busy : {&totals.busy.compute, &totals.busy.l2, &noc_busy, &dram_busy})
      *busy = saturating_add(*busy, delta[i++]);
    i++;  // walked steps stay the steps that really went through the model
  }

  void run() {
    while (true) {
      wait(start_);
      compiler_->walk(*this, skip_);
      while (clusters_.drained < consumed_) wait(clusters_.step_drained);
      end_time = now_cycles();
    }
  }

  Job& job_;
  GlobalBuffer& l2_;
  Noc& noc_;
  DramChannel& dram_;
  ClusterArray& clusters_;
  PeArray& pes_;
  ScheduleCompiler* compiler_ = nullptr;
  bool skip_ = true;
  int64_t consumed_ = 0;
  int64_t newest_sequence_ = 0;
  sc_event start_;
};

class Accelerator : public sc_module {
 public:
  explicit Accelerator(sc_module_name name)
      : sc_module(name),
        dram("dram", job),
        noc("noc", job),
        l2("l2", job, dram),
        pes("pes", job),
        clusters("clusters", job, l2, noc, dram, pes),
        controller("controller", job, l2, noc, dram, clusters, pes) {}

  Job job;
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
  model.dram.busy_cycles = 0;
  model.noc.busy_cycles = 0;
  model.l2.reset();
  model.clusters.reset();
  model.pes.reset();
  model.controller.start(compiler, skip_steady_state);
  sc_core::sc_start();  // returns when the job has drained and nothing is left to happen
  PipelineResult result = job.totals;
  result.cycles = saturating_add(model.controller.end_time - job.start_time, job.time_offset);
  result.busy.noc = model.noc.busy_cycles;
  result.busy.dram = model.dram.busy_cycles;
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
  out << nlohmann::json{{"traceEvents", trace}, {"displayTimeUnit", "ns"}}.dump() << "\n";
  if (!out) throw InputError(path, "--timeline", "cannot write file");
}

}  // namespace dcp::sim
