#include "cli/map_command.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "arch/arch_spec.hpp"
#include "cli/flag_context.hpp"
#include "cli/layer_results.hpp"
#include "cli/output_file.hpp"
#include "cli/predictor_output.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"
#include "dataflow/dataflow_line.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "mapper/dcp_map.hpp"
#include "mapper/network_totals.hpp"
#include "sim/result_json.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp::cli {
namespace {

struct MapCommandOptions {
  LayerSelection layers;
  std::string predictor_path;
  std::string objective = "edp";
  std::string out_dir;
  std::string trace_steps_path;
  MapOptions map;
  int threads = 0;  // 0: OMP_NUM_THREADS if set, else 1
  bool json = false;
  bool quiet = false;
};

// One row per layer of the network; layers of an already mapped shape share its mapping.
struct NetworkMapping {
  std::vector<Layer> layers;
  std::vector<size_t> mapping_of_layer;  // into `mappings`
  std::vector<LayerMapping> mappings;    // one per distinct shape
  double seconds = 0;
};

NetworkMapping map_network(const MapCommandOptions& options, Predictor& predictor,
                           const ArchSpec& arch, const Objective& objective,
                           const std::vector<Layer>& layers) {
  NetworkMapping network;
  network.layers = layers;
  std::map<std::string, size_t> first_of_shape;
  std::vector<Layer> distinct;
  for (const Layer& layer : layers) {
    const auto [entry, is_new] = first_of_shape.emplace(loop_nest_key(layer), distinct.size());
    if (is_new) distinct.push_back(layer);
    network.mapping_of_layer.push_back(entry->second);
  }
  const int64_t planned_calls =
      static_cast<int64_t>(distinct.size()) *
      (static_cast<int64_t>(fixed_dataflow_names().size()) + options.map.verify_top_k);
  const auto start = std::chrono::steady_clock::now();
  {
    Progress progress("mapping (simulator calls)", planned_calls, options.quiet || options.json);
    network.mappings =
        map_layers(predictor, distinct, arch, objective, options.map, [&] { progress.advance(); });
  }
  network.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (LayerMapping& mapping : network.mappings) mapping.best.name = "dcp_" + mapping.layer.name;
  return network;
}

double gain(const LayerMapping& mapping) {
  return mapping.fixed.best_run().objective / mapping.best_objective;
}

NetworkTotals network_totals(const NetworkMapping& network) {
  NetworkTotals totals;
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const LayerMapping& mapping = network.mappings[network.mapping_of_layer[i]];
    totals.add_layer(network.layers[i].count, mapping.best_result, mapping.fixed.best_run().result,
                     gain(mapping));
  }
  for (const LayerMapping& mapping : network.mappings) totals.calls += mapping.simulator_calls;
  return totals;
}

void print_table(const MapCommandOptions& options, const NetworkMapping& network) {
  Table table({"layer", "count", "sim_calls", "pred_cycles", "sim_cycles", "pred_uJ", "sim_uJ",
               "EDP_cycle_uJ", "best_fixed", "fixed_EDP", "gain"});
  std::vector<bool> printed(network.mappings.size(), false);
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const size_t index = network.mapping_of_layer[i];
    const LayerMapping& mapping = network.mappings[index];
    const FixedRun& fixed = mapping.fixed.best_run();
    table.add_row(
        {network.layers[i].name, std::to_string(network.layers[i].count),
         printed[index] ? "= " + mapping.layer.name : std::to_string(mapping.simulator_calls),
         format_number(mapping.predicted_cycles), std::to_string(mapping.best_result.cycles),
         energy_uj(mapping.predicted_energy_pj), energy_uj(mapping.best_result.total_energy_pj),
         format_number(mapping.best_result.edp() * 1e-6), fixed.dataflow.name,
         format_number(fixed.result.edp() * 1e-6), format_fixed(gain(mapping), 2) + "x"});
    printed[index] = true;
  }
  if (network.layers.size() > 1) {
    const NetworkTotals totals = network_totals(network);
    table.add_rule();
    table.add_row({"total", "", std::to_string(totals.calls), "",
                   format_fixed(totals.picked.cycles, 0), "", energy_uj(totals.picked.energy_pj),
                   edp_text(totals.picked.cycles, totals.picked.energy_pj), "per layer",
                   edp_text(totals.best_fixed.cycles, totals.best_fixed.energy_pj),
                   format_fixed(totals.geomean_gain(), 2) + "x (geomean)"});
  }
  std::cout << "objective " << options.objective
            << "; sim = re-simulated; gain = best fixed / dcp by the objective; "
            << format_fixed(network.seconds, 1) << " s\n";
  table.print(std::cout);
}

nlohmann::json network_json(const MapCommandOptions& options, const ArchSpec& arch,
                            const NetworkMapping& network) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const LayerMapping& mapping = network.mappings[network.mapping_of_layer[i]];
    nlohmann::json fixed = nlohmann::json::object();
    for (const FixedRun& run : mapping.fixed.runs)
      fixed[run.dataflow.name] = {{"objective", run.objective},
                                  {"cycles", run.result.cycles},
                                  {"energy_pj", run.result.total_energy_pj},
                                  {"edp", run.result.edp()}};
    nlohmann::json verified = nlohmann::json::array();
    for (const VerifiedCandidate& candidate : mapping.verified)
      verified.push_back({{"predicted_cycles", candidate.candidate.predicted_cycles},
                          {"predicted_energy_pj", candidate.candidate.predicted_energy_pj},
                          {"simulated_cycles", candidate.simulated.cycles},
                          {"simulated_energy_pj", candidate.simulated.total_energy_pj},
                          {"found_at_step", candidate.candidate.found_at_step},
                          {"dataflow", format_dataflow_line(candidate.candidate.dataflow)}});
    layers.push_back({{"layer", network.layers[i].name},
                      {"count", network.layers[i].count},
                      {"simulator_calls", mapping.simulator_calls},
                      {"objective", mapping.best_objective},
                      {"best_is_fixed", mapping.best_is_fixed},
                      {"predicted_cycles", mapping.predicted_cycles},
                      {"predicted_energy_pj", mapping.predicted_energy_pj},
                      {"best_fixed", mapping.fixed.best_run().dataflow.name},
                      {"gain", gain(mapping)},
                      {"fixed", fixed},
                      {"verified", verified},
                      {"dataflow", dataflow_to_yaml(mapping.best)},
                      {"result", result_to_json(mapping.best_result)}});
  }
  const NetworkTotals totals = network_totals(network);
  return {{"arch", arch.name},
          {"objective", options.objective},
          {"seed", options.map.propagation.seed},
          {"wall_seconds", network.seconds},
          {"layers", layers},
          {"totals", totals.to_json()}};
}

void write_trace_steps(const std::string& path, const NetworkMapping& network) {
  std::ofstream file(path);
  file << "layer,step,best_predicted_objective,mean_predicted_objective,decoded\n";
  for (const LayerMapping& mapping : network.mappings) {
    for (const PropagationStep& step : mapping.curve) {
      file << mapping.layer.name << "," << step.step << "," << step.best_objective << ","
           << step.mean_objective << "," << (step.decoded ? 1 : 0) << "\n";
    }
  }
  if (!file) throw InputError(path, "--trace-steps", "cannot write file");
}

void run_map(const MapCommandOptions& options) {
  // First: a build without the predictor refuses before reading anything.
  set_learned_model_threads(options.threads, 1);
  const Objective objective = parse_objective(options.objective, "--objective");
  const ArchSpec arch = load_arch(options.layers.arch_path);
  const std::vector<Layer> layers = load_layers("dcp map", options.layers);
  Predictor predictor =
      load_predictor_for_arch(options.predictor_path, arch, options.layers.arch_path);

  const NetworkMapping network = map_network(options, predictor, arch, objective, layers);
  if (!options.out_dir.empty()) {
    std::vector<Dataflow> dataflows;
    for (size_t index : network.mapping_of_layer) dataflows.push_back(network.mappings[index].best);
    write_layer_dataflows(options.out_dir, network.layers, dataflows);
    // The whole report and the curves go beside the dataflows, for `dcp report`.
    write_output((std::filesystem::path(options.out_dir) / "map.json").string(), "--out",
                 network_json(options, arch, network).dump(2) + "\n");
    write_trace_steps((std::filesystem::path(options.out_dir) / "steps.csv").string(), network);
  }
  if (!options.trace_steps_path.empty()) write_trace_steps(options.trace_steps_path, network);
  if (options.json) {
    std::cout << network_json(options, arch, network).dump(2) << "\n";
  } else {
    print_table(options, network);
  }
}

}  // namespace

void add_map_command(CLI::App& app) {
  auto options = std::make_shared<MapCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "map", "Map a layer or a network with DCP: propagate codes, decode, re-simulate");
  command->option_defaults()->always_capture_default();
  add_layer_selection_options(*command, options->layers);
  command->add_option("--predictor", options->predictor_path, "Predictor file from dcp train")
      ->required();
  add_objective_option(*command, options->objective);
  command
      ->add_option("--out", options->out_dir,
                   "Directory for each layer's dataflow (YAML and MAESTRO .m)")
      ->check(output_directory());
  command
      ->add_option("--trace-steps", options->trace_steps_path,
                   "CSV of the predicted objective per propagation step")
      ->check(output_file());
  PropagationOptions& propagation = options->map.propagation;
  command->add_option("--seed", propagation.seed, "Seed of the random starts");
  command
      ->add_option("--starts", propagation.random_starts,
                   "Random starting codes per layer (besides the fixed dataflows)")
      ->check(in_range(0, 10000));
  command->add_option("--steps", propagation.steps, "Adam steps")->check(in_range(0, 100000));
  command->add_option("--learning-rate", propagation.learning_rate, "Adam step size on the code")
      ->check(in_range(1e-6, 10.0));
  command
      ->add_option("--top-k", options->map.verify_top_k,
                   "Candidates re-simulated per layer, best predicted first")
      ->check(in_range(1, 10000));
  command
      ->add_option("--rounds", options->map.rounds,
                   "Propagate-and-verify rounds; the predictor copy is fine-tuned on the "
                   "simulated dataflows between them")
      ->check(in_range(1, 100));
  command
      ->add_option("--fine-tune-steps", options->map.fine_tune_steps,
                   "Adam steps of each fine-tuning between rounds")
      ->check(in_range(0, 100000));
  command
      ->add_option("--neighbours", options->map.neighbours_per_round,
                   "Walks from the best simulated dataflows, ranked by the predictor, added to "
                   "each round's candidates")
      ->check(in_range(0, 100000));
  command
      ->add_option("--threads", options->threads,
                   "Torch threads (default: OMP_NUM_THREADS if set, else 1)")
      ->check(in_range(1, 1024));
  command->add_flag("--json", options->json, "Machine-readable output");
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options] { run_map(*options); });
}

}  // namespace dcp::cli
