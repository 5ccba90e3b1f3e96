#include "cli/sweep_command.hpp"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "arch/arch_spec.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"
#include "mapper/sweep.hpp"
#include "mapper/trace_store.hpp"

namespace dcp::cli {
namespace {

struct SweepCommandOptions {
  std::string arch_path;
  std::vector<std::string> layer_files;
  int64_t random_layers = 0;
  int64_t samples = 0;
  int jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  std::string out_path;
  uint64_t seed = 1;
  std::string shard = "1/1";
  std::vector<std::string> merge_inputs;
  bool quiet = false;
};

void run_merge(const SweepCommandOptions& options) {
  const int64_t rows_added = merge_traces(options.merge_inputs, options.out_path);
  std::cout << "merged " << options.merge_inputs.size() << " stores into " << options.out_path
            << ": " << rows_added << " rows added\n";
}

void run_sweep_command(const SweepCommandOptions& options) {
  SweepConfig config;
  config.archs.push_back(load_arch(options.arch_path));
  config.layer_files = options.layer_files;
  config.random_layers = options.random_layers;
  config.samples = options.samples;
  config.seed = options.seed;
  SweepOptions sweep_options;
  sweep_options.jobs = options.jobs;
  sweep_options.shard = parse_shard(options.shard);
  std::unique_ptr<Progress> progress;
  sweep_options.on_start = [&](int64_t rows_to_simulate) {
    progress = std::make_unique<Progress>("sweeping", rows_to_simulate, options.quiet);
  };
  sweep_options.on_row = [&] { progress->advance(); };
  SweepSummary summary;
  try {
    summary = run_sweep(config, options.out_path, sweep_options, std::cerr);
  } catch (const SweepError& error) {
    progress.reset();
    std::cerr << "dcp: error: sweep: " << error.what() << "\n";
    throw CLI::RuntimeError(1);
  }
  progress.reset();
  std::cout << "sweep of " << config.samples << " samples, shard " << options.shard << ": "
            << summary.rows_written << " rows written, " << summary.rows_present
            << " already present, " << summary.rows_in_shard << " in the shard; "
            << format_fixed(summary.seconds, 1) << " s, "
            << format_fixed(summary.rows_written / std::max(summary.seconds, 1e-9), 1)
            << " samples/s -> " << options.out_path << "\n";
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto options = std::make_shared<SweepCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "sweep", "Simulate sampled dataflows of many layers into a SQLite trace store");
  auto* arch = command->add_option("--arch", options->arch_path, "Arch YAML (arch/presets/*.yaml)");
  auto* layers = command->add_option("--layers", options->layer_files, "One or more model YAMLs")
                     ->expected(1, -1);
  command
      ->add_option("--random-layers", options->random_layers,
                   "Synthetic layers shaped like real ones, drawn from the seed")
      ->capture_default_str();
  auto* samples = command->add_option("--samples", options->samples, "Samples in the sweep");
  command->add_option("--jobs", options->jobs, "Worker processes")->capture_default_str();
  command->add_option("--out", options->out_path, "Trace store (SQLite); resumed if it exists")
      ->required();
  command->add_option("--seed", options->seed, "Seed of every random choice")
      ->capture_default_str();
  auto* shard = command->add_option(
      "--shard", options->shard, "k/n: the deterministic 1/n-th of the sweep with i % n == k - 1");
  auto* merge = command
                    ->add_option("--merge", options->merge_inputs,
                                 "Merge these stores (shards of one sweep) into --out")
                    ->expected(1, -1);
  for (CLI::Option* sweep_only : {arch, layers, samples, shard}) merge->excludes(sweep_only);
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options, merge, arch, samples] {
    if (merge->count() > 0) return run_merge(*options);
    if (arch->count() == 0)
      throw InputError("dcp sweep", "--arch", "missing", "an arch YAML, or --merge");
    if (samples->count() == 0)
      throw InputError("dcp sweep", "--samples", "missing", "a sample count, or --merge");
    run_sweep_command(*options);
  });
}

}  // namespace dcp::cli
