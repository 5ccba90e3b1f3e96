#include "cli/simulate_command.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "arch/arch_spec.hpp"
#include "cli/flag_context.hpp"
#include "cli/layer_results.hpp"
#include "cli/output_file.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/repair.hpp"
#include "dataflow/resolve.hpp"
#include "mapper/network_totals.hpp"
#include "sim/evaluate.hpp"
#include "sim/result_json.hpp"

namespace dcp::cli {
namespace {

struct SimulateOptions {
  LayerSelection layers;
  std::string dataflow = "eyeriss-rs";
  bool compare_fixed = false;
  bool json = false;
  bool functional = false;
  bool every_iteration = false;
  bool quiet = false;
  uint64_t seed = 1;
  std::string timeline_path;
  std::string maestro_path;
  std::string dataflow_out_path;
};

void write_text_file(const std::string& path, const std::string& option, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) throw InputError(path, option, "cannot write file");
}

// A dataflow file maps one layer as written; over a network it is a chip design whose spatial
// maps and loop orders every layer keeps, its tiles fitted to each layer (fit_structure).
Dataflow dataflow_for_layer(const DataflowSpec& spec, bool single_layer, const Layer& layer,
                            const ArchSpec& arch) {
  if (!spec.is_file || single_layer) return spec.for_layer(layer, arch);
  return fit_structure(spec.from_file, layer, arch);
}

struct LayerRun {
  Layer layer;
  std::string dataflow_label;
  int64_t pes = 0;  // PEs the dataflow occupies
  Result result;
};

void print_runs(const std::vector<LayerRun>& runs, std::ostream& out) {
  Table table({"layer", "count", "dataflow", "PEs", "cycles", "energy_uJ", "EDP_cycle_uJ",
               "PE_util", "bound"});
  NetworkCost total;
  for (const LayerRun& run : runs) {
    const Result& r = run.result;
    table.add_row({run.layer.name, std::to_string(run.layer.count), run.dataflow_label,
                   std::to_string(run.pes), std::to_string(r.cycles), energy_uj(r.total_energy_pj),
                   format_number(static_cast<double>(r.cycles) * r.total_energy_pj * 1e-6),
                   format_fixed(100 * r.pe_utilization, 1) + "%", bound_name(r.bound)});
    total.add(run.layer.count, r);
  }
  if (runs.size() > 1) {
    table.add_rule();
    table.add_row({"total", "", "", "", format_fixed(total.cycles, 0), energy_uj(total.energy_pj),
                   format_number(total.edp() * 1e-6), "", ""});
  }
  table.print(out);
}

// --compare-fixed: every fixed dataflow on every layer, EDP per layer and network totals.
void print_comparison(const std::vector<std::vector<LayerRun>>& runs_by_dataflow,
                      std::ostream& out) {
  std::vector<std::string> header = {"layer", "count"};
  for (const auto& runs : runs_by_dataflow) header.push_back(runs.front().dataflow_label + "_EDP");
  header.push_back("best");
  Table per_layer(header);
  const std::size_t layer_count = runs_by_dataflow.front().size();
  for (std::size_t i = 0; i < layer_count; ++i) {
    const Layer& layer = runs_by_dataflow.front()[i].layer;
    std::vector<std::string> row = {layer.name, std::to_string(layer.count)};
    std::size_t best = 0;
    for (std::size_t f = 0; f < runs_by_dataflow.size(); ++f) {
      row.push_back(format_number(runs_by_dataflow[f][i].result.edp() * 1e-6));
      if (runs_by_dataflow[f][i].result.edp() < runs_by_dataflow[best][i].result.edp()) best = f;
    }
    row.push_back(runs_by_dataflow[best][i].dataflow_label);
    per_layer.add_row(row);
  }
  out << "EDP per layer (cycles x uJ):\n";
  per_layer.print(out);

  Table totals({"dataflow", "cycles", "energy_uJ", "EDP_cycle_uJ", "mean_PE_util"});
  for (const auto& runs : runs_by_dataflow) {
    NetworkCost cost;
    for (const LayerRun& run : runs) cost.add(run.layer.count, run.result);
    totals.add_row({runs.front().dataflow_label, format_fixed(cost.cycles, 0),
                    energy_uj(cost.energy_pj), format_number(cost.edp() * 1e-6),
                    format_fixed(100 * cost.pe_busy_cycles / cost.cycles, 1) + "%"});
  }
  out << "\nNetwork totals:\n";
  totals.print(out);
}

nlohmann::json runs_to_json(const std::vector<LayerRun>& runs) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerRun& run : runs)
    layers.push_back({{"layer", run.layer.name},
                      {"count", run.layer.count},
                      {"dataflow", run.dataflow_label},
                      {"result", result_to_json(run.result)}});
  return layers;
}

int run_functional_check(const SimulateOptions& options, const Layer& layer, const ArchSpec& arch,
                         const Dataflow& dataflow) {
  const FunctionalReport report = with_flag(
      "--functional", [&] { return run_functional(layer, arch, dataflow, options.seed); });
  if (options.json) {
    std::cout << nlohmann::json{{"layer", layer.name},
                                {"outputs_match", report.outputs_match},
                                {"macs_performed", report.macs_performed},
                                {"macs_expected", report.macs_expected},
                                {"duplicated_macs", report.duplicated_macs},
                                {"mismatched_outputs", report.mismatched_outputs}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "functional check of " << layer.name << ": " << (report.ok() ? "PASS" : "FAIL")
              << "\n  MACs performed " << report.macs_performed << " of " << report.macs_expected
              << ", duplicated " << report.duplicated_macs << ", mismatched outputs "
              << report.mismatched_outputs << " (reference convolution, seed " << options.seed
              << ")\n";
  }
  return report.ok() ? 0 : 1;
}

int run_simulate(const SimulateOptions& options) {
  const ArchSpec arch = load_arch(options.layers.arch_path);
  const std::vector<Layer> layers = load_layers("dcp simulate", options.layers);
  const bool single_layer = layers.size() == 1 && !options.layers.layer_reference.empty();
  if (!single_layer && (options.functional || !options.timeline_path.empty() ||
                        !options.maestro_path.empty() || !options.dataflow_out_path.empty()))
    throw InputError(
        "--layer", "",
        "--functional, --timeline, --export-maestro and --write-dataflow need one layer",
        "--layer FILE:NAME");

  EvalOptions eval_options;
  eval_options.skip_steady_state = !options.every_iteration;
  eval_options.timeline_path = options.timeline_path;

  std::vector<std::string> labels;
  if (options.compare_fixed)
    labels = fixed_dataflow_names();
  else
    labels = {options.dataflow};

  std::vector<std::vector<LayerRun>> runs_by_dataflow;
  Progress progress("simulating", static_cast<int64_t>(labels.size() * layers.size()),
                    options.quiet || options.json);
  for (const std::string& label : labels) {
    const DataflowSpec spec = DataflowSpec::parse(label, "--dataflow");
    std::vector<LayerRun> runs;
    for (const Layer& layer : layers) {
      const Dataflow dataflow = dataflow_for_layer(spec, single_layer, layer, arch);
      if (options.functional) return run_functional_check(options, layer, arch, dataflow);
      if (!options.maestro_path.empty())
        write_text_file(options.maestro_path, "--export-maestro",
                        dataflow_to_maestro(dataflow, layer));
      if (!options.dataflow_out_path.empty())
        write_text_file(options.dataflow_out_path, "--write-dataflow", dataflow_to_yaml(dataflow));
      const std::string source = spec.is_file ? label : "fixed dataflow " + label;
      runs.push_back({layer, label, pes_used(dataflow),
                      evaluate(layer, arch, dataflow, eval_options, source)});
      progress.advance();
    }
    runs_by_dataflow.push_back(std::move(runs));
  }

  if (options.json) {
    nlohmann::json output = nlohmann::json::object();
    output["arch"] = arch.name;
    for (const auto& runs : runs_by_dataflow)
      output["runs"][runs.front().dataflow_label] = runs_to_json(runs);
    std::cout << output.dump(2) << "\n";
  } else if (options.compare_fixed) {
    print_comparison(runs_by_dataflow, std::cout);
  } else {
    print_runs(runs_by_dataflow.front(), std::cout);
  }
  return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  auto options = std::make_shared<SimulateOptions>();
  CLI::App* command =
      app.add_subcommand("simulate", "Simulate a layer or a network under a dataflow");
  add_layer_selection_options(*command, options->layers);
  command
      ->add_option("--dataflow", options->dataflow,
                   "Fixed dataflow name (" + fixed_dataflow_names_text() +
                       "), or a dataflow file (dcp YAML, Timeloop mapping, MAESTRO .m); with "
                       "--network the file is a template fitted to every layer")
      ->capture_default_str();
  command->add_flag("--compare-fixed", options->compare_fixed,
                    "Run every fixed dataflow and compare them");
  command->add_flag("--json", options->json, "Machine-readable output");
  command->add_flag("--functional", options->functional,
                    "Carry real values through the schedule and compare with a reference "
                    "convolution (small layers)");
  command->add_option("--seed", options->seed, "Seed for --functional values")
      ->capture_default_str();
  command
      ->add_option("--timeline", options->timeline_path,
                   "Write a Chrome trace-event timeline (open in Perfetto)")
      ->check(output_file());
  command
      ->add_option("--export-maestro", options->maestro_path,
                   "Write the dataflow as MAESTRO directives")
      ->check(output_file());
  command
      ->add_option("--write-dataflow", options->dataflow_out_path,
                   "Write the dataflow as YAML (edit it and pass it back with --dataflow)")
      ->check(output_file());
  command->add_flag("--every-iteration", options->every_iteration,
                    "Simulate every loop iteration instead of advancing the steady state");
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options] {
    const int status = run_simulate(*options);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace dcp::cli
