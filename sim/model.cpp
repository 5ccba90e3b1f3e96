#include "sim/model.hpp"

#include <algorithm>
#include <boost/circular_buffer.hpp>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
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

// One cycle is 1 ns of simulated time, 1000 units of SystemC's default 1 ps resolution
// (accelerator() checks it). A constant, because the processes convert times millions of times
// per second.
constexpr sc_dt::uint64 kTimeUnitsPerCycle = 1000;

[[gnu::always_inline]] inline int64_t kernel_cycles() {
  // The context's inline accessor, not sc_time_stamp(), which is a call into the library: the
  // processes ask for the time tens of times per step.
  const sc_core::sc_time& now = sc_core::sc_get_curr_simcontext()->time_stamp();
  return static_cast<int64_t>(now.value() / kTimeUnitsPerCycle);
}

// The moment the Agenda has run the model up to while it runs ahead of the kernel's time
// (temporal decoupling, as TLM-2.0's loosely-timed models do); never later than the kernel's
// time otherwise, since the kernel catches up before anything else runs.
int64_t decoupled_cycles = 0;

// The model's time: the kernel's, or the Agenda's while it runs ahead. Inline, as kernel_cycles.
[[gnu::always_inline]] inline int64_t now_cycles() {
  return std::max(kernel_cycles(), decoupled_cycles);
}

// Longest single wait: its picoseconds must fit SystemC's uint64 time. A longer one only comes
// from a transfer whose cycles saturated (common/saturating.hpp); its unit's busy cycles are
// saturated too, so evaluate() refuses the result and the shortened wait changes nothing.
constexpr int64_t kMaxWaitCycles = int64_t{1} << 40;

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

  // The name as given (a C string or a std::string), not a view or a string: without a timeline
  // nothing is built, not even a C string's length, for the millions of boxes.
  template <typename Name>
  void record(const char* unit, const Name& name, int64_t start, int64_t duration) const {
    if (timeline != nullptr && duration > 0)
      timeline->push_back({unit, std::string(name), start - start_time + time_offset, duration});
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

// Writes a model's state to a flat vector, or loads it back: sequence numbers relative to the
// stream's position, times relative to now. Two moments whose futures repeat give equal vectors,
// and a vector written at one moment can be loaded at another.
class StateCodec {
 public:
  struct Bases {
    int64_t now = 0;
    int64_t newest_sequence = 0;  // the newest L2 tile posted
    int64_t steps_consumed = 0;   // the index the next step will have
  };
  // Writes over `out` from its start, with room for `expected_words` made first (a state is about
  // as long as the last one); finish() trims `out` to what was written. `out` keeps its length
  // in between, so a vector written again needs neither room nor zeroing.
  StateCodec(std::vector<int64_t>& out, Bases bases, std::size_t expected_words)
      : out_(&out), bases_(bases) {
    make_room(0, std::max<std::size_t>(expected_words, 1));
  }
  StateCodec(const std::vector<int64_t>& in, Bases bases) : in_(&in), bases_(bases) {}
  void finish() { out_->resize(position()); }
  bool loading() const { return in_ != nullptr; }
  int64_t now() const { return bases_.now; }
  // A phase, a flag, a size or a byte count, stored as is. Inlined by force: snapshots write
  // every field of the model at every loop iteration.
  template <typename Field>
  [[gnu::always_inline]] void value(Field& field) {
    if (loading())
      field = static_cast<Field>((*in_)[cursor_++]);
    else
      *claim(1) = static_cast<int64_t>(field);
  }
  // Several values in a row: one room check for all of them.
  template <typename... Fields>
  [[gnu::always_inline]] void values(Fields&... fields) {
    if (loading()) {
      (value(fields), ...);
      return;
    }
    int64_t* out = claim(sizeof...(Fields));
    ((*out++ = static_cast<int64_t>(fields)), ...);
  }
  // The next `words` words of the output, for the caller to write.
  [[gnu::always_inline]] int64_t* claim(std::size_t words) {
    if (static_cast<std::size_t>(write_end_ - write_) < words) make_room(position(), words);
    int64_t* claimed = write_;
    write_ += words;
    return claimed;
  }
  [[gnu::always_inline]] void relative(int64_t& field, int64_t base) {
    int64_t offset = field - base;
    value(offset);
    field = base + offset;
  }
  [[gnu::always_inline]] void sequence(int64_t& l2_sequence) {
    relative(l2_sequence, bases_.newest_sequence);
  }
  [[gnu::always_inline]] void step_index(int64_t& index) { relative(index, bases_.steps_consumed); }
  // A moment that has passed (when a stall began), exactly.
  [[gnu::always_inline]] void since(int64_t& time) {
    note_time_word(kPastTime);
    relative(time, bases_.now);
  }
  // When a wait ends: one already over acts as now.
  [[gnu::always_inline]] void until(int64_t& time) {
    note_time_word(0);
    int64_t remaining = std::max<int64_t>(time - bases_.now, 0);
    value(remaining);
    if (loading()) time = bases_.now + remaining;
  }
  template <typename Item, typename Visit>
  void items(boost::circular_buffer<Item>& items, Visit&& visit) {
    int64_t count = static_cast<int64_t>(items.size());
    value(count);
    if (loading()) {
      items.clear();
      items.resize(static_cast<std::size_t>(count));
    }
    for (Item& item : items) visit(*this, item);
  }
  const std::vector<int64_t>* input() const { return in_; }
  std::size_t& cursor() { return cursor_; }

  // A word that counts cycles from now: a wait's end, clamped at `floor`, or a moment that has
  // passed (kPastTime). A wait's end `wakes` when something happens then (a process's timed
  // wait, a channel's hold); otherwise it only tells a later request when it may start (a DRAM
  // bank's or the bus's ready time). Only a writing codec given `time_words` lists them.
  struct TimeWord {
    std::size_t position = 0;
    int64_t floor = 0;
    bool wakes = true;
  };
  static constexpr int64_t kPastTime = std::numeric_limits<int64_t>::min();
  void list_time_words(std::vector<TimeWord>& time_words) { time_words_ = &time_words; }
  // The words at position() + offset for each (offset, floor) that `visit_words` reports:
  // ready times, which wake nothing.
  template <typename VisitWords>
  void note_ready_times(VisitWords&& visit_words) {
    if (time_words_ == nullptr) return;
    visit_words([&](std::size_t offset, int64_t floor) {
      time_words_->push_back({position() + offset, floor, false});
    });
  }

 private:
  // Snapshots write every word of the model at every loop iteration: plain stores into room made
  // ahead, not a vector's push_back per word.
  std::size_t position() const { return static_cast<std::size_t>(write_ - out_->data()); }
  void make_room(std::size_t position, std::size_t words) {
    if (out_->size() < position + words) out_->resize(std::max(position + words, 2 * out_->size()));
    write_ = out_->data() + position;
    write_end_ = out_->data() + out_->size();
  }
  void note_time_word(int64_t floor) {
    if (time_words_ != nullptr) time_words_->push_back({position(), floor});
  }
  std::vector<TimeWord>* time_words_ = nullptr;
  std::vector<int64_t>* out_ = nullptr;
  int64_t* write_ = nullptr;
  int64_t* write_end_ = nullptr;
  const std::vector<int64_t>* in_ = nullptr;
  Bases bases_;
  std::size_t cursor_ = 0;
};

// Everything of a step that decides its timing.
void visit_step(StateCodec& codec, StepTiming& step) {
  codec.step_index(step.index);
  codec.sequence(step.l2_sequence);
  codec.values(step.ends_l2_tile, step.late_fill_has_outputs, step.dram_write_bytes, step.fill.noc,
               step.fill.from_dram, step.late_fill.noc, step.late_fill.from_dram,
               step.noc_out_bytes, step.compute_cycles, step.fill_stall_cycles,
               step.output_tree_cycles);
}

void visit_fetch(StateCodec& codec, TileFetch& fetch) {
  codec.sequence(fetch.l2_sequence);
  codec.values(fetch.dram_read_bytes, fetch.late_dram_read_bytes);
}

class Process;

// A condition that processes wait on and re-check when it changes (a queue, a slot count, a
// channel's turn). The controller's thread may wait on it too. Only waiters are woken, each in the
// next delta cycle, as an event notified then would wake them.
class Condition {
 public:
  Condition() : id_(static_cast<int>(registry().size())) { registry().push_back(this); }
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;
  void wait(Process& process);
  void wait_in_thread();
  // Inline: most notifications find nobody waiting.
  void notify() {
    if (!waiters_.empty() || thread_waiters_ > 0) wake_waiters();
  }
  // Every condition of the model, by id: a process's state names the one it waits on.
  static std::vector<Condition*>& registry() {
    static std::vector<Condition*> conditions;
    return conditions;
  }
  // Before a state is loaded: the processes' states say who waits where.
  static void forget_waiters() {
    for (Condition* condition : registry()) condition->waiters_.clear();
  }

 private:
  void wake_waiters();
  int id_;
  std::vector<Process*> waiters_;
  sc_event thread_event_;
  int thread_waiters_ = 0;
};

sc_time cycles_time(int64_t cycles) {
  return sc_time::from_value(static_cast<sc_dt::uint64>(cycles) * kTimeUnitsPerCycle);
}

// Notifies `event` for the model's present moment: in the next delta cycle, or, while the Agenda
// runs ahead, when the kernel's time reaches the model's.
void notify_at_model_now(sc_event& event) {
  const int64_t lead = now_cycles() - kernel_cycles();
  if (lead == 0)
    event.notify(sc_core::SC_ZERO_TIME);
  else
    event.notify(cycles_time(lead));
}

// Wakes the processes whose timed waits end, those due at one moment in the order the processes
// were built. The kernel orders events due at one moment as it likes, and differently after a
// state is loaded; with this order a loaded state runs on exactly as it ran the first time.
// Processes whose condition changed run in the next delta cycle, all from one activation of the
// agenda, the last woken first. IEEE 1666 leaves the order of processes runnable in one delta
// cycle to the kernel; this is the order SystemC 2.3's kernel gave them when each process had its
// own event (it triggers a delta cycle's notifications last first), so every result stays as it
// was while the order becomes the model's.
class Agenda : public sc_module {
 public:
  SC_HAS_PROCESS(Agenda);
  explicit Agenda(sc_module_name name) : sc_module(name) {
    instance() = this;
    SC_METHOD(wake_due);
    sensitive << tick_;
    dont_initialize();
    SC_METHOD(run_woken);
    sensitive << delta_;
    dont_initialize();
  }
  static Agenda*& instance() {
    static Agenda* agenda = nullptr;
    return agenda;
  }
  void add(int64_t at, Process& process) {
    sleepers_.push_back({at, &process});
    // Inside an activation the kernel is asked once, at its end, for the earliest wake-up.
    if (in_activation_)
      earliest_added_ = std::min(earliest_added_, at);
    else if (at < tick_at_)  // a pending tick that comes sooner wins anyway
      notify_tick(at);
  }
  // Runs `process` in the next delta cycle, once however often it is woken before then.
  void wake_next_delta(Process& process);
  // Whether the controller's thread runs in the next delta cycle, woken by a condition it waits
  // on (not merely checking, in settle(), whether anything is still due now).
  bool thread_due = false;
  // Before a run, and before a state is loaded (the processes' states say who sleeps until
  // when).
  void clear();

 private:
  struct Sleeper {
    int64_t wake_at;
    Process* process;
  };
  void wake_due();
  void run_woken();
  void run_batch();
  void run_batches_ahead();
  void run_due(int64_t now);
  void notify_tick(int64_t at) {
    tick_at_ = at;
    tick_.notify(cycles_time(at - kernel_cycles()));
  }
  static constexpr int64_t kNoTick = std::numeric_limits<int64_t>::max();
  sc_event tick_;
  int64_t tick_at_ = kNoTick;      // when tick_ is due
  std::vector<Sleeper> sleepers_;  // a handful: one per process at most
  std::vector<Process*> due_;      // those woken now, kept to reuse its room
  sc_event delta_;
  std::vector<Process*> woken_;       // to run in the next delta cycle, in the order woken
  std::vector<Process*> running_;     // the delta cycle's batch, kept to reuse its room
  bool in_activation_ = false;        // wake_due or run_woken is running
  int64_t earliest_added_ = kNoTick;  // the earliest wake-up added in this activation
};

// A hardware process whose whole state is data: an SC_METHOD that runs as far as it can each time
// it is woken, then either sleeps for a timed wait or waits on a condition. Its phase, its
// wake-up time and its members say exactly where it stands, with no thread stack behind them,
// so its state can be written, compared and loaded.
class Process : public sc_module {
 public:
  SC_HAS_PROCESS(Process);
  explicit Process(sc_module_name name) : sc_module(name), id_(next_id()++) {
    // Runs once, at initialisation, to park the process on its input queue; later runs come
    // from the Agenda.
    SC_METHOD(resume);
  }
  // Runs again after `cycles` (a positive number).
  void sleep(int64_t cycles) {
    wake_at_ = now_cycles() + std::min(cycles, kMaxWaitCycles);
    Agenda::instance()->add(wake_at_, *this);
  }
  // Runs again in the next delta cycle: the condition it waited on has changed.
  void wake() {
    waiting_on_ = -1;
    Agenda::instance()->wake_next_delta(*this);
  }
  // Runs now, inside the caller's activation (the agenda's: a timed wait has ended, or a
  // condition changed in the last delta cycle).
  void run_now() { run(); }
  // Whether the process is in the Agenda's batch for the next delta cycle.
  bool woken = false;
  // The order processes due at one moment are woken in (Agenda, Condition): the order they were
  // built.
  static bool built_before(const Process* a, const Process* b) { return a->id_ < b->id_; }
  void wait_on(int condition) { waiting_on_ = condition; }
  // The phase, the condition waited on and how long the current timed wait still lasts.
  [[gnu::always_inline]] void visit_process(StateCodec& codec) {
    codec.values(phase_, waiting_on_);
    codec.until(wake_at_);
  }
  // After a load, at a moment when no process is runnable: wait again as the state says.
  void rearm() {
    const int64_t now = now_cycles();
    if (waiting_on_ >= 0)
      Condition::registry()[static_cast<std::size_t>(waiting_on_)]->wait(*this);
    else if (wake_at_ > now)
      Agenda::instance()->add(wake_at_, *this);
    else
      throw std::logic_error(std::string(name()) + ": loaded state neither waits nor sleeps");
  }

 protected:
  virtual void run() = 0;
  int phase_ = 0;

 private:
  static int& next_id() {
    static int id = 0;
    return id;
  }
  void resume() { run(); }
  const int id_;
  int64_t wake_at_ = 0;
  int waiting_on_ = -1;
};

void Condition::wait(Process& process) {
  process.wait_on(id_);
  waiters_.push_back(&process);
}

void Agenda::wake_due() {
  tick_at_ = kNoTick;
  in_activation_ = true;
  run_due(now_cycles());
  run_batches_ahead();
}

void Agenda::run_due(int64_t now) {
  // Taken out first: a process that runs may sleep again, which adds to the sleepers. Those
  // left behind count towards the next tick.
  due_.clear();
  int64_t earliest_left = kNoTick;
  std::size_t left = 0;
  for (const Sleeper& sleeper : sleepers_) {
    if (sleeper.wake_at <= now) {
      due_.push_back(sleeper.process);
    } else {
      sleepers_[left++] = sleeper;
      earliest_left = std::min(earliest_left, sleeper.wake_at);
    }
  }
  sleepers_.resize(left);
  std::sort(due_.begin(), due_.end(), Process::built_before);
  earliest_added_ = earliest_left;
  for (Process* process : due_) process->run_now();
}

void Agenda::wake_next_delta(Process& process) {
  if (process.woken) return;
  process.woken = true;
  // Inside an activation, run_batches_ahead asks for the next delta cycle if it must.
  if (woken_.empty() && !in_activation_) notify_at_model_now(delta_);
  woken_.push_back(&process);
}

void Agenda::run_woken() {
  in_activation_ = true;
  earliest_added_ = kNoTick;
  run_batch();
  run_batches_ahead();
}

void Agenda::run_batch() {
  // Those woken while the batch runs belong to the next delta cycle.
  running_.swap(woken_);
  for (Process* process : running_) process->woken = false;
  for (auto process = running_.rbegin(); process != running_.rend(); ++process)
    (*process)->run_now();
  running_.clear();
}

void Agenda::run_batches_ahead() {
  // Once the kernel is found idle it stays so for the rest of the activation: inside it the
  // processes only reach the kernel through the thread's wake-up, which ends the run ahead.
  bool kernel_idle = false;
  while (true) {
    // A batch due in the next delta cycle runs now when nothing else would run before it: the
    // kernel would only have run the delta cycle for it. Once the controller's thread is woken,
    // the batches wait for the delta cycles the kernel gives them, so the thread still runs
    // between the same two batches.
    while (!woken_.empty() && !thread_due) run_batch();
    if (thread_due) break;
    // Likewise the next timed wake-up runs now, ahead of the kernel's time, when the kernel has
    // nothing else to do before it: the kernel would only have advanced its time to it. The
    // pending tick, if any, is the agenda's own and is taken back first.
    const int64_t next = std::min(earliest_added_, tick_at_);
    if (next == kNoTick) break;
    if (!kernel_idle) {
      tick_.cancel();
      tick_at_ = kNoTick;
      earliest_added_ = next;
      if (sc_core::sc_pending_activity()) break;
      kernel_idle = true;
    }
    decoupled_cycles = next;
    run_due(next);
  }
  in_activation_ = false;
  if (earliest_added_ < tick_at_) notify_tick(earliest_added_);
  if (!woken_.empty()) notify_at_model_now(delta_);
}

void Agenda::clear() {
  decoupled_cycles = 0;
  sleepers_.clear();
  tick_.cancel();
  tick_at_ = kNoTick;
  for (Process* process : woken_) process->woken = false;
  woken_.clear();
  delta_.cancel();
  // A run that a model error ended inside an activation leaves nothing behind.
  in_activation_ = false;
  thread_due = false;
}

void Condition::wake_waiters() {
  // In the order the processes were built, not the order they began to wait in.
  if (waiters_.size() > 1) std::sort(waiters_.begin(), waiters_.end(), Process::built_before);
  for (Process* waiter : waiters_) waiter->wake();
  waiters_.clear();
  if (thread_waiters_ > 0) {
    notify_at_model_now(thread_event_);
    Agenda::instance()->thread_due = true;
  }
}

void Condition::wait_in_thread() {
  ++thread_waiters_;
  sc_core::wait(thread_event_);
  --thread_waiters_;
  Agenda::instance()->thread_due = false;
}

// Single-producer single-consumer queue with back-pressure: a process checks `full()` or
// `empty()` and waits on `changed` when it cannot go on.
template <typename Item>
class Queue {
 public:
  explicit Queue(std::size_t capacity) : capacity_(capacity) {}
  bool full() const { return items_.size() >= capacity_; }
  bool empty() const { return items_.empty(); }
  void push(Item item) {
    if (items_.full()) items_.set_capacity(std::max<std::size_t>(4, 2 * items_.capacity()));
    items_.push_back(std::move(item));
    changed.notify();
  }
  Item pop() {
    Item item = std::move(items_.front());
    items_.pop_front();
    changed.notify();
    return item;
  }
  // For the controller's thread, which blocks instead.
  void push_from_thread(Item item) {
    while (full()) changed.wait_in_thread();
    push(std::move(item));
  }
  template <typename Visit>
  void visit(StateCodec& codec, Visit&& visit_item) {
    codec.items(items_, visit_item);
  }
  Condition changed;

 private:
  std::size_t capacity_;
  // A ring that grows to the longest the queue has been: a deque would free and allocate a
  // block every few items as steps stream through.
  boost::circular_buffer<Item> items_;
};

// Buffer slots: a tile holds one from its fetch until its outputs have left.
class SlotPool {
 public:
  void reset(int64_t slots) { free_ = slots; }
  // Takes a slot, or waits for one to be released.
  bool acquire(Process& process) {
    if (free_ == 0) {
      released_.wait(process);
      return false;
    }
    --free_;
    return true;
  }
  void release() {
    ++free_;
    released_.notify();
  }
  void visit(StateCodec& codec) { codec.value(free_); }

 private:
  int64_t free_ = 0;
  Condition released_;
};

class TransferChannel;

// One use of a channel, or of two at once, by a process: it queues for both, then holds both
// until the slower is done.
class Transfer {
 public:
  // True once done; otherwise the process has been set to wait. `begin(start)` books the
  // channels when both are free and returns how long they are held.
  template <typename Begin>
  bool advance(Process& process, TransferChannel& first, TransferChannel* second, Begin&& begin);
  void visit(StateCodec& codec);

 private:
  enum State { kNone, kQueued, kHeld };
  State state_ = kNone;
  TransferChannel* first_ = nullptr;
  TransferChannel* second_ = nullptr;
  int64_t first_ticket_ = 0;
  int64_t second_ticket_ = 0;
  int64_t done_at_ = 0;
};

// A shared resource (the DRAM channel, the NoC, the global buffer's port) that serves one
// transfer at a time, in request order: contention shows up as waiting, and its busy cycles can
// never exceed the run. Each service is one box on the resource's timeline track.
class TransferChannel {
 public:
  TransferChannel(Job& job, const char* track)
      : job_(job), track_(track), id_(static_cast<int>(registry().size())) {
    registry().push_back(this);
  }
  TransferChannel(const TransferChannel&) = delete;
  TransferChannel& operator=(const TransferChannel&) = delete;
  virtual ~TransferChannel() = default;
  // Every channel of the model, by id: a transfer's state names the ones it uses.
  static std::vector<TransferChannel*>& registry() {
    static std::vector<TransferChannel*> channels;
    return channels;
  }
  int id() const { return id_; }
  void reset() { busy_cycles = 0; }
  // Serves `cycles` of work for `process` through `transfer`; true once done.
  bool serve(Transfer& transfer, Process& process, const char* what, int64_t cycles) {
    return transfer.advance(process, *this, nullptr, [&](int64_t start) {
      book(what, start, cycles, cycles);
      return cycles;
    });
  }
  // Tickets count from the one being served, which stays where it is when a state is loaded.
  virtual void visit(StateCodec& codec) {
    codec.relative(next_ticket_, serving_);
    codec.until(held_until_);
  }
  const char* track() const { return track_; }
  // This turn holds the channel `hold` cycles from `start`, `busy` of them doing work.
  void book(const char* what, int64_t start, int64_t hold, int64_t busy) {
    held_until_ = saturating_add(start, hold);
    busy_cycles = saturating_add(busy_cycles, busy);
    job_.record(track_, what, start, busy);
  }
  int64_t busy_cycles = 0;

 protected:
  friend class Transfer;
  int64_t take_ticket() { return next_ticket_++; }
  bool is_turn(int64_t ticket) const { return serving_ == ticket; }
  void end_turn() {
    ++serving_;
    released_.notify();
  }
  Job& job_;
  Condition released_;

 private:
  const char* track_;
  int id_;
  int64_t next_ticket_ = 0;
  int64_t serving_ = 0;
  int64_t held_until_ = 0;
};

// Both tickets are taken before any wait, so every resource serves in one global order and two
// transfers can never wait on each other.
template <typename Begin>
bool Transfer::advance(Process& process, TransferChannel& first, TransferChannel* second,
                       Begin&& begin) {
  if (state_ == kNone) {
    first_ = &first;
    second_ = second;
    first_ticket_ = first.take_ticket();
    if (second != nullptr) second_ticket_ = second->take_ticket();
    state_ = kQueued;
  }
  const int64_t now = now_cycles();
  if (state_ == kQueued) {
    if (!first.is_turn(first_ticket_)) {
      first.released_.wait(process);
      return false;
    }
    if (second != nullptr && !second->is_turn(second_ticket_)) {
      second->released_.wait(process);
      return false;
    }
    done_at_ = saturating_add(now, begin(now));
    state_ = kHeld;
  }
  if (now < done_at_) {
    process.sleep(done_at_ - now);
    return false;
  }
  first.end_turn();
  if (second != nullptr) second->end_turn();
  state_ = kNone;
  return true;
}

void Transfer::visit(StateCodec& codec) {
  codec.value(state_);
  if (state_ == kNone) return;
  int first_id = codec.loading() ? 0 : first_->id();
  int second_id = codec.loading() || second_ == nullptr ? -1 : second_->id();
  codec.values(first_id, second_id);
  if (codec.loading()) {
    first_ = TransferChannel::registry()[static_cast<std::size_t>(first_id)];
    second_ =
        second_id < 0 ? nullptr : TransferChannel::registry()[static_cast<std::size_t>(second_id)];
  }
  codec.relative(first_ticket_, first_->serving_);
  if (second_ != nullptr) codec.relative(second_ticket_, second_->serving_);
  if (state_ == kHeld) codec.until(done_at_);
}

// Moves data between DRAM and the global buffer: the DRAM channel, timed by the bank and
// row-buffer model, then the buffer's port (the data lands in the port's staging FIFO, so the
// port is not held while DRAM is slow). Each transfer is a stream from a fresh DRAM row at the
// first bank (tiles live apart in memory), so repeating transfers see repeating bank states.
class DramChannel : public TransferChannel {
 public:
  explicit DramChannel(Job& job) : TransferChannel(job, "DRAM") {}
  void reset(const ArchSpec& arch) {
    TransferChannel::reset();
    model_.emplace(arch);
    next_stream_row_ = 0;
  }
  // One stream of `bytes` through the channel; true once done.
  bool access(Transfer& transfer, Process& process, const char* what, int64_t bytes,
              bool is_write) {
    return transfer.advance(process, *this, nullptr, [&](int64_t start) {
      const int64_t bus_busy_before = model_->bus_busy_cycles();
      const DramTiming& timing = job_.arch->dram;
      const auto address = static_cast<uint64_t>(next_stream_row_) *
                           static_cast<uint64_t>(timing.banks * timing.row_bytes);
      const int64_t done = model_->access(start, address, bytes, is_write);
      next_stream_row_ += ceil_div(bytes, timing.banks * timing.row_bytes);
      book(what, start, done - start, model_->bus_busy_cycles() - bus_busy_before);
      return done - start;
    });
  }
  // DRAM rows count from the next stream's, which stays where it is when a state is loaded.
  void visit(StateCodec& codec) override {
    TransferChannel::visit(codec);
    if (codec.loading())
      model_->load_state(*codec.input(), codec.cursor(), codec.now(), next_stream_row_);
    else {
      codec.note_ready_times([&](auto&& note) { model_->visit_time_words(note); });
      model_->write_state(codec.claim(model_->state_words()), codec.now(), next_stream_row_);
    }
  }

 private:
  std::optional<DramModel> model_;
  int64_t next_stream_row_ = 0;  // in rows of every bank: where the next transfer starts
};

// L2 <-> cluster network. A transfer holds the NoC and the global buffer's port together.
class Noc : public TransferChannel {
 public:
  Noc(Job& job, TransferChannel& l2_port) : TransferChannel(job, "NoC"), l2_port_(l2_port) {}
  // `l2_bytes` of the `bytes` pass the global buffer's port; the rest bypass L2. True once done.
  bool transfer(Transfer& transfer, Process& process, const char* what, int64_t bytes,
                int64_t l2_bytes) {
    TransferChannel* port = l2_bytes > 0 ? &l2_port_ : nullptr;
    // Timed when the transfer begins: a process asks again every time it is woken while queued.
    return transfer.advance(process, *this, port, [&](int64_t start) {
      const int64_t noc_cycles = transfer_cycles(bytes, job_.arch->noc_bandwidth);
      const int64_t port_cycles = transfer_cycles(l2_bytes, job_.arch->l2_bandwidth);
      book(what, start, noc_cycles, noc_cycles);
      if (port != nullptr) l2_port_.book(what, start, port_cycles, port_cycles);
      return std::max(noc_cycles, port != nullptr ? port_cycles : 0);
    });
  }

 private:
  TransferChannel& l2_port_;
};

// Global buffer: prefetches L2 tiles from DRAM into free slots, in order, and drains finished
// tiles' outputs to DRAM.
class GlobalBuffer : public sc_module {
 public:
  GlobalBuffer(sc_module_name name, Job& job, DramChannel& dram, TransferChannel& l2_port)
      : sc_module(name),
        fetches(1u << 30),
        drains(1u << 30),
        job_(job),
        prefetch_("prefetch", *this, dram, l2_port),
        drain_("drain", *this, dram, l2_port) {}
  void reset() {
    slots.reset(buffer_slots(*job_.arch));
    tiles_ready = 0;
    tiles_released = 0;
    tiles_ended = 0;
  }
  // The tile's last step has drained into L2: its outputs go to DRAM while later tiles compute,
  // and its slot is released once they are written.
  void end_tile(int64_t dram_write_bytes) {
    drains.push(dram_write_bytes);
    ++tiles_ended;
  }
  // Single-buffered outputs share their space with the next tile's partial sums, so the step
  // that ended a tile waits for its write before the next one may drain.
  bool outputs_single_buffered() const {
    return !flag_of(job_.arch->double_buffered, Tensor::Output);
  }
  void visit(StateCodec& codec) {
    fetches.visit(codec, visit_fetch);
    slots.visit(codec);
    codec.sequence(tiles_ready);
    codec.sequence(tiles_released);
    codec.sequence(tiles_ended);
    prefetch_.visit(codec);
    drains.visit(codec, [](StateCodec& items, int64_t& bytes) { items.value(bytes); });
    drain_.visit(codec);
  }
  void rearm() {
    prefetch_.rearm();
    drain_.rearm();
  }

  Queue<TileFetch> fetches;
  Queue<int64_t> drains;
  SlotPool slots;
  int64_t tiles_ready = 0;
  int64_t tiles_released = 0;
  int64_t tiles_ended = 0;
  Condition tile_ready;
  Condition tile_released;

 private:
  class Prefetch : public Process {
   public:
    Prefetch(sc_module_name name, GlobalBuffer& l2, DramChannel& dram, TransferChannel& l2_port)
        : Process(name), l2_(l2), dram_(dram), l2_port_(l2_port) {}
    void visit(StateCodec& codec) {
      visit_process(codec);
      if (phase_ != kIdle) visit_fetch(codec, current_);
      transfer_.visit(codec);
    }

   private:
    enum Phase { kIdle, kWaitSlot, kFetchDram, kFetchPort, kWaitRelease, kLateDram, kLatePort };
    void run() override {
      while (true) {
        switch (phase_) {
          case kIdle:
            if (l2_.fetches.empty()) return l2_.fetches.changed.wait(*this);
            current_ = l2_.fetches.pop();
            phase_ = kWaitSlot;
            [[fallthrough]];
          case kWaitSlot:
            if (!l2_.slots.acquire(*this)) return;
            phase_ = current_.dram_read_bytes > 0 ? kFetchDram : kWaitRelease;
            continue;
          case kFetchDram:
          case kFetchPort:
            if (!read_into_l2("fetch L2 tile", current_.dram_read_bytes, kFetchPort)) return;
            phase_ = kWaitRelease;
            [[fallthrough]];
          case kWaitRelease:
            // Single-buffered tensors overwrite the previous tile's, so they wait for its release.
            if (current_.late_dram_read_bytes > 0) {
              if (l2_.tiles_released < current_.l2_sequence) return l2_.tile_released.wait(*this);
              phase_ = kLateDram;
              continue;
            }
            break;
          case kLateDram:
          case kLatePort:
            if (!read_into_l2("fetch L2 tile (single-buffered)", current_.late_dram_read_bytes,
                              kLatePort))
              return;
            break;
        }
        ++l2_.tiles_ready;
        l2_.tile_ready.notify();
        phase_ = kIdle;
      }
    }
    // The DRAM channel, then the buffer's port (the data waits in the port's staging FIFO, so the
    // port is not held while DRAM is slow); true once both are done. `port_phase` marks the
    // second leg.
    bool read_into_l2(const char* what, int64_t bytes, Phase port_phase) {
      if (phase_ != port_phase) {
        if (!dram_.access(transfer_, *this, what, bytes, false)) return false;
        phase_ = port_phase;
      }
      return l2_port_.serve(transfer_, *this, what,
                            transfer_cycles(bytes, l2_.job_.arch->l2_bandwidth));
    }
    GlobalBuffer& l2_;
    DramChannel& dram_;
    TransferChannel& l2_port_;
    Transfer transfer_;
    TileFetch current_;
  };

  class Drain : public Process {
   public:
    Drain(sc_module_name name, GlobalBuffer& l2, DramChannel& dram, TransferChannel& l2_port)
        : Process(name), l2_(l2), dram_(dram), l2_port_(l2_port) {}
    void visit(StateCodec& codec) {
      visit_process(codec);
      if (phase_ != kIdle) codec.value(bytes_);
      transfer_.visit(codec);
    }

   private:
    enum Phase { kIdle, kPort, kDram };
    void run() override {
      while (true) {
        switch (phase_) {
          case kIdle:
            if (l2_.drains.empty()) return l2_.drains.changed.wait(*this);
            bytes_ = l2_.drains.pop();
            if (bytes_ == 0) break;
            phase_ = kPort;
            [[fallthrough]];
          case kPort:
            if (!l2_port_.serve(transfer_, *this, "outputs to DRAM",
                                transfer_cycles(bytes_, l2_.job_.arch->l2_bandwidth)))
              return;
            phase_ = kDram;
            [[fallthrough]];
          case kDram:
            if (!dram_.access(transfer_, *this, "outputs to DRAM", bytes_, true)) return;
            break;
        }
        l2_.slots.release();
        ++l2_.tiles_released;
        l2_.tile_released.notify();
        phase_ = kIdle;
      }
    }
    GlobalBuffer& l2_;
    DramChannel& dram_;
    TransferChannel& l2_port_;
    Transfer transfer_;
    int64_t bytes_ = 0;
  };

  Job& job_;
  Prefetch prefetch_;
  Drain drain_;
};

// PEs with L0 and the MAC pipeline, run as one burst per L1 step (the busiest cluster's time).
class PeArray : public Process {
 public:
  PeArray(sc_module_name name, Job& job) : Process(name), steps(2), done(2), job_(job) {}
  // Until the first step arrives the PEs wait for the first tile from DRAM.
  void reset() {
    wait_start_ = now_cycles();
    computed = 0;
    stall_cause_ = waiting_for = StallCause::Dram;
  }
  void visit(StateCodec& codec) {
    steps.visit(codec, visit_step);
    done.visit(codec, visit_step);
    visit_process(codec);
    codec.value(waiting_for);
    codec.step_index(computed);
    if (phase_ == kWaitStep) {
      // A stall is booked when it ends, so when the current one began is state too.
      codec.since(wait_start_);
      codec.value(stall_cause_);
      return;
    }
    visit_step(codec, current_);
    codec.since(phase_ == kCompute ? compute_start_ : hand_over_start_);
  }
  Queue<StepTiming> steps;
  Queue<StepTiming> done;
  // Set by the cluster array: why the next step is not here yet. A wait that begins at the
  // moment the reason changes is booked to the reason that moment ends with, whichever of the
  // two processes ran first at it.
  void set_waiting_for(StallCause cause) {
    waiting_for = cause;
    if (phase_ == kWaitStep && wait_start_ == now_cycles()) stall_cause_ = cause;
  }
  StallCause waiting_for = StallCause::Noc;
  // Steps whose MACs are done: their operands' space may be refilled.
  int64_t computed = 0;
  Condition step_computed;
  // The drain after the last step (partial sums and outputs still leaving) is a write-back stall:
  // the PEs have waited since they handed over the last step (or since the run began).
  void book_drain(int64_t end) {
    book_stall(StallCause::Writeback, wait_start_, end - wait_start_);
  }

 private:
  enum Phase { kWaitStep, kCompute, kHandOver };
  // Every cycle of the run is either a MAC cycle or a stall with one cause: waiting for a step
  // (its cause set by the cluster array when the wait began), L1 fills inside a burst, or
  // handing a finished step to a write-back that is still busy.
  void run() override {
    while (true) {
      switch (phase_) {
        case kWaitStep:
          if (steps.empty()) return steps.changed.wait(*this);
          current_ = steps.pop();
          book_stall(stall_cause_, wait_start_, now_cycles() - wait_start_);
          phase_ = kCompute;
          compute_start_ = now_cycles();
          if (current_.compute_cycles > 0) return sleep(current_.compute_cycles);
          [[fallthrough]];
        case kCompute: {
          const int64_t mac_cycles = current_.compute_cycles - current_.fill_stall_cycles;
          ++computed;
          step_computed.notify();
          if (job_.timeline != nullptr)
            job_.record("PE array", "step " + std::to_string(current_.index), compute_start_,
                        mac_cycles);
          job_.totals.busy.compute = saturating_add(job_.totals.busy.compute, mac_cycles);
          book_stall(StallCause::L1Fill, compute_start_ + mac_cycles, current_.fill_stall_cycles);
          phase_ = kHandOver;
          hand_over_start_ = now_cycles();
          [[fallthrough]];
        }
        case kHandOver:
          if (done.full()) return done.changed.wait(*this);
          done.push(current_);
          book_stall(StallCause::Writeback, hand_over_start_, now_cycles() - hand_over_start_);
          phase_ = kWaitStep;
          wait_start_ = now_cycles();
          stall_cause_ = waiting_for;
          break;
      }
    }
  }
  void book_stall(StallCause cause, int64_t start, int64_t cycles) {
    int64_t& total = job_.totals.stall_cycles[static_cast<int>(cause)];
    total = saturating_add(total, cycles);
    job_.record("stall", stall_cause_name(cause), start, cycles);
  }
  Job& job_;
  StepTiming current_;
  int64_t wait_start_ = 0;
  int64_t compute_start_ = 0;
  int64_t hand_over_start_ = 0;
  StallCause stall_cause_ = StallCause::Dram;
};

// Clusters with their L1s: fill each step's L1 tile over the NoC once its L2 tile is present and
// an L1 slot is free; after the PEs are done, send partial sums back and release the slots.
class ClusterArray : public sc_module {
 public:
  ClusterArray(sc_module_name name, Job& job, GlobalBuffer& l2, Noc& noc, DramChannel& dram,
               PeArray& pes)
      : sc_module(name),
        steps(2),
        job_(job),
        fill_("fill", *this, l2, noc, dram, pes),
        writeback_("writeback", *this, l2, noc, dram, pes) {}
  void reset() {
    slots.reset(buffer_slots(*job_.arch));
    drained = 0;
  }
  void visit(StateCodec& codec) {
    steps.visit(codec, visit_step);
    slots.visit(codec);
    codec.step_index(drained);
    fill_.visit(codec);
    writeback_.visit(codec);
  }
  void rearm() {
    fill_.rearm();
    writeback_.rearm();
  }

  Queue<StepTiming> steps;
  SlotPool slots;
  int64_t drained = 0;
  Condition step_drained;

 private:
  class Fill : public Process {
   public:
    Fill(sc_module_name name, ClusterArray& clusters, GlobalBuffer& l2, Noc& noc, DramChannel& dram,
         PeArray& pes)
        : Process(name), clusters_(clusters), l2_(l2), noc_(noc), dram_(dram), pes_(pes) {}
    void visit(StateCodec& codec) {
      visit_process(codec);
      if (phase_ != kIdle) visit_step(codec, step_);
      transfer_.visit(codec);
    }

   private:
    enum Phase {
      kIdle,
      kWaitTile,
      kWaitSlot,
      kBypassRead,
      kTransfer,
      kWaitDrain,
      kWaitCompute,
      kLateBypassRead,
      kLateTransfer,
      kHandOver
    };
    // Each phase tells the PEs why a step they wait for is not there yet.
    void enter(Phase phase) {
      phase_ = phase;
      pes_.set_waiting_for(phase == kWaitTile || phase == kBypassRead || phase == kLateBypassRead
                               ? StallCause::Dram
                           : phase == kWaitSlot || phase == kWaitDrain ? StallCause::Writeback
                                                                       : StallCause::Noc);
    }
    // The first phase of a fill: its DRAM read when a tensor bypasses L2, else its NoC transfer.
    void start_fill(const FillBytes& bytes, Phase bypass_read, Phase transfer) {
      enter(bytes.from_dram > 0 ? bypass_read : transfer);
    }
    bool bypass_read(const char* what, const FillBytes& bytes) {
      return dram_.access(transfer_, *this, what, bytes.from_dram, false);
    }
    bool noc_transfer(const char* what, const FillBytes& bytes) {
      return bytes.noc == 0 ||
             noc_.transfer(transfer_, *this, what, bytes.noc, bytes.noc - bytes.from_dram);
    }
    void run() override {
      static constexpr const char* kFill = "fill L1";
      static constexpr const char* kLateFill = "fill L1 (single-buffered)";
      while (true) {
        switch (static_cast<Phase>(phase_)) {
          case kIdle:
            if (clusters_.steps.empty()) return clusters_.steps.changed.wait(*this);
            step_ = clusters_.steps.pop();
            enter(kWaitTile);
            [[fallthrough]];
          case kWaitTile:
            if (l2_.tiles_ready <= step_.l2_sequence) return l2_.tile_ready.wait(*this);
            enter(kWaitSlot);
            [[fallthrough]];
          case kWaitSlot:
            if (!clusters_.slots.acquire(*this)) return;
            start_fill(step_.fill, kBypassRead, kTransfer);
            continue;
          case kBypassRead:
            if (!bypass_read(kFill, step_.fill)) return;
            enter(kTransfer);
            [[fallthrough]];
          case kTransfer:
            if (!noc_transfer(kFill, step_.fill)) return;
            // Single-buffered tensors overwrite the previous step's: operands once its MACs are
            // done, partial sums once it has drained.
            if (step_.late_fill.noc == 0)
              enter(kHandOver);
            else
              enter(step_.late_fill_has_outputs ? kWaitDrain : kWaitCompute);
            continue;
          case kWaitDrain:
            if (clusters_.drained < step_.index) return clusters_.step_drained.wait(*this);
            start_fill(step_.late_fill, kLateBypassRead, kLateTransfer);
            continue;
          case kWaitCompute:
            if (pes_.computed < step_.index) return pes_.step_computed.wait(*this);
            start_fill(step_.late_fill, kLateBypassRead, kLateTransfer);
            continue;
          case kLateBypassRead:
            if (!bypass_read(kLateFill, step_.late_fill)) return;
            enter(kLateTransfer);
            [[fallthrough]];
          case kLateTransfer:
            if (!noc_transfer(kLateFill, step_.late_fill)) return;
            enter(kHandOver);
            [[fallthrough]];
          case kHandOver:
            if (pes_.steps.full()) return pes_.steps.changed.wait(*this);
            pes_.steps.push(step_);
            enter(kIdle);
            break;
        }
      }
    }
    ClusterArray& clusters_;
    GlobalBuffer& l2_;
    Noc& noc_;
    DramChannel& dram_;
    PeArray& pes_;
    Transfer transfer_;
    StepTiming step_;
  };

  class WriteBack : public Process {
   public:
    WriteBack(sc_module_name name, ClusterArray& clusters, GlobalBuffer& l2, Noc& noc,
              DramChannel& dram, PeArray& pes)
        : Process(name), clusters_(clusters), l2_(l2), noc_(noc), dram_(dram), pes_(pes) {}
    void visit(StateCodec& codec) {
      visit_process(codec);
      if (phase_ != kIdle) visit_step(codec, step_);
      transfer_.visit(codec);
    }

   private:
    enum Phase { kIdle, kTransfer, kTree, kToDram, kWaitRelease };
    bool to_dram() const { return flag_of(clusters_.job_.arch->l2_bypass, Tensor::Output); }
    void run() override {
      while (true) {
        switch (phase_) {
          case kIdle:
            if (pes_.done.empty()) return pes_.done.changed.wait(*this);
            step_ = pes_.done.pop();
            if (step_.noc_out_bytes == 0) {
              finish_step();
              continue;
            }
            phase_ = kTransfer;
            [[fallthrough]];
          case kTransfer:
            if (!noc_.transfer(transfer_, *this,
                               to_dram() ? "partial sums to DRAM" : "partial sums to L2",
                               step_.noc_out_bytes, to_dram() ? 0 : step_.noc_out_bytes))
              return;
            // The last reduced word leaves the adder tree this much after the NoC sent it; the
            // NoC itself is free meanwhile.
            phase_ = kTree;
            if (step_.output_tree_cycles > 0) return sleep(step_.output_tree_cycles);
            [[fallthrough]];
          case kTree:
            if (!to_dram()) {
              finish_step();
              continue;
            }
            phase_ = kToDram;
            [[fallthrough]];
          case kToDram:
            if (!dram_.access(transfer_, *this, "partial sums to DRAM", step_.noc_out_bytes, true))
              return;
            finish_step();
            continue;
          case kWaitRelease:
            if (l2_.tiles_released < l2_.tiles_ended) return l2_.tile_released.wait(*this);
            step_done();
            continue;
        }
      }
    }
    // The step's partial sums have left: its L1 slot is free, and its L2 tile may end.
    void finish_step() {
      clusters_.slots.release();
      if (step_.ends_l2_tile) {
        l2_.end_tile(step_.dram_write_bytes);
        if (l2_.outputs_single_buffered()) {
          phase_ = kWaitRelease;
          return;
        }
      }
      step_done();
    }
    void step_done() {
      ++clusters_.drained;
      clusters_.step_drained.notify();
      phase_ = kIdle;
    }
    ClusterArray& clusters_;
    GlobalBuffer& l2_;
    Noc& noc_;
    DramChannel& dram_;
    PeArray& pes_;
    Transfer transfer_;
    StepTiming step_;
  };

  Job& job_;
  Fill fill_;
  WriteBack writeback_;
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
  void start(ScheduleCompiler& compiler, const WalkOptions& walk) {
    compiler_ = &compiler;
    walk_ = walk;
    consumed_ = 0;
    newest_sequence_ = 0;
    finished = false;
    start_.notify(sc_core::SC_ZERO_TIME);
  }
  int64_t end_time = 0;
  bool finished = false;

  void prefetch(const TileFetch& fetch) override {
    moved_ = true;
    newest_sequence_ = fetch.l2_sequence;
    l2_.fetches.push_from_thread(fetch);
  }
  void consume(const StepRecord& step) override {
    moved_ = true;
    ++job_.totals.walked_steps;
    ++consumed_;
    clusters_.steps.push_from_thread(StepTiming(step));
  }
  void settle() override {
    while (sc_core::sc_pending_activity_at_current_time()) {
      moved_ = true;
      sc_core::wait(sc_core::SC_ZERO_TIME);
    }
  }
  void snapshot(SinkSnapshot& snapshot) override {
    // Include time advanced by inner loops, so an outer iteration's period covers all of it.
    snapshot.time = now_cycles() + job_.time_offset;
    StateCodec codec(snapshot.state, bases(), state_size_);
    visit(codec);
    codec.finish();
    const CounterSlots slots = counter_slots();
    snapshot.totals.resize(slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) snapshot.totals[i] = *slots[i];
    snapshot.steps_received = consumed_;
    snapshot.tiles_received = newest_sequence_;
    state_size_ = snapshot.state.size();
    moved_ = false;
  }
  bool moved_since_snapshot() const override { return moved_; }
  void replay(const SinkSnapshot& before, const SinkSnapshot& after) override {
    account(before, after, 1, "replay of an iteration seen before");
    consumed_ += after.steps_received - before.steps_received;
    newest_sequence_ += after.tiles_received - before.tiles_received;
    load(after.state);
  }
  void advance(const SinkSnapshot& before, const SinkSnapshot& after, int64_t times) override {
    account(before, after, times, steady_state_label(times));
  }
  int64_t advance_drifting(const SinkSnapshot& first, const SinkSnapshot& second,
                           const SinkSnapshot& current, int64_t most) override {
    const int64_t period = current.time - second.time;
    const std::size_t size = current.state.size();
    if (most <= 0 || period <= 0 || second.time - first.time != period ||
        second.state.size() != size || first.state.size() != size ||
        !same_growth(first.totals, second.totals, current.totals))
      return 0;
    // Only clocks may move, and only by the period's length, the same both times: a countdown
    // that came nearer, or a wait that began further back.
    drifting_words_.clear();
    for (std::size_t word = 0; word < size; ++word) {
      const int64_t step = current.state[word] - second.state[word];
      if (step != second.state[word] - first.state[word]) return 0;
      if (step == 0) continue;
      if (step != -period) return 0;
      drifting_words_.push_back(word);
    }
    if (drifting_words_.empty()) return 0;
    // Which words are clocks: write the current state again, listing them.
    time_words_.clear();
    StateCodec codec(scratch_state_, bases(), current.state.size());
    codec.list_time_words(time_words_);
    visit(codec);
    codec.finish();
    int64_t times = most;
    auto clock = time_words_.begin();
    // Per drifting word, the floor it stops at in the advanced periods (none for a countdown
    // that wakes something, which must not reach it, or for a moment that has passed).
    drift_floors_.assign(drifting_words_.size(), StateCodec::kPastTime);
    for (std::size_t drifting = 0; drifting < drifting_words_.size(); ++drifting) {
      const std::size_t word = drifting_words_[drifting];
      while (clock != time_words_.end() && clock->position < word) ++clock;
      if (clock == time_words_.end() || clock->position != word) return 0;
      // A countdown that wakes something must not end inside an advanced period, nor in the one
      // after, which is simulated: keep two periods' length above its floor. A ready time that
      // nothing read during the periods seen is read by nothing in the advanced ones either:
      // it may run out, and then stays at its floor.
      if (clock->floor != StateCodec::kPastTime && clock->wakes)
        times = std::min(times, (current.state[word] - clock->floor) / period - 2);
      if (!clock->wakes) drift_floors_[drifting] = clock->floor;
    }
    if (times <= 0) return 0;
    account(second, current, times, steady_state_label(times));
    scratch_state_ = current.state;
    for (std::size_t drifting = 0; drifting < drifting_words_.size(); ++drifting) {
      int64_t& word = scratch_state_[drifting_words_[drifting]];
      word = std::max(word - times * period, drift_floors_[drifting]);
    }
    load(scratch_state_);
    return times;
  }

 private:
  std::string steady_state_label(int64_t times) const {
    if (job_.timeline == nullptr) return "";
    return "steady state: " + std::to_string(times) + (times == 1 ? " iteration" : " iterations");
  }
  static bool same_growth(const std::vector<int64_t>& first, const std::vector<int64_t>& second,
                          const std::vector<int64_t>& current) {
    for (std::size_t i = 0; i < current.size(); ++i)
      if (current[i] - second[i] != second[i] - first[i]) return false;
    return true;
  }
  // Puts every process and channel in `state`, taken at another moment, as of now.
  void load(const std::vector<int64_t>& state) {
    Condition::forget_waiters();
    Agenda::instance()->clear();
    StateCodec codec(state, bases());
    visit(codec);
    l2_.rearm();
    clusters_.rearm();
    pes_.rearm();
  }
  // Adds `times` the counters' growth from `before` to `after`, and their time. The iterations
  // not simulated fill the gap the time offset opens on the timeline; each track gets one box
  // (`label`) as long as its busy (or stall) cycles grew, so the tracks still sum to the totals.
  void account(const SinkSnapshot& before, const SinkSnapshot& after, int64_t times,
               std::string_view label) {
    moved_ = true;  // time and counters: every skip and replay comes through here
    const int64_t gap_start = now_cycles() - job_.start_time + job_.time_offset;
    job_.time_offset =
        saturating_add(job_.time_offset, saturating_mul(times, after.time - before.time));
    const CounterSlots totals = counter_slots();
    for (std::size_t i = 0; i < totals.size(); ++i) {
      const int64_t delta = saturating_mul(times, after.totals[i] - before.totals[i]);
      *totals[i] = saturating_add(*totals[i], delta);
      if (job_.timeline != nullptr && delta > 0)
        job_.timeline->push_back({counter_track(i), std::string(label), gap_start, delta});
    }
  }

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
  StateCodec::Bases bases() const { return {now_cycles(), newest_sequence_, consumed_}; }
  void visit(StateCodec& codec) {
    l2_.visit(codec);
    clusters_.visit(codec);
    pes_.visit(codec);
    for (TransferChannel* channel : channels_) channel->visit(codec);
  }
  const char* counter_track(std::size_t slot) const {
    if (slot < static_cast<std::size_t>(kNumStallCauses)) return "stall";
    if (slot == static_cast<std::size_t>(kNumStallCauses)) return "PE array";
    return channels_[slot - kNumStallCauses - 1]->track();
  }

  void run() {
    while (true) {
      wait(start_);
      moved_ = true;
      compiler_->walk(*this, walk_);
      while (clusters_.drained < consumed_) clusters_.step_drained.wait_in_thread();
      // Until every ended tile's outputs are in DRAM: the run is not over before.
      while (l2_.tiles_released < l2_.tiles_ended) l2_.tile_released.wait_in_thread();
      end_time = now_cycles();
      pes_.book_drain(end_time);
      finished = true;
    }
  }

  Job& job_;
  GlobalBuffer& l2_;
  std::array<TransferChannel*, 3> channels_;  // DRAM, NoC, L2 port
  ClusterArray& clusters_;
  PeArray& pes_;
  ScheduleCompiler* compiler_ = nullptr;
  WalkOptions walk_;
  int64_t consumed_ = 0;
  int64_t newest_sequence_ = 0;
  std::size_t state_size_ = 0;
  // Whether anything happened since the last snapshot was taken.
  bool moved_ = true;
  std::vector<int64_t> scratch_state_;
  std::vector<StateCodec::TimeWord> time_words_;
  std::vector<std::size_t> drifting_words_;
  std::vector<int64_t> drift_floors_;
  sc_event start_;
};

class Accelerator : public sc_module {
 public:
  explicit Accelerator(sc_module_name name)
      : sc_module(name),
        agenda("agenda"),
        l2_port(job, "L2 port"),
        dram(job),
        noc(job, l2_port),
        l2("l2", job, dram, l2_port),
        pes("pes", job),
        clusters("clusters", job, l2, noc, dram, pes),
        controller("controller", job, l2, l2_port, noc, dram, clusters, pes) {}

  Job job;
  Agenda agenda;  // before the processes, which sleep through it
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
    if (sc_time(1, sc_core::SC_NS).value() != kTimeUnitsPerCycle)
      throw std::logic_error("SystemC's time resolution is not 1 ps");
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
                            const WalkOptions& walk, std::vector<TimelineEvent>* timeline) {
  Accelerator& model = accelerator();
  Job& job = model.job;
  job = Job{};
  job.arch = &arch;
  job.timeline = timeline;
  model.agenda.clear();
  job.start_time = now_cycles();
  model.dram.reset(arch);
  model.noc.reset();
  model.l2_port.reset();
  model.l2.reset();
  model.clusters.reset();
  model.pes.reset();
  model.controller.start(compiler, walk);
  sc_core::sc_start();  // returns when the job has drained and nothing is left to happen
  // Nothing left to happen before the end means a process waits for what never comes: a model
  // bug, never a property of the input. Its numbers would be wrong, so none are reported.
  if (!model.controller.finished)
    throw std::logic_error("the simulation stopped before its last step (a deadlock in the model)");
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
