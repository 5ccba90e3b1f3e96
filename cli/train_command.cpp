#include "cli/train_command.hpp"

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli/flag_context.hpp"
#include "cli/output_file.hpp"
#include "cli/predictor_output.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"
#include "mapper/training.hpp"

namespace dcp::cli {
namespace {

struct TrainOptions {
  std::vector<std::string> traces_paths;
  std::string out_path;
  TrainingOptions training;
  int threads = 0;  // 0: OMP_NUM_THREADS if set, else every core
  bool quiet = false;
  bool json = false;
};

struct EvalOptions {
  std::string predictor_path;
  std::vector<std::string> traces_paths;
  bool all_rows = false;
  bool json = false;
};

void print_metrics(const std::string& title, const PredictorMetrics& metrics) {
  std::cout << title << ": " << metrics.rows << " rows of " << metrics.layers << " layers\n";
  Table table({"target", "Spearman rho", "median |err| %", "predict-the-mean |err| %"});
  const auto add = [&](const char* name, const TargetMetrics& target) {
    table.add_row({name, format_fixed(target.spearman_rho, 4),
                   format_fixed(target.median_abs_pct_error, 2),
                   format_fixed(target.mean_baseline_median_abs_pct_error, 1)});
  };
  add("cycles", metrics.cycles);
  add("energy", metrics.energy);
  table.print(std::cout);
}

// The rows of every store, in the order given; each store must hold some.
std::vector<TraceRecord> read_nonempty_traces(const std::vector<std::string>& paths) {
  std::vector<TraceRecord> records;
  for (const std::string& path : paths) {
    std::vector<TraceRecord> store = read_traces(path);
    if (store.empty())
      throw InputError(path, "samples", "the trace store has no rows",
                       "a store written by dcp sweep");
    records.insert(records.end(), std::make_move_iterator(store.begin()),
                   std::make_move_iterator(store.end()));
  }
  return records;
}

std::string joined(const std::vector<std::string>& paths) {
  std::string text;
  for (const std::string& path : paths) text += (text.empty() ? "" : " ") + path;
  return text;
}

void run_train(const TrainOptions& options) {
  set_learned_model_threads(options.threads,
                            static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const std::vector<TraceRecord> records = read_nonempty_traces(options.traces_paths);
  int64_t train_rows = 0;
  for (const TraceRecord& record : records) {
    if (!is_held_out_layer(record.layer_key, options.training.predictor.seed,
                           options.training.predictor.test_fraction))
      ++train_rows;
  }
  const auto start = std::chrono::steady_clock::now();
  int64_t rows_seen = 0;
  Predictor predictor = [&] {
    Progress progress("training", train_rows * options.training.fit.epochs,
                      options.quiet || options.json);
    return train_predictor(records, options.training, [&](const EpochReport& report) {
      progress.advance(report.rows_done - rows_seen);
      rows_seen = report.rows_done;
    });
  }();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const PredictorMetrics held_out = measure_predictor(predictor, records, true);
  predictor.set_training_summary(joined(options.traces_paths) + ": " + std::to_string(train_rows) +
                                 " training rows, " + std::to_string(options.training.fit.epochs) +
                                 " epochs, held-out cycles rho " +
                                 format_fixed(held_out.cycles.spearman_rho, 4) + ", energy rho " +
                                 format_fixed(held_out.energy.spearman_rho, 4));
  predictor.save(options.out_path);

  const double rows_per_second = seconds > 0 ? static_cast<double>(rows_seen) / seconds : 0;
  if (options.json) {
    std::cout << nlohmann::json{{"predictor", options.out_path},
                                {"training_rows", train_rows},
                                {"epochs_run_now", train_rows > 0 ? rows_seen / train_rows : 0},
                                {"seconds", seconds},
                                {"rows_per_second", rows_per_second},
                                {"held_out", metrics_json(held_out)}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "trained " << options.out_path << " on " << train_rows << " rows in "
            << format_fixed(seconds, 1) << " s (" << format_number(rows_per_second) << " rows/s)\n";
  print_metrics("held-out layers", held_out);
}

void run_eval(const EvalOptions& options) {
  Predictor predictor = Predictor::load(options.predictor_path);
  const std::vector<TraceRecord> records = read_nonempty_traces(options.traces_paths);
  std::set<std::string> archs_warned;
  for (const TraceRecord& record : records) {
    if (archs_warned.insert(record.arch.name).second)
      warn_if_untrained(predictor, options.predictor_path, record.arch, "arch " + record.arch.name);
  }
  const PredictorMetrics metrics = measure_predictor(predictor, records, !options.all_rows);
  if (metrics.rows == 0)
    throw InputError(joined(options.traces_paths), "samples", "no row belongs to a held-out layer",
                     "traces with layers the predictor did not train on, or --all");
  if (options.json) {
    std::cout << metrics_json(metrics).dump(2) << "\n";
    return;
  }
  print_metrics(options.all_rows ? "all rows" : "held-out layers", metrics);
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto train = std::make_shared<TrainOptions>();
  CLI::App* train_command =
      app.add_subcommand("train", "Train the predictor on a trace store (resumable)");
  train_command->add_option("--traces", train->traces_paths, "Trace stores from dcp sweep")
      ->required();
  train_command->add_option("--out", train->out_path, "Predictor file to write")
      ->required()
      ->check(output_file());
  train_command->add_option("--epochs", train->training.fit.epochs, "Passes over the training rows")
      ->capture_default_str()
      ->check(in_range(1, 100000));
  train_command
      ->add_option("--seed", train->training.predictor.seed,
                   "Seed for initial weights, shuffling and the layer split")
      ->capture_default_str();
  train_command->add_option("--batch-size", train->training.fit.batch_size, "Rows per Adam step")
      ->capture_default_str()
      ->check(in_range(1, 1 << 20));
  train_command->add_option("--learning-rate", train->training.fit.learning_rate, "Adam step size")
      ->capture_default_str()
      ->check(in_range(1e-7, 1.0));
  train_command
      ->add_option("--hidden", train->training.predictor.hidden_sizes, "Hidden layer widths")
      ->capture_default_str()
      ->check(in_range(1, 65536));
  train_command
      ->add_option("--test-fraction", train->training.predictor.test_fraction,
                   "Share of layers held out for evaluation")
      ->capture_default_str()
      ->check(in_range(0.01, 0.9));
  train_command
      ->add_option("--threads", train->threads,
                   "Torch threads (default: OMP_NUM_THREADS if set, else every core)")
      ->check(in_range(1, 1024));
  train_command->add_flag("--quiet", train->quiet, "No progress line");
  train_command->add_flag("--json", train->json, "Machine-readable output");
  train_command->callback([train] {
    train->training.fit.checkpoint_path = train->out_path + ".checkpoint";
    run_train(*train);
  });

  auto eval = std::make_shared<EvalOptions>();
  CLI::App* eval_command =
      app.add_subcommand("eval", "Measure a predictor on the held-out layers of a trace store");
  eval_command->add_option("--predictor", eval->predictor_path, "Predictor file from dcp train")
      ->required();
  eval_command->add_option("--traces", eval->traces_paths, "Trace stores from dcp sweep")
      ->required();
  eval_command->add_flag("--all", eval->all_rows, "Use every row, not only held-out layers");
  eval_command->add_flag("--json", eval->json, "Machine-readable output");
  eval_command->callback([eval] { run_eval(*eval); });
}

}  // namespace dcp::cli
