#include "sim/dram.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "common/saturating.hpp"
#include "sim/schedule.hpp"

namespace dcp::sim {

DramModel::DramModel(const ArchSpec& arch)
    : timing_(arch.dram), bytes_per_cycle_(arch.dram_bandwidth), fixed_latency_(arch.dram_latency) {
  reset();
}

void DramModel::reset() {
  banks_.assign(static_cast<std::size_t>(timing_.banks), Bank{});
  next_read_data_ = 0;
  next_write_data_ = 0;
  bus_busy_cycles_ = 0;
}

int64_t DramModel::access(int64_t now, uint64_t address, int64_t bytes, bool is_write) {
  if (bytes < 0 || static_cast<uint64_t>(bytes) > std::numeric_limits<uint64_t>::max() - address)
    throw std::invalid_argument("DramModel::access: byte range outside the address space");
  if (bytes == 0) return now;
  const auto row_bytes = static_cast<uint64_t>(timing_.row_bytes);
  const auto burst_bytes = static_cast<uint64_t>(timing_.burst_bytes);
  const auto banks = static_cast<uint64_t>(timing_.banks);
  const uint64_t end = address + static_cast<uint64_t>(bytes);
  const uint64_t first_burst = address / burst_bytes;
  // Each segment's data cycles are the request's cycles through it minus those before it, so
  // back-to-back segments add up to exactly the cycles of the request's bursts; rounding each
  // segment up on its own would add up to a cycle per row.
  int64_t cycles_before = 0;
  int64_t data_end = now;
  for (uint64_t begin = address; begin < end;) {
    const uint64_t segment_end = begin + std::min(end - begin, row_bytes - begin % row_bytes);
    const uint64_t bank_row = begin / row_bytes;  // row and bank together (row : bank : column)
    Bank& bank = banks_[bank_row % banks];
    const auto row = static_cast<int64_t>(bank_row / banks);

    int64_t column_ready = 0;
    if (bank.open_row == row) {
      column_ready = std::max(now, bank.row_ready);
    } else {
      int64_t activate = std::max(now, bank.precharge_ready);
      if (bank.open_row >= 0) activate = saturating_add(activate, timing_.t_rp);
      column_ready = saturating_add(activate, timing_.t_rcd);
      bank.open_row = row;
      bank.row_ready = column_ready;
    }

    // Bursts never straddle a row (both are powers of two, the burst no larger), so the bursts
    // through this segment end at its last byte's burst.
    const uint64_t bursts_through =
        segment_end / burst_bytes + (segment_end % burst_bytes != 0 ? 1 : 0) - first_burst;
    const int64_t cycles_through =
        transfer_cycles(static_cast<int64_t>(std::min<uint64_t>(bursts_through * burst_bytes,
                                                                static_cast<uint64_t>(kSaturated))),
                        bytes_per_cycle_);
    const int64_t data_cycles = cycles_through - cycles_before;
    cycles_before = cycles_through;

    const int64_t bus_ready = is_write ? next_write_data_ : next_read_data_;
    const int64_t data_start = std::max(saturating_add(column_ready, timing_.t_cas), bus_ready);
    data_end = saturating_add(data_start, data_cycles);
    bus_busy_cycles_ = saturating_add(bus_busy_cycles_, data_cycles);

    bank.precharge_ready = is_write ? saturating_add(data_end, timing_.t_wr) : data_end;
    next_read_data_ = is_write ? saturating_add(data_end, timing_.t_wtr + timing_.t_cas) : data_end;
    next_write_data_ = is_write ? data_end : saturating_add(data_end, timing_.t_rtw);
    begin = segment_end;
  }
  return saturating_add(data_end, fixed_latency_);
}

void DramModel::write_state(int64_t* next, int64_t now, int64_t base_row) const {
  // A ready time already past acts as `now`, and data can never start before now + t_cas, so
  // clamping there keeps exactly the information that can still delay a request.
  const auto from_now = [now](int64_t time, int64_t floor) { return std::max(time - now, floor); };
  for (const Bank& bank : banks_) {
    // Requests from here on touch rows from base_row up, so every older open row is alike: a
    // miss that must precharge first.
    const bool open = bank.open_row >= 0;
    next[kOpenWord] = open ? 1 : 0;
    next[kRowWord] = open ? std::max<int64_t>(bank.open_row - base_row, -1) : 0;
    next[kRowReadyWord] = from_now(bank.row_ready, 0);
    next[kPrechargeReadyWord] = from_now(bank.precharge_ready, 0);
    next += kBankWords;
  }
  next[kReadDataWord] = from_now(next_read_data_, timing_.t_cas);
  next[kWriteDataWord] = from_now(next_write_data_, timing_.t_cas);
}

void DramModel::load_state(const std::vector<int64_t>& in, std::size_t& position, int64_t now,
                           int64_t base_row) {
  const auto word = [&](std::size_t offset) { return in.at(position + offset); };
  for (Bank& bank : banks_) {
    // An open row older than the base is any row the next requests miss.
    bank.open_row = word(kOpenWord) != 0 ? base_row + word(kRowWord) : -1;
    bank.row_ready = now + word(kRowReadyWord);
    bank.precharge_ready = now + word(kPrechargeReadyWord);
    position += kBankWords;
  }
  next_read_data_ = now + word(kReadDataWord);
  next_write_data_ = now + word(kWriteDataWord);
  position += kBusWords;
}

}  // namespace dcp::sim
