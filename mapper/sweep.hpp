#pragma once
// `dcp sweep`: simulates the samples of a SampleSpace in forked worker processes (SystemC
// elaborates once per process and evaluate() is not thread-safe) and stores the results in a
// trace store. Resumable: rows already stored are not simulated again, and since sample i is a
// pure function of the sweep's parameters, an interrupted run plus its rerun stores exactly the
// rows of an uninterrupted one.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "mapper/sampler.hpp"

namespace dcp {

// What defines a sweep's rows; stored in the trace store so that a rerun or a merge can check
// that it continues the same sweep.
struct SweepConfig {
  std::vector<ArchSpec> archs;
  std::vector<std::string> layer_files;  // model YAMLs
  int64_t random_layers = 0;
  int64_t samples = 0;
  uint64_t seed = 1;
  SampleMix mix;
};

// The trace store's "sweep" parameters: seed, samples, random_layers, the content hash of the
// layer files (not their paths), every arch's fields and the mix.
nlohmann::json sweep_parameters(const SweepConfig& config);
// Loads the layer files, adds the random layers and drops layers no arch can hold.
SampleSpace make_sweep_space(const SweepConfig& config, std::ostream& warnings);

// Shard `number` of `count` (1-based) holds the samples i with i % count == number - 1.
struct Shard {
  int64_t number = 1;
  int64_t count = 1;
};
// Parses "k/n"; throws InputError naming --shard and the allowed range.
Shard parse_shard(const std::string& text);

struct SweepOptions {
  int jobs = 1;  // worker processes
  Shard shard;
  // Commit after this many rows, or after a second, whichever comes first.
  int64_t commit_rows = 200;
  std::function<void(int64_t rows_to_simulate)> on_start;
  std::function<void()> on_row;
  // Called after every commit with the rows this run has committed; returning false ends the run
  // right there, as a crash after that commit would (tests use it to interrupt a sweep).
  std::function<bool(int64_t rows_committed)> keep_going;
};

struct SweepSummary {
  int64_t rows_in_shard = 0;
  int64_t rows_present = 0;  // already stored when the run started
  int64_t rows_written = 0;
  double seconds = 0;
  bool interrupted = false;  // keep_going returned false
};

// A worker failed (crashed, or a sample threw, which is a bug). The rows committed so far stay.
class SweepError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws InputError for bad inputs or a store of another sweep, SweepError for a worker failure.
SweepSummary run_sweep(const SweepConfig& config, const std::string& out_path,
                       const SweepOptions& options, std::ostream& warnings);

}  // namespace dcp
