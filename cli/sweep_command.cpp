#include "cli/sweep_command.hpp"

#include <unistd.h>

#include <exception>
#include <iostream>
#include <memory>

#include "arch/arch_space.hpp"
#include "arch/arch_spec.hpp"
#include "cli/flag_context.hpp"
#include "cli/mpi_session.hpp"
#include "cli/output_file.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"
#include "mapper/sampler.hpp"
#include "mapper/sweep.hpp"
#include "mapper/trace_store.hpp"

namespace dcp::cli {
namespace {

struct SweepCommandOptions {
  std::vector<std::string> arch_paths;
  std::string arch_space_path;
  int64_t configs = 0;
  std::vector<std::string> layer_files;
  int64_t random_layers = 0;
  std::string mix;
  int64_t samples = 0;
  int jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  std::string out_path;
  uint64_t seed = 1;
  std::string shard = "1/1";
  std::vector<std::string> merge_inputs;
  bool mpi = false;
  bool quiet = false;
};

void run_merge(const SweepCommandOptions& options) {
  const int64_t rows_added = merge_traces(options.merge_inputs, options.out_path);
  std::cout << "merged " << options.merge_inputs.size() << " stores into " << options.out_path
            << ": " << rows_added << " rows added\n";
}

void run_sweep_command(const SweepCommandOptions& options) {
  SweepConfig config;
  for (const std::string& path : options.arch_paths) config.archs.push_back(load_arch(path));
  if (!options.arch_space_path.empty()) {
    const ArchSpace space = load_arch_space(options.arch_space_path);
    const std::vector<ArchSpec> sampled =
        with_flag("--configs", [&] { return sample_archs(space, options.seed, options.configs); });
    config.archs.insert(config.archs.end(), sampled.begin(), sampled.end());
  }
  config.layer_files = options.layer_files;
  config.random_layers = options.random_layers;
  config.samples = options.samples;
  config.seed = options.seed;
  if (!options.mix.empty())
    config.mix = with_flag("--mix", [&] { return parse_sample_mix(options.mix); });
  SweepOptions sweep_options;
  sweep_options.jobs = options.jobs;
  sweep_options.shard = with_flag("--shard", [&] { return parse_shard(options.shard); });
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

// Rank k of n sweeps shard k+1/n into "<out>.shard-<k+1>-of-<n>" (so --out must be on a file
// system every rank reaches), then rank 0 merges the shards into --out. The shards stay: a rerun
// of the same command resumes each of them and merges only what is new.
void run_mpi_sweep(const SweepCommandOptions& options) {
  const MpiSession mpi;
  const auto shard_path = [&](int rank) {
    return options.out_path + ".shard-" + std::to_string(rank + 1) + "-of-" +
           std::to_string(mpi.size());
  };
  SweepCommandOptions rank_options = options;
  rank_options.shard = std::to_string(mpi.rank() + 1) + "/" + std::to_string(mpi.size());
  rank_options.out_path = shard_path(mpi.rank());
  rank_options.quiet = options.quiet || mpi.rank() != 0;
  std::exception_ptr failure;
  try {
    run_sweep_command(rank_options);
  } catch (...) {
    failure = std::current_exception();
  }
  const bool all_succeeded = mpi.all_succeeded(failure == nullptr);
  if (failure) std::rethrow_exception(failure);
  if (!all_succeeded) {
    std::cerr << "dcp: error: sweep --mpi: another rank failed; the shards written so far stay "
                 "and a rerun resumes them\n";
    throw CLI::RuntimeError(1);
  }
  if (mpi.rank() != 0) return;
  SweepCommandOptions merge_options = options;
  for (int rank = 0; rank < mpi.size(); ++rank)
    merge_options.merge_inputs.push_back(shard_path(rank));
  run_merge(merge_options);
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto options = std::make_shared<SweepCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "sweep", "Simulate sampled dataflows of many layers into a SQLite trace store");
  auto* arch = command
                   ->add_option("--arch", options->arch_paths,
                                "One or more arch YAMLs (arch/presets/*.yaml)")
                   ->expected(1, -1);
  auto* arch_space =
      command->add_option("--arch-space", options->arch_space_path,
                          "Also sweep --configs hardware configs drawn from this arch space "
                          "(arch/spaces/*.yaml) with --seed");
  auto* configs = command->add_option("--configs", options->configs,
                                      "Configs drawn from --arch-space (as `dcp arch-space`)");
  arch_space->needs(configs);
  configs->needs(arch_space);
  auto* layers = command->add_option("--layers", options->layer_files, "One or more model YAMLs")
                     ->expected(1, -1);
  command
      ->add_option("--random-layers", options->random_layers,
                   "Synthetic layers shaped like real ones, drawn from the seed")
      ->capture_default_str()
      ->check(in_range(0, 10000000));
  auto* mix = command->add_option("--mix", options->mix,
                                  "Shares of the sample kinds, e.g. grown=0.5,jump=0.5 (unlisted "
                                  "kinds get 0; default: no jump, the other five mixed)");
  auto* samples = command->add_option("--samples", options->samples, "Samples in the sweep")
                      ->check(in_range(int64_t{1}, int64_t{1000000000}));
  command->add_option("--jobs", options->jobs, "Worker processes")
      ->capture_default_str()
      ->check(in_range(1, 1024));
  command->add_option("--out", options->out_path, "Trace store (SQLite); resumed if it exists")
      ->required()
      ->check(output_file());
  command->add_option("--seed", options->seed, "Seed of every random choice")
      ->capture_default_str();
  auto* shard = command->add_option(
      "--shard", options->shard, "k/n: the deterministic 1/n-th of the sweep with i % n == k - 1");
  auto* merge = command
                    ->add_option("--merge", options->merge_inputs,
                                 "Merge these stores (shards of one sweep) into --out")
                    ->expected(1, -1);
  for (CLI::Option* sweep_only : {arch, arch_space, layers, mix, samples, shard})
    merge->excludes(sweep_only);
  auto* mpi = command->add_flag(
      "--mpi", options->mpi,
      "Under mpirun: each rank sweeps one shard next to --out, rank 0 merges them into --out");
  mpi->excludes(shard);
  mpi->excludes(merge);
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options, merge, arch, arch_space, samples] {
    if (merge->count() > 0) return run_merge(*options);
    if (arch->count() == 0 && arch_space->count() == 0)
      throw InputError("dcp sweep", "--arch", "missing", "arch YAMLs, --arch-space, or --merge");
    if (samples->count() == 0)
      throw InputError("dcp sweep", "--samples", "missing", "a sample count, or --merge");
    if (options->mpi) return run_mpi_sweep(*options);
    run_sweep_command(*options);
  });
}

}  // namespace dcp::cli
