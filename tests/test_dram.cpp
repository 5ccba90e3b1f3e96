#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "sim/dram.hpp"

using dcp::ArchSpec;
using dcp::sim::DramModel;

namespace {

// Small enough to time by hand: a 32-byte burst takes 4 cycles on the 8 bytes/cycle bus, and
// bank 0 holds bytes 0..255 (row 0) and 512..767 (row 1).
ArchSpec small_arch(int64_t banks = 2) {
  ArchSpec arch;
  arch.dram_bandwidth = 8;
  arch.dram_latency = 10;
  arch.dram.banks = banks;
  arch.dram.row_bytes = 256;
  arch.dram.burst_bytes = 32;
  arch.dram.t_rcd = 3;
  arch.dram.t_rp = 4;
  arch.dram.t_cas = 5;
  arch.dram.t_wr = 6;
  arch.dram.t_wtr = 2;
  arch.dram.t_rtw = 3;
  return arch;
}

std::vector<int64_t> state(const DramModel& dram, int64_t now) {
  std::vector<int64_t> out(dram.state_words());
  dram.write_state(out.data(), now);
  return out;
}

struct Request {
  int64_t now;
  uint64_t address;
  int64_t bytes;
  bool is_write;
};

// Reads, writes, hits and misses, some issued before the previous one completes.
std::vector<Request> random_requests(uint32_t seed, int count) {
  std::mt19937 random(seed);
  std::vector<Request> requests;
  int64_t now = 0;
  for (int i = 0; i < count; ++i) {
    now += std::uniform_int_distribution<int64_t>(0, 400)(random);
    requests.push_back({now, std::uniform_int_distribution<uint64_t>(0, 1 << 20)(random),
                        std::uniform_int_distribution<int64_t>(1, 20000)(random),
                        std::bernoulli_distribution(0.3)(random)});
  }
  return requests;
}

std::vector<int64_t> completions(DramModel& dram, const std::vector<Request>& requests) {
  std::vector<int64_t> ends;
  for (const Request& request : requests)
    ends.push_back(dram.access(request.now, request.address, request.bytes, request.is_write));
  return ends;
}

}  // namespace

TEST_CASE("a hand-timed sequence: closed bank, row hit, row conflict, write, read after write",
          "[dram]") {
  DramModel dram(small_arch());
  // Closed bank: activate at 0, column at t_rcd 3, data 8..12, done 12 + latency 10.
  CHECK(dram.access(0, 0, 32, false) == 22);
  // Row hit: column at 22, data 27..31.
  CHECK(dram.access(22, 32, 32, false) == 41);
  // Row 1 of bank 0: precharge 41..45, activate 45..48, data 53..57.
  CHECK(dram.access(41, 512, 32, false) == 67);
  // Write hit: data 72..76 (the bus turned around long ago).
  CHECK(dram.access(67, 512, 32, true) == 86);
  // A read issued as the write's data ends waits t_wtr, then its t_cas: data 83..87.
  CHECK(dram.access(76, 544, 32, false) == 97);
  CHECK(dram.bus_busy_cycles() == 5 * 4);
}

TEST_CASE("row hits are cheaper than row misses", "[dram]") {
  const ArchSpec arch = small_arch();
  const int64_t bursts_per_row = arch.dram.row_bytes / arch.dram.burst_bytes;
  const auto elapsed = [&arch, bursts_per_row](uint64_t stride) {
    DramModel dram(arch);
    int64_t now = 0;
    for (int64_t i = 0; i < bursts_per_row; ++i) now = dram.access(now, i * stride, 32, false);
    return now;
  };
  const int64_t sequential = elapsed(arch.dram.burst_bytes);  // one row: all hits but the first
  // banks * row_bytes apart: the same bank, a new row each time.
  const int64_t same_bank_new_row = elapsed(arch.dram.banks * arch.dram.row_bytes);
  CHECK(same_bank_new_row - sequential ==
        (bursts_per_row - 1) * (arch.dram.t_rp + arch.dram.t_rcd));
}

TEST_CASE("bank parallelism hides activates of a sequential stream", "[dram]") {
  const auto elapsed = [](int64_t banks) {
    const ArchSpec arch = small_arch(banks);
    DramModel dram(arch);
    return dram.access(0, 0, 16 * arch.dram.row_bytes, false);
  };
  const ArchSpec arch = small_arch();
  const int64_t data_cycles = 16 * arch.dram.row_bytes / 8;
  const int64_t overlapped = arch.dram.t_rcd + arch.dram.t_cas + data_cycles + arch.dram_latency;
  CHECK(elapsed(8) == overlapped);
  // One bank closes and opens a row between each pair of the 16 rows, with the bus idle.
  CHECK(elapsed(1) == overlapped + 15 * (arch.dram.t_rp + arch.dram.t_rcd + arch.dram.t_cas));
}

TEST_CASE("switching the bus between reads and writes pays the turnaround", "[dram]") {
  const ArchSpec arch = small_arch();
  // The first access opens the row; at 1000 the bus is long idle, so only the turnaround between
  // the second access and the third, issued together, differs.
  const auto third_done = [&arch](bool second_is_write, bool third_is_write) {
    DramModel dram(arch);
    dram.access(0, 0, 32, false);
    dram.access(1000, 32, 64, second_is_write);
    return dram.access(1000, 96, 64, third_is_write);
  };
  CHECK(third_done(true, false) - third_done(false, false) == arch.dram.t_wtr + arch.dram.t_cas);
  CHECK(third_done(false, true) - third_done(true, true) == arch.dram.t_rtw);
}

TEST_CASE("a long sequential transfer approaches each preset's bus bandwidth", "[dram]") {
  for (const std::string name : {"eyeriss", "edge", "cloud", "tpu"}) {
    const ArchSpec arch = dcp::load_arch("arch/presets/" + name + ".yaml");
    INFO(name);
    for (const bool is_write : {false, true}) {
      DramModel dram(arch);
      const int64_t bytes = int64_t{4} << 20;
      const int64_t cycles = dram.access(0, 0, bytes, is_write);
      const double achieved = static_cast<double>(bytes) / static_cast<double>(cycles);
      CHECK(achieved <= arch.dram_bandwidth);
      CHECK(achieved >= 0.97 * arch.dram_bandwidth);
      CHECK(dram.bus_busy_cycles() == static_cast<int64_t>(bytes / arch.dram_bandwidth));
    }
  }
}

TEST_CASE("without a dram section the channel is ideal: latency plus bytes over bandwidth",
          "[dram]") {
  ArchSpec arch;
  arch.dram_bandwidth = 3.5;
  arch.dram_latency = 7;
  DramModel dram(arch);
  int64_t now = 5;
  for (const auto& [address, bytes] : std::vector<std::pair<uint64_t, int64_t>>{
           {0, 1}, {3, 1000}, {1 << 20, 7}, {12345, 3 << 20}, {1, 2}}) {
    const int64_t done = dram.access(now, address, bytes, address % 2 == 1);
    CHECK(done == now + 7 + static_cast<int64_t>(std::ceil(static_cast<double>(bytes) / 3.5)));
    now = done;
  }
}

TEST_CASE("timing is deterministic and the bus is never busier than the run", "[dram]") {
  const std::vector<Request> requests = random_requests(42, 500);
  for (const ArchSpec& arch :
       {small_arch(), small_arch(1), dcp::load_arch("arch/presets/edge.yaml")}) {
    DramModel dram(arch);
    const std::vector<int64_t> first = completions(dram, requests);
    const std::vector<int64_t> first_state = state(dram, first.back());
    const int64_t busy = dram.bus_busy_cycles();
    int64_t last_done = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      CHECK(first[i] > requests[i].now);
      last_done = std::max(last_done, first[i]);
    }
    CHECK(busy > 0);
    CHECK(busy <= last_done - requests.front().now);

    dram.reset();
    CHECK(dram.bus_busy_cycles() == 0);
    CHECK(completions(dram, requests) == first);
    CHECK(state(dram, first.back()) == first_state);
    DramModel fresh(arch);
    CHECK(completions(fresh, requests) == first);
    CHECK(fresh.bus_busy_cycles() == busy);
  }
}

TEST_CASE("state snapshots are equal exactly when the future timing is", "[dram]") {
  const ArchSpec arch = small_arch();
  // The same requests 1000 cycles later leave the same state relative to now.
  DramModel early(arch);
  DramModel late(arch);
  for (const Request& request : random_requests(7, 20)) {
    early.access(request.now, request.address, request.bytes, request.is_write);
    late.access(request.now + 1000, request.address, request.bytes, request.is_write);
  }
  CHECK(state(early, 9000) == state(late, 10000));
  CHECK(early.access(9000, 100, 64, false) - 9000 == late.access(10000, 100, 64, false) - 10000);

  // Different histories that leave the same rows open, long ago, compare equal.
  DramModel once(arch);
  DramModel twice(arch);
  once.access(0, 0, 32, false);
  twice.access(0, 0, 32, true);
  twice.access(50, 64, 32, false);
  CHECK(state(once, 5000) == state(twice, 5000));

  // A different open row, or a bus still turning around, is a different state.
  DramModel other_row(arch);
  other_row.access(0, 512, 32, false);
  CHECK(state(once, 5000) != state(other_row, 5000));
  DramModel just_written(arch);
  just_written.access(0, 0, 32, true);
  const int64_t write_end = 12;  // activate 0, column 3, data 8..12
  CHECK(state(just_written, write_end) != state(once, write_end));
}

TEST_CASE("empty and impossible requests", "[dram]") {
  DramModel dram(small_arch());
  const std::vector<int64_t> before = state(dram, 0);
  CHECK(dram.access(5, 0, 0, false) == 5);
  CHECK(state(dram, 0) == before);
  CHECK_THROWS_AS(dram.access(0, 0, -1, false), std::invalid_argument);
  CHECK_THROWS_AS(dram.access(0, ~uint64_t{0}, 2, false), std::invalid_argument);
  // The end, address + bytes, must fit in 64 bits; up to there any address is fine.
  CHECK_THROWS_AS(dram.access(0, ~uint64_t{0}, 1, false), std::invalid_argument);
  CHECK(dram.access(0, ~uint64_t{0} - 1, 1, false) > 0);
}
