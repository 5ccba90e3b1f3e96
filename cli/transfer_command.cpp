#include "cli/transfer_command.hpp"

#include <iostream>
#include <memory>
#include <optional>

#include "arch/arch_spec.hpp"
#include "cli/flag_context.hpp"
#include "cli/layer_results.hpp"
#include "cli/output_file.hpp"
#include "cli/predictor_output.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "mapper/sampler.hpp"
#include "mapper/transfer.hpp"

namespace dcp::cli {
namespace {

struct TransferCommandOptions {
  std::string predictor_path;
  LayerSelection layers;
  std::string objective = "edp";
  std::string out_path;
  TransferOptions transfer;
  int threads = 0;  // 0: OMP_NUM_THREADS if set, else 1
  bool json = false;
  bool quiet = false;
};

void print_report(const TransferCommandOptions& options, const ArchSpec& arch,
                  const TransferReport& report) {
  std::cout << "transfer of " << options.predictor_path << " to " << arch.name << ": "
            << report.shots.size() << " shots (" << report.search_shots
            << " where the mapper searches, " << report.shots.size() - report.search_shots
            << " spread over the code space), " << report.fine_tune_steps
            << " fine-tuning steps (validated on a quarter of the shots)\n"
            << "error on " << report.after.rows << " other rows of " << report.after.layers
            << " layers on " << arch.name << ":\n";
  Table table(
      {"target", "rho before", "rho after", "median |err| % before", "median |err| % after"});
  const auto add = [&](const char* name, const TargetMetrics& before, const TargetMetrics& after) {
    table.add_row({name, format_fixed(before.spearman_rho, 3), format_fixed(after.spearman_rho, 3),
                   format_fixed(before.median_abs_pct_error, 1),
                   format_fixed(after.median_abs_pct_error, 1)});
  };
  add("cycles", report.before.cycles, report.after.cycles);
  add("energy", report.before.energy, report.after.energy);
  table.print(std::cout);
  std::cout << "simulator calls: " << report.simulator_calls << " (" << report.shots.size()
            << " shots + " << report.eval_rows.size() << " for the error) -> " << options.out_path
            << "\n";
}

void run_transfer(const TransferCommandOptions& options) {
  // First: a build without the predictor refuses before reading anything.
  set_learned_model_threads(options.threads, 1);
  const Objective objective = parse_objective(options.objective, "--objective");
  const ArchSpec arch = load_arch(options.layers.arch_path);
  const std::vector<Layer> layers = unique_layers(load_layers("dcp transfer", options.layers));
  Predictor predictor =
      load_predictor_for_arch(options.predictor_path, arch, options.layers.arch_path);
  std::optional<Progress> progress;
  progress.emplace("transfer (simulator calls)",
                   options.transfer.shots + options.transfer.eval_samples,
                   options.quiet || options.json);
  const TransferReport report = transfer_predictor(predictor, layers, arch, objective,
                                                   options.transfer, [&] { progress->advance(); });
  progress.reset();
  predictor.set_training_summary(predictor.training_summary() + "; fine-tuned on " +
                                 std::to_string(report.shots.size()) + " shots of " + arch.name);
  predictor.save(options.out_path);
  if (options.json) {
    std::cout << nlohmann::json{{"predictor", options.out_path},
                                {"arch", arch.name},
                                {"shots", report.shots.size()},
                                {"search_shots", report.search_shots},
                                {"fine_tune_steps", report.fine_tune_steps},
                                {"simulator_calls", report.simulator_calls},
                                {"before", metrics_json(report.before)},
                                {"after", metrics_json(report.after)}}
                     .dump(2)
              << "\n";
    return;
  }
  print_report(options, arch, report);
}

}  // namespace

void add_transfer_command(CLI::App& app) {
  auto options = std::make_shared<TransferCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "transfer", "Fine-tune a predictor for an unseen arch on a few simulated samples");
  command->option_defaults()->always_capture_default();
  add_layer_selection_options(*command, options->layers);
  command->add_option("--predictor", options->predictor_path, "Predictor file from dcp train")
      ->required();
  command->add_option("--out", options->out_path, "Fine-tuned predictor to write")
      ->required()
      ->check(output_file());
  add_objective_option(*command, options->objective);
  TransferOptions& transfer = options->transfer;
  command
      ->add_option("--shots", transfer.shots,
                   "Dataflows simulated on the arch to fine-tune on (without shots, map with the "
                   "predictor as it is)")
      ->check(in_range(1, 100000));
  command
      ->add_option("--search-share", transfer.search_share,
                   "Share of the shots where zero-shot propagation searches (the rest spread "
                   "over the code space)")
      ->check(in_range(0.0, 1.0));
  command
      ->add_option("--eval-samples", transfer.eval_samples,
                   "Other simulated samples that measure the error before and after")
      ->check(in_range(0, 1000000));
  command
      ->add_option("--fine-tune-steps", transfer.fine_tune_steps,
                   "Most full-batch Adam steps on the shots (validation picks how many)")
      ->check(in_range(0, 100000));
  command
      ->add_option("--learning-rate", transfer.fine_tune_learning_rate,
                   "Adam step size of the fine-tuning")
      ->check(in_range(1e-7, 1.0));
  command
      ->add_option("--anchor-weight", transfer.anchor_weight,
                   "Pull toward the predictor's own earlier predictions on unsimulated draws")
      ->check(in_range(0.0, 1000.0));
  command->add_option("--seed", transfer.seed, "Seed of the shot choice and the eval rows");
  command
      ->add_option("--threads", options->threads,
                   "Torch threads (default: OMP_NUM_THREADS if set, else 1)")
      ->check(in_range(1, 1024));
  command->add_flag("--json", options->json, "Machine-readable output");
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options] { run_transfer(*options); });
}

}  // namespace dcp::cli
