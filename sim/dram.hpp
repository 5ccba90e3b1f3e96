#pragma once
// DRAM timing at row granularity, in the spirit of Ramulator 2 and DRAMsim3 but request-level:
// banks with an open row each (open-page policy), activate and precharge on a row miss, CAS
// latency, write recovery, read/write turnaround on the data bus, and the bus itself at
// `bandwidth.dram`. Plain C++ with no SystemC, so that the DRAM channel module only asks it when
// a transfer ends, and so that tests can drive it directly.
//
// Address mapping, most to least significant: row : bank : column. The row_bytes consecutive
// bytes of one row sit in one bank; the next row_bytes go to the next bank. So a sequential
// stream opens the banks in turn and the next bank's activate overlaps this bank's data (bank
// parallelism), while a stride of banks * row_bytes stays in one bank and misses every time.
//
// A request is served as one segment per bank row it touches, in address order:
// - row hit: column commands may issue at once (once the row's activate has finished);
// - row miss: precharge the open row (t_rp, after the bank's last data, plus t_wr after a write),
//   then activate (t_rcd); a closed bank needs only the activate;
// - data starts t_cas after the column command, once the bus is free: after read data a write
//   waits t_rtw more, after write data a read command waits t_wtr more (so its data t_wtr + t_cas);
// - data occupies the bus for the segment's whole bursts at `bandwidth.dram` bytes per cycle.
// The request completes dram_latency (controller, PHY, link) after its last data. Requests are
// served in call order and may be issued before earlier ones complete: the next one's
// activates and CAS latency then overlap the earlier one's data, as in a pipelined controller.
// Not modelled: refresh, tRAS/tRC, tRRD/tFAW activate limits, bank groups, read-over-write
// reordering.
//
// Work per request is one step per row touched, never per byte or burst.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arch/arch_spec.hpp"

namespace dcp::sim {

class DramModel {
 public:
  // Timing from arch.dram, the data bus from arch.dram_bandwidth, the fixed latency from
  // arch.dram_latency. Starts as after reset().
  explicit DramModel(const ArchSpec& arch);

  // Times one transfer of `bytes` from `address` that the controller receives at cycle `now`,
  // and returns the cycle it completes (its last data plus dram_latency). bytes == 0 completes
  // at `now` and changes nothing. Throws std::invalid_argument for negative bytes or an end,
  // address + bytes, beyond 2^64 - 1.
  int64_t access(int64_t now, uint64_t address, int64_t bytes, bool is_write);

  // All banks closed, the bus idle, the busy count zero.
  void reset();

  // Writes to out[0 .. state_words()) what decides the timing of requests received from `now` on:
  // each bank's open row (relative to `base_row`, below which the caller promises never to go
  // again, so a caller whose addresses advance by whole rows between repetitions can see them
  // repeat) and its ready times, and when the bus can carry the next read and the next write,
  // relative to `now` and clamped where an earlier value cannot change the future. Two moments
  // whose vectors are equal give identical timings (shifted by the gap) for the same future
  // requests at addresses shifted by the base.
  void write_state(int64_t* out, int64_t now, int64_t base_row = 0) const;
  std::size_t state_words() const { return banks_.size() * kBankWords + kBusWords; }
  // Calls visit(offset, floor) for each word of write_state's that counts cycles from now (the
  // ready times), with its offset from where the state starts and the value it is clamped at.
  template <typename Visit>
  void visit_time_words(Visit&& visit) const {
    for (std::size_t bank = 0; bank < banks_.size(); ++bank) {
      visit(bank * kBankWords + kRowReadyWord, int64_t{0});
      visit(bank * kBankWords + kPrechargeReadyWord, int64_t{0});
    }
    const std::size_t bus = banks_.size() * kBankWords;
    visit(bus + kReadDataWord, timing_.t_cas);
    visit(bus + kWriteDataWord, timing_.t_cas);
  }
  // Loads a state write_state wrote, read from in[position] on (position moves past it), as
  // the state at `now` with rows counted from `base_row`: the timings that follow are the
  // written moment's, shifted.
  void load_state(const std::vector<int64_t>& in, std::size_t& position, int64_t now,
                  int64_t base_row);

  // Cycles the data bus has carried data since reset(); never more than the cycles elapsed
  // between the first request and the last completion.
  int64_t bus_busy_cycles() const { return bus_busy_cycles_; }

 private:
  // write_state's layout, which visit_time_words reads too: per bank, then the bus.
  static constexpr std::size_t kOpenWord = 0, kRowWord = 1, kRowReadyWord = 2,
                               kPrechargeReadyWord = 3, kBankWords = 4;
  static constexpr std::size_t kReadDataWord = 0, kWriteDataWord = 1, kBusWords = 2;

  struct Bank {
    int64_t open_row = -1;        // -1: closed
    int64_t row_ready = 0;        // the open row takes column commands from here on
    int64_t precharge_ready = 0;  // the open row may close from here on
  };

  DramTiming timing_;
  double bytes_per_cycle_;
  int64_t fixed_latency_;
  std::vector<Bank> banks_;
  int64_t next_read_data_ = 0;   // earliest start of read data on the bus
  int64_t next_write_data_ = 0;  // earliest start of write data on the bus
  int64_t bus_busy_cycles_ = 0;
};

}  // namespace dcp::sim
