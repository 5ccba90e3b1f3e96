#include "cli/map_command.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

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
  bool pareto = false;
  int pareto_points = 5;  // latency weights the fronts are mapped with
  bool per_network = false;
  bool json = false;
  bool quiet = false;
};

// One row per layer of the network; layers of an already mapped shape share its mapping.
struct NetworkMapping {
  std::vector<Layer> layers;
  std::vector<size_t> mapping_of_layer;  // into `mappings` (and `fronts`)
  // One per distinct shape. With --pareto, each front's least-EDP pick, so that the per-layer
  // report reads as without it.
  std::vector<LayerMapping> mappings;
  // --pareto: the latency weights, a front per distinct shape and the network's front.
  std::vector<double> latency_weights;
  std::vector<LayerFront> fronts;
  std::vector<NetworkFrontPoint> network_front;
  double seconds = 0;
};

// For each weighting, every layer takes its front's point that the weighting ranks first.
std::vector<NetworkFrontPoint> network_front_of(const NetworkMapping& network) {
  std::vector<int64_t> counts;
  std::vector<std::vector<CostPoint>> chosen;
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const LayerFront& front = network.fronts[network.mapping_of_layer[i]];
    counts.push_back(network.layers[i].count);
    chosen.emplace_back();
    for (const size_t point : front.best_for_weighting)
      chosen.back().push_back(front.points[point].cost());
  }
  return network_front(counts, chosen);
}

NetworkMapping map_network(const MapCommandOptions& options, Predictor& predictor,
                           const ArchSpec& arch, const Objective& objective,
                           const std::vector<Layer>& layers) {
  NetworkMapping network;
  network.layers = layers;
  // Each distinct layer's count is its loop nest's total, for --per-network's score.
  const DistinctLayers distinct_nests = distinct_layers(layers);
  const std::vector<Layer>& distinct = distinct_nests.layers;
  network.mapping_of_layer = distinct_nests.of_layer;
  const int64_t mappings_per_layer = options.pareto ? options.pareto_points : 1;
  const int64_t planned_calls =
      static_cast<int64_t>(distinct.size()) * mappings_per_layer *
      (static_cast<int64_t>(fixed_dataflow_names().size()) + options.map.verify_top_k);
  const auto start = std::chrono::steady_clock::now();
  {
    Progress progress("mapping (simulator calls)", planned_calls, options.quiet || options.json);
    const auto simulated = [&] { progress.advance(); };
    if (options.pareto) {
      network.latency_weights = front_latency_weights(options.pareto_points);
      network.fronts = map_layers_pareto(predictor, distinct, arch, network.latency_weights,
                                         options.map, simulated);
      for (const LayerFront& front : network.fronts) network.mappings.push_back(front.pooled);
      network.network_front = network_front_of(network);
    } else {
      network.mappings = map_layers(predictor, distinct, arch, objective, options.map, simulated);
    }
  }
  network.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (LayerMapping& mapping : network.mappings) mapping.best.name = "dcp_" + mapping.layer.name;
  return network;
}

double gain(const LayerMapping& mapping) {
  return mapping.fixed.best_run().objective / mapping.best_objective;
}

// Over the distinct shapes: layers that share a loop nest share their calls.
int64_t simulator_calls(const NetworkMapping& network) {
  int64_t calls = 0;
  for (const LayerMapping& mapping : network.mappings) calls += mapping.simulator_calls;
  return calls;
}

NetworkTotals network_totals(const NetworkMapping& network) {
  NetworkTotals totals;
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const LayerMapping& mapping = network.mappings[network.mapping_of_layer[i]];
    totals.add_layer(network.layers[i].count, mapping.best_result, mapping.fixed.best_run().result,
                     gain(mapping));
  }
  totals.calls = simulator_calls(network);
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

// "0, 0.25, 0.5" of the listed weightings, "-" for none.
std::string weights_text(const NetworkMapping& network, const std::vector<size_t>& weightings) {
  std::string text;
  for (const size_t weighting : weightings)
    text += (text.empty() ? "" : ", ") + format_number(network.latency_weights[weighting]);
  return text.empty() ? "-" : text;
}

// Per point of the front, the weightings that rank it first.
std::vector<std::vector<size_t>> weightings_of_points(const LayerFront& front) {
  std::vector<std::vector<size_t>> weightings(front.points.size());
  for (size_t weighting = 0; weighting < front.best_for_weighting.size(); ++weighting)
    weightings[front.best_for_weighting[weighting]].push_back(weighting);
  return weightings;
}

std::string found_by(const NetworkMapping& network, const FrontPoint& point) {
  if (point.found_by < 0) return "fixed " + point.dataflow.name;
  return "w=" + format_number(network.latency_weights[static_cast<size_t>(point.found_by)]);
}

void print_pareto_table(const NetworkMapping& network) {
  Table table({"layer", "count", "cycles", "energy_uJ", "EDP_cycle_uJ", "best_for_w", "found_by"});
  std::vector<bool> printed(network.fronts.size(), false);
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const size_t index = network.mapping_of_layer[i];
    const LayerFront& front = network.fronts[index];
    const std::string name = network.layers[i].name,
                      count = std::to_string(network.layers[i].count);
    if (printed[index]) {
      table.add_row({name, count, "= " + front.pooled.layer.name});
      continue;
    }
    printed[index] = true;
    const auto weightings = weightings_of_points(front);
    for (size_t point = 0; point < front.points.size(); ++point) {
      const Result& result = front.points[point].result;
      table.add_row({name, count, std::to_string(result.cycles), energy_uj(result.total_energy_pj),
                     format_number(result.edp() * 1e-6), weights_text(network, weightings[point]),
                     found_by(network, front.points[point])});
    }
  }
  if (network.layers.size() > 1) {
    table.add_rule();
    for (const NetworkFrontPoint& point : network.network_front)
      table.add_row({"network", "", format_fixed(point.cost.cycles, 0),
                     energy_uj(point.cost.energy_pj),
                     edp_text(point.cost.cycles, point.cost.energy_pj),
                     weights_text(network, point.weightings), "sum of layers"});
  }
  std::vector<size_t> every_weighting(network.latency_weights.size());
  std::iota(every_weighting.begin(), every_weighting.end(), size_t{0});
  std::cout << "latency-energy fronts of w*latency+(1-w)*energy (normalised by the best fixed "
               "dataflows) mapped for w = "
            << weights_text(network, every_weighting)
            << "; every point re-simulated; best_for_w = the weights that rank it first; "
            << simulator_calls(network) << " simulator calls; " << format_fixed(network.seconds, 1)
            << " s\n";
  table.print(std::cout);
}

nlohmann::json pareto_json(const NetworkMapping& network) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const LayerFront& front = network.fronts[network.mapping_of_layer[i]];
    const auto weightings = weightings_of_points(front);
    nlohmann::json points = nlohmann::json::array();
    for (size_t point = 0; point < front.points.size(); ++point) {
      const FrontPoint& front_point = front.points[point];
      nlohmann::json best_for = nlohmann::json::array();
      for (const size_t weighting : weightings[point])
        best_for.push_back(network.latency_weights[weighting]);
      points.push_back({{"cycles", front_point.result.cycles},
                        {"energy_pj", front_point.result.total_energy_pj},
                        {"edp", front_point.result.edp()},
                        {"best_for", best_for},
                        {"found_by", found_by(network, front_point)},
                        {"dataflow", format_dataflow_line(front_point.dataflow)}});
    }
    layers.push_back({{"layer", network.layers[i].name},
                      {"count", network.layers[i].count},
                      {"simulator_calls", front.pooled.simulator_calls},
                      {"distinct_simulated", front.distinct_simulated},
                      {"points", points}});
  }
  nlohmann::json network_points = nlohmann::json::array();
  for (const NetworkFrontPoint& point : network.network_front) {
    nlohmann::json weights = nlohmann::json::array(), layer_points = nlohmann::json::array();
    for (const size_t weighting : point.weightings)
      weights.push_back(network.latency_weights[weighting]);
    // The weightings of one point share its sum; the first's choices are the layers' points.
    for (const size_t index : network.mapping_of_layer)
      layer_points.push_back(network.fronts[index].best_for_weighting[point.weightings.front()]);
    network_points.push_back({{"cycles", point.cost.cycles},
                              {"energy_pj", point.cost.energy_pj},
                              {"edp", point.cost.cycles * point.cost.energy_pj},
                              {"latency_weights", weights},
                              {"layer_points", layer_points}});
  }
  return {{"latency_weights", network.latency_weights},
          {"simulator_calls", simulator_calls(network)},
          {"layers", layers},
          {"network", network_points}};
}

// DIR/pareto/<layer>.<point>.yaml and .m for every point of every layer's front.
void write_front_dataflows(const std::string& out_dir, const NetworkMapping& network) {
  std::vector<Layer> layers;
  std::vector<Dataflow> dataflows;
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const LayerFront& front = network.fronts[network.mapping_of_layer[i]];
    for (size_t point = 0; point < front.points.size(); ++point) {
      Layer layer = network.layers[i];
      layer.name += "." + std::to_string(point);
      Dataflow dataflow = front.points[point].dataflow;
      if (front.points[point].found_by >= 0) dataflow.name = "dcp_" + file_stem(layer.name);
      layers.push_back(std::move(layer));
      dataflows.push_back(std::move(dataflow));
    }
  }
  write_layer_dataflows((std::filesystem::path(out_dir) / "pareto").string(), layers, dataflows);
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
    // A later layer of an already mapped loop nest names the first, as `dcp search` does.
    const bool reused = mapping.layer.name != network.layers[i].name;
    layers.push_back({{"layer", network.layers[i].name},
                      {"count", network.layers[i].count},
                      {"reused_from", reused ? nlohmann::json(mapping.layer.name) : nullptr},
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
  nlohmann::json report = {{"arch", arch.name},
                           {"objective", options.objective},
                           {"seed", options.map.propagation.seed},
                           {"wall_seconds", network.seconds},
                           {"layers", layers},
                           {"totals", totals.to_json()}};
  if (options.pareto) report["pareto"] = pareto_json(network);
  return report;
}

// The distinct layers (counted as often as their loop nests occur) and their baselines.
NetworkProblem network_problem(const NetworkMapping& network) {
  NetworkProblem problem;
  for (const LayerMapping& mapping : network.mappings) {
    problem.layers.push_back(mapping.layer);
    problem.fixed.push_back(mapping.fixed);
  }
  problem.envelope = network_envelope(problem.layers);
  return problem;
}

struct PerNetworkReport {
  NetworkProblem problem;
  NetworkShapeMapping shape;
  double seconds = 0;
};

PerNetworkReport map_per_network(const MapCommandOptions& options, Predictor& predictor,
                                 const ArchSpec& arch, const Objective& objective,
                                 const NetworkMapping& network) {
  PerNetworkReport report;
  report.problem = network_problem(network);
  const int64_t planned_calls =
      static_cast<int64_t>(report.problem.layers.size()) * options.map.verify_top_k;
  const auto start = std::chrono::steady_clock::now();
  Progress progress("one shape for the network (simulator calls)", planned_calls,
                    options.quiet || options.json);
  report.shape = map_network_shape(predictor, report.problem, arch, objective, options.map,
                                   network.mappings, [&] { progress.advance(); });
  report.shape.best.shape.name =
      report.shape.best_is_fixed ? report.shape.best.shape.name : "dcp_network_shape";
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

// The per-network rows: one shape (DCP and the best fixed dataflow) against per-layer choices
// (DCP and each layer's best fixed dataflow); score is the network objective both minimise, per
// layer occurrence.
struct PerNetworkRow {
  std::string method;
  ShapeRun run;
  int64_t calls = 0;
};

std::vector<PerNetworkRow> per_network_rows(const PerNetworkReport& report,
                                            const NetworkMapping& network,
                                            const Objective& objective) {
  const NetworkProblem& problem = report.problem;
  std::vector<Dataflow> dcp_dataflows;
  std::vector<Result> dcp_results;
  int64_t per_layer_calls = 0;
  for (const LayerMapping& mapping : network.mappings) {
    dcp_dataflows.push_back(mapping.best);
    dcp_results.push_back(mapping.best_result);
    per_layer_calls += mapping.simulator_calls;
  }
  const ShapeRun& best_fixed = report.shape.fixed[report.shape.best_fixed];
  return {{"dcp, one shape", report.shape.best, report.shape.simulator_calls},
          {"fixed, one dataflow (" + best_fixed.shape.name + ")", best_fixed, 0},
          {"dcp, per layer", scored_run(problem, objective, {}, dcp_dataflows, dcp_results),
           per_layer_calls},
          {"fixed, best per layer", best_fixed_per_layer(problem, objective), 0}};
}

void print_per_network(const std::vector<PerNetworkRow>& rows, const PerNetworkReport& report) {
  std::cout << "\nper network: one dataflow shape for every layer against per-layer choices; "
               "score = mean over layer occurrences of the objective / the layer's best fixed; "
            << format_fixed(report.seconds, 1) << " s\n";
  Table table({"method", "sim_calls", "cycles", "energy_uJ", "EDP_cycle_uJ", "score"});
  for (const PerNetworkRow& row : rows)
    table.add_row({row.method, std::to_string(row.calls), format_fixed(row.run.cost.cycles, 0),
                   energy_uj(row.run.cost.energy_pj),
                   edp_text(row.run.cost.cycles, row.run.cost.energy_pj),
                   format_fixed(row.run.objective, 3)});
  table.print(std::cout);
}

nlohmann::json per_network_json(const std::vector<PerNetworkRow>& rows,
                                const PerNetworkReport& report) {
  nlohmann::json methods = nlohmann::json::array();
  for (const PerNetworkRow& row : rows)
    methods.push_back({{"method", row.method},
                       {"simulator_calls", row.calls},
                       {"cycles", row.run.cost.cycles},
                       {"energy_pj", row.run.cost.energy_pj},
                       {"edp", row.run.cost.edp()},
                       {"score", row.run.objective}});
  nlohmann::json verified = nlohmann::json::array();
  for (const ShapeRun& run : report.shape.verified)
    verified.push_back({{"score", run.objective},
                        {"cycles", run.cost.cycles},
                        {"energy_pj", run.cost.energy_pj},
                        {"shape", format_dataflow_line(run.shape)}});
  return {{"wall_seconds", report.seconds},
          {"best_is_fixed", report.shape.best_is_fixed},
          {"methods", methods},
          {"verified", verified}};
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
  std::optional<PerNetworkReport> per_network;
  std::vector<PerNetworkRow> per_network_table;
  if (options.per_network) {
    per_network = map_per_network(options, predictor, arch, objective, network);
    per_network_table = per_network_rows(*per_network, network, objective);
  }
  const auto report_json = [&] {
    nlohmann::json json = network_json(options, arch, network);
    if (per_network) json["per_network"] = per_network_json(per_network_table, *per_network);
    return json;
  };
  if (!options.out_dir.empty()) {
    std::vector<Dataflow> dataflows;
    for (size_t index : network.mapping_of_layer) dataflows.push_back(network.mappings[index].best);
    write_layer_dataflows(options.out_dir, network.layers, dataflows);
    // The whole report and the curves go beside the dataflows, for `dcp report`.
    write_output((std::filesystem::path(options.out_dir) / "map.json").string(), "--out",
                 report_json().dump(2) + "\n");
    if (options.pareto) {
      write_front_dataflows(options.out_dir, network);
    } else {
      write_trace_steps((std::filesystem::path(options.out_dir) / "steps.csv").string(), network);
    }
    // The one shape's dataflow for every layer, for `dcp simulate --dataflow` layer by layer.
    if (per_network) {
      std::vector<Dataflow> shape_dataflows;
      for (size_t index : network.mapping_of_layer)
        shape_dataflows.push_back(per_network->shape.best.fitted[index]);
      write_layer_dataflows((std::filesystem::path(options.out_dir) / "per_network").string(),
                            network.layers, shape_dataflows);
    }
  }
  if (!options.trace_steps_path.empty()) write_trace_steps(options.trace_steps_path, network);
  if (options.json) {
    std::cout << report_json().dump(2) << "\n";
  } else if (options.pareto) {
    print_pareto_table(network);
  } else {
    print_table(options, network);
    if (per_network) print_per_network(per_network_table, *per_network);
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
  CLI::Option* trace_steps = command
                                 ->add_option("--trace-steps", options->trace_steps_path,
                                              "CSV of the predicted objective per propagation step")
                                 ->check(output_file());
  CLI::Option* pareto =
      command->add_flag("--pareto", options->pareto,
                        "Latency-energy front per layer and per network instead of one "
                        "objective: one mapping per weighting w*latency+(1-w)*energy, every "
                        "point re-simulated; --out writes each point's dataflow to pareto/");
  // The weightings are the objective, and each descends its own curve.
  pareto->excludes(command->get_option("--objective"));
  pareto->excludes(trace_steps);
  command
      ->add_option("--pareto-points", options->pareto_points,
                   "Weightings the fronts are mapped with, w evenly from 0 (energy) to 1 "
                   "(latency)")
      ->check(in_range(2, 21))
      ->needs(pareto);
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
  command
      ->add_flag("--per-network", options->per_network,
                 "Also find one dataflow shape for every layer of the network (as a "
                 "fixed-dataflow chip runs), verified by simulating it on every layer")
      ->needs(command->get_option("--network"))
      ->excludes(command->get_option("--pareto"));
  command->add_flag("--json", options->json, "Machine-readable output");
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options] { run_map(*options); });
}

}  // namespace dcp::cli
