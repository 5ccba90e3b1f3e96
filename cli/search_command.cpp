#include "cli/search_command.hpp"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "arch/arch_spec.hpp"
#include "cli/flag_context.hpp"
#include "cli/layer_results.hpp"
#include "cli/output_file.hpp"
#include "cli/progress.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"
#include "mapper/network_search.hpp"
#include "mapper/network_totals.hpp"
#include "mapper/per_network.hpp"
#include "mapper/sampler.hpp"
#include "mapper/search.hpp"
#include "mapper/search_recorder.hpp"
#include "sim/result_json.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp::cli {
namespace {

const char* const kMethods = "ga, random, exhaustive";

struct SearchCommandOptions {
  LayerSelection layers;
  std::string method = "ga";
  std::string objective = "edp";
  int64_t budget = 2000;
  int64_t max_candidates = kDefaultMaxCandidates;
  uint64_t seed = 1;
  int64_t random_layers = 0;
  std::string out_dir;
  std::string record_path;
  bool per_network = false;
  bool json = false;
  bool quiet = false;
};

struct LayerSearch {
  Layer layer;
  FixedBaseline baseline;
  SearchResult search;
  std::string reused_from;  // the earlier layer of the same shape, if any

  const FixedRun& best_fixed() const { return baseline.best_run(); }
  // How many times better than the best fixed dataflow, by the objective.
  double gain() const { return best_fixed().objective / search.best_objective; }
};

SearchResult run_method(const SearchCommandOptions& options, const Layer& layer,
                        const ArchSpec& arch, const Objective& objective,
                        const FixedBaseline& baseline, const SearchOptions& search_options) {
  if (options.method == "ga") return search_ga(layer, arch, objective, baseline, search_options);
  if (options.method == "random")
    return search_random(layer, arch, objective, baseline, search_options);
  return with_flag("--method exhaustive", [&] {
    return search_exhaustive(layer, arch, objective, baseline, search_options,
                             options.max_candidates);
  });
}

std::vector<LayerSearch> search_layers(const SearchCommandOptions& options,
                                       const std::vector<Layer>& layers, const ArchSpec& arch,
                                       const Objective& objective) {
  std::set<std::string> shapes;
  for (const Layer& layer : layers) shapes.insert(loop_nest_key(layer));
  // Exhaustive search has no budget to count against, so it reports whole layers.
  const bool per_call = options.method != "exhaustive";
  Progress progress("searching",
                    static_cast<int64_t>(shapes.size()) * (per_call ? options.budget : 1),
                    options.quiet || options.json);
  const auto dataflow_name = [&](const Layer& layer) {
    return options.method + "_" + file_stem(layer.name);
  };
  std::unique_ptr<SearchRecorder> recorder;
  if (!options.record_path.empty())
    recorder = std::make_unique<SearchRecorder>(options.record_path, options.method, options.budget,
                                                options.seed, options.objective, arch, layers);
  std::map<std::string, std::size_t> first_of_shape;
  std::vector<LayerSearch> searches;
  int64_t layer_number = -1;
  for (const Layer& layer : layers) {
    ++layer_number;
    if (recorder && recorder->recorded(layer_number)) {
      progress.advance(per_call ? options.budget : 1);
      continue;
    }
    const auto [first, is_new] = first_of_shape.emplace(loop_nest_key(layer), searches.size());
    if (!is_new) {
      LayerSearch reused = searches[first->second];
      reused.reused_from = reused.layer.name;
      reused.layer = layer;
      reused.search.best.name = dataflow_name(layer);
      searches.push_back(std::move(reused));
      continue;
    }
    SearchOptions search_options;
    search_options.budget = options.budget;
    search_options.seed = options.seed;
    int64_t reported = 0;
    if (per_call)
      search_options.on_progress = [&](int64_t calls) {
        progress.advance(calls - reported);
        reported = calls;
      };
    if (recorder) {
      recorder->start_layer(layer_number, layer);
      search_options.on_result = [&](const Dataflow& dataflow, const Result& result) {
        recorder->record(dataflow, result);
      };
    }
    LayerSearch entry{layer, fixed_baseline(layer, arch, objective), {}, ""};
    entry.search = run_method(options, layer, arch, objective, entry.baseline, search_options);
    if (recorder) recorder->finish_layer();
    entry.search.best.name = dataflow_name(layer);
    progress.advance(per_call ? options.budget - reported : 1);
    searches.push_back(std::move(entry));
  }
  return searches;
}

// The network totals, and the wall time of the searches that ran (a reused shape costs none).
struct SearchTotals {
  NetworkTotals network;
  double seconds = 0;
};

SearchTotals search_totals(const std::vector<LayerSearch>& searches) {
  SearchTotals totals;
  for (const LayerSearch& entry : searches) {
    totals.network.add_layer(entry.layer.count, entry.search.best_result, entry.best_fixed().result,
                             entry.gain());
    if (entry.reused_from.empty()) {
      totals.network.calls += entry.search.simulator_calls;
      totals.seconds += entry.search.wall_seconds;
    }
  }
  return totals;
}

void print_table(const SearchCommandOptions& options, const std::vector<LayerSearch>& searches,
                 std::ostream& out) {
  Table table({"layer", "count", "method", "sim_calls", "cycles", "energy_uJ", "EDP_cycle_uJ",
               "best_fixed", "fixed_EDP", "gain", "seconds"});
  for (const LayerSearch& entry : searches) {
    const Result& best = entry.search.best_result;
    const Result& fixed = entry.best_fixed().result;
    const bool reused = !entry.reused_from.empty();
    table.add_row({entry.layer.name, std::to_string(entry.layer.count), options.method,
                   reused ? "= " + entry.reused_from : std::to_string(entry.search.simulator_calls),
                   std::to_string(best.cycles), energy_uj(best.total_energy_pj),
                   format_number(best.edp() * 1e-6), entry.best_fixed().dataflow.name,
                   format_number(fixed.edp() * 1e-6), format_fixed(entry.gain(), 2) + "x",
                   reused ? "" : format_fixed(entry.search.wall_seconds, 2)});
  }
  if (searches.size() > 1) {
    const SearchTotals totals = search_totals(searches);
    const NetworkTotals& network = totals.network;
    table.add_rule();
    table.add_row({"total", "", "", std::to_string(network.calls),
                   format_fixed(network.picked.cycles, 0), energy_uj(network.picked.energy_pj),
                   edp_text(network.picked.cycles, network.picked.energy_pj), "per layer",
                   edp_text(network.best_fixed.cycles, network.best_fixed.energy_pj),
                   format_fixed(network.geomean_gain(), 2) + "x (geomean)",
                   format_fixed(totals.seconds, 2)});
  }
  out << "objective " << options.objective << "; gain = best fixed / " << options.method
      << " by the objective\n";
  table.print(out);
}

// Each fixed dataflow's objective and EDP on a layer, by name.
nlohmann::json fixed_runs_json(const FixedBaseline& baseline) {
  nlohmann::json fixed = nlohmann::json::object();
  for (const FixedRun& run : baseline.runs)
    fixed[run.dataflow.name] = {{"objective", run.objective}, {"edp", run.result.edp()}};
  return fixed;
}

nlohmann::json searches_to_json(const SearchCommandOptions& options, const ArchSpec& arch,
                                const std::vector<LayerSearch>& searches) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSearch& entry : searches) {
    layers.push_back({{"layer", entry.layer.name},
                      {"count", entry.layer.count},
                      {"reused_from", entry.reused_from},
                      {"simulator_calls", entry.search.simulator_calls},
                      {"wall_seconds", entry.search.wall_seconds},
                      {"objective", entry.search.best_objective},
                      {"best_fixed", entry.best_fixed().dataflow.name},
                      {"gain", entry.gain()},
                      {"fixed", fixed_runs_json(entry.baseline)},
                      {"best_by_generation", entry.search.best_by_generation},
                      {"dataflow", dataflow_to_yaml(entry.search.best)},
                      {"result", result_to_json(entry.search.best_result)}});
  }
  nlohmann::json output = {
      {"arch", arch.name},        {"method", options.method}, {"objective", options.objective},
      {"budget", options.budget}, {"seed", options.seed},     {"layers", layers}};
  const SearchTotals totals = search_totals(searches);
  output["totals"] = totals.network.to_json();
  output["totals"]["wall_seconds"] = totals.seconds;
  return output;
}

// --per-network: one shape searched for every layer of the network, against the fixed dataflows
// over the same network.
struct NetworkShapeSearch {
  std::vector<Layer> layers;  // the model's, in order
  DistinctLayers distinct;    // one layer per loop nest, its count the nest's total
  NetworkProblem problem;     // on the distinct layers
  NetworkSearchResult search;
  std::vector<ShapeRun> fixed;  // each fixed dataflow over the whole network
  size_t best_fixed = 0;        // the one with the lowest score
  ShapeRun per_layer_fixed;     // every layer under its own best fixed dataflow
};

NetworkShapeSearch search_network_shape(const SearchCommandOptions& options,
                                        const std::vector<Layer>& layers, const ArchSpec& arch,
                                        const Objective& objective) {
  NetworkShapeSearch network;
  network.layers = layers;
  network.distinct = distinct_layers(layers);
  network.problem = make_network_problem(network.distinct.layers, arch, objective);
  network.fixed = fixed_dataflows_over_network(network.problem, objective);
  network.best_fixed = best_run(network.fixed);
  network.per_layer_fixed = best_fixed_per_layer(network.problem, objective);

  const auto layer_count = static_cast<int64_t>(network.distinct.layers.size());
  Progress progress("searching (simulator calls)", options.budget * layer_count,
                    options.quiet || options.json);
  SearchOptions search_options;
  search_options.budget = options.budget;
  search_options.seed = options.seed;
  int64_t reported = 0;
  search_options.on_progress = [&](int64_t calls) {
    progress.advance(calls - reported);
    reported = calls;
  };
  network.search = options.method == "ga"
                       ? search_network_ga(network.problem, arch, objective, search_options)
                       : search_network_random(network.problem, arch, objective, search_options);
  progress.advance(options.budget * layer_count - reported);
  name_shape(
      network.search.best,
      options.method + "_" + file_stem(std::filesystem::path(options.layers.network_path).stem()));
  return network;
}

void print_network_table(const SearchCommandOptions& options, const NetworkShapeSearch& network,
                         std::ostream& out) {
  const NetworkSearchResult& search = network.search;
  Table table({"dataflow", "cycles", "energy_uJ", "EDP_cycle_uJ", "score"});
  const auto add_row = [&](const std::string& label, const NetworkCost& cost, double score) {
    table.add_row({label, format_fixed(cost.cycles, 0), energy_uj(cost.energy_pj),
                   format_number(cost.edp() * 1e-6), format_fixed(score, 3)});
  };
  add_row(search.best.shape.name + " (one shape)", search.best.cost, search.best.objective);
  const ShapeRun& fixed = network.fixed[network.best_fixed];
  add_row(fixed.shape.name + " (best fixed)", fixed.cost, fixed.objective);
  add_row(network.per_layer_fixed.shape.name, network.per_layer_fixed.cost,
          network.per_layer_fixed.objective);
  out << "objective " << options.objective << "; one " << options.method << " shape for "
      << network.layers.size() << " layers; score = mean over layer occurrences of the "
      << "objective / the layer's best fixed (lower is better)\n";
  table.print(out);
  out << "simulator calls: " << search.simulator_calls << " (" << search.shapes << " shapes x "
      << network.problem.layers.size() << " distinct layers); "
      << format_fixed(search.wall_seconds, 2) << " s\n";
}

nlohmann::json network_run_json(const ShapeRun& run) {
  return {{"name", run.shape.name},
          {"objective", run.objective},
          {"cycles", run.cost.cycles},
          {"energy_pj", run.cost.energy_pj},
          {"edp", run.cost.edp()}};
}

// Per model layer as the per-layer search writes them, so that `dcp report` reads both alike.
nlohmann::json network_search_to_json(const SearchCommandOptions& options, const ArchSpec& arch,
                                      const Objective& objective,
                                      const NetworkShapeSearch& network) {
  const NetworkSearchResult& search = network.search;
  nlohmann::json layers = nlohmann::json::array();
  NetworkTotals totals;
  for (size_t i = 0; i < network.layers.size(); ++i) {
    const size_t l = network.distinct.of_layer[i];
    const FixedBaseline& baseline = network.problem.fixed[l];
    const Result& result = search.best.results[l];
    const double layer_objective =
        objective_value(objective, static_cast<double>(result.cycles), result.total_energy_pj,
                        baseline.reference_cycles, baseline.reference_energy_pj);
    const double gain = baseline.best_run().objective / layer_objective;
    totals.add_layer(network.layers[i].count, result, baseline.best_run().result, gain);
    layers.push_back({{"layer", network.layers[i].name},
                      {"count", network.layers[i].count},
                      {"objective", layer_objective},
                      {"best_fixed", baseline.best_run().dataflow.name},
                      {"gain", gain},
                      {"fixed", fixed_runs_json(baseline)},
                      {"dataflow", dataflow_to_yaml(search.best.fitted[l])},
                      {"result", result_to_json(result)}});
  }
  totals.calls = search.simulator_calls;
  nlohmann::json fixed = nlohmann::json::array();
  for (const ShapeRun& run : network.fixed) fixed.push_back(network_run_json(run));
  nlohmann::json output = {{"arch", arch.name},
                           {"method", options.method},
                           {"per_network", true},
                           {"objective", options.objective},
                           {"budget", options.budget},
                           {"seed", options.seed},
                           {"shape_name", search.best.shape.name},
                           {"shape", dataflow_to_yaml(search.best.shape)},
                           {"score", search.best.objective},
                           {"best_by_generation", search.best_by_generation},
                           {"fixed_over_network", fixed},
                           {"best_fixed", network.fixed[network.best_fixed].shape.name},
                           {"per_layer_fixed", network_run_json(network.per_layer_fixed)},
                           {"layers", layers}};
  output["totals"] = totals.to_json();
  output["totals"]["shapes"] = search.shapes;
  output["totals"]["wall_seconds"] = search.wall_seconds;
  return output;
}

// Flags that choose layers one by one, or search without a budget, have no per-network meaning.
void check_per_network_flags(const SearchCommandOptions& options) {
  const auto refuse = [](const std::string& flag, const std::string& why) {
    throw InputError("--per-network", "", "cannot be combined with " + flag + " (" + why + ")",
                     "--per-network --network MODEL.yaml --method ga|random");
  };
  if (!options.layers.layer_reference.empty())
    refuse("--layer", "one shape is searched for a whole --network");
  if (options.random_layers > 0)
    refuse("--random-layers", "one shape is searched for a whole --network");
  if (options.method == "exhaustive")
    refuse("--method exhaustive", "its space is a layer's, not a shape's");
  if (!options.record_path.empty()) refuse("--record-traces", "it records per-layer searches");
  if (options.layers.network_path.empty())
    throw InputError("--per-network", "", "needs --network", "--network MODEL.yaml");
}

void run_network_search(const SearchCommandOptions& options, const ArchSpec& arch,
                        const Objective& objective) {
  const std::vector<Layer> layers = load_layers("dcp search --per-network", options.layers);
  const NetworkShapeSearch network = search_network_shape(options, layers, arch, objective);
  const nlohmann::json report = network_search_to_json(options, arch, objective, network);
  if (!options.out_dir.empty()) {
    create_output_directory(options.out_dir, "--out");
    const std::filesystem::path out_dir(options.out_dir);
    // The shape is a template: `dcp simulate --network` fits it to every layer as the search did.
    write_output((out_dir / (network.search.best.shape.name + ".yaml")).string(), "--out",
                 dataflow_to_yaml(network.search.best.shape));
    write_output((out_dir / ("search_" + options.method + "_per_network.json")).string(), "--out",
                 report.dump(2) + "\n");
  }
  if (options.json)
    std::cout << report.dump(2) << "\n";
  else
    print_network_table(options, network, std::cout);
}

void run_search(const SearchCommandOptions& options) {
  if (options.method != "ga" && options.method != "random" && options.method != "exhaustive")
    throw InputError("--method", "", "unknown method '" + options.method + "'", kMethods);
  if (options.budget < 1)
    throw InputError("--budget", "", std::to_string(options.budget) + " is below 1",
                     ">= 1 simulator calls per layer");
  if (options.max_candidates < 1)
    throw InputError("--max-candidates", "", std::to_string(options.max_candidates) + " is below 1",
                     ">= 1");
  if (options.per_network) check_per_network_flags(options);
  const Objective objective = parse_objective(options.objective, "--objective");
  const ArchSpec arch = load_arch(options.layers.arch_path);
  if (options.per_network) {
    run_network_search(options, arch, objective);
    return;
  }
  const std::vector<Layer> layers = options.random_layers > 0 &&
                                            options.layers.layer_reference.empty() &&
                                            options.layers.network_path.empty()
                                        ? random_layers(options.random_layers, options.seed)
                                        : load_layers("dcp search", options.layers);
  const std::vector<LayerSearch> searches = search_layers(options, layers, arch, objective);
  if (!options.out_dir.empty()) {
    std::vector<Dataflow> dataflows;
    for (const LayerSearch& entry : searches) dataflows.push_back(entry.search.best);
    write_layer_dataflows(options.out_dir, layers, dataflows);
    // The whole report goes beside the dataflows, for `dcp report`.
    write_output(
        (std::filesystem::path(options.out_dir) / ("search_" + options.method + ".json")).string(),
        "--out", searches_to_json(options, arch, searches).dump(2) + "\n");
  }
  if (options.json) {
    std::cout << searches_to_json(options, arch, searches).dump(2) << "\n";
  } else {
    print_table(options, searches, std::cout);
  }
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto options = std::make_shared<SearchCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "search", "Search dataflows on the simulator (GA, random, exhaustive) as baselines");
  // Every value option shows its default in --help.
  command->option_defaults()->always_capture_default();
  add_layer_selection_options(*command, options->layers);
  command->add_option("--method", options->method, std::string("Search method: ") + kMethods);
  add_objective_option(*command, options->objective);
  command->add_option("--budget", options->budget, "Simulator calls per layer (ga, random)");
  command->add_option("--max-candidates", options->max_candidates,
                      "Largest space exhaustive search walks");
  command->add_option("--seed", options->seed, "Seed of every random choice");
  command
      ->add_option("--random-layers", options->random_layers,
                   "Search this many synthetic layers (drawn from the seed) instead of "
                   "--layer/--network")
      ->check(in_range(int64_t{0}, int64_t{1000000}));
  command
      ->add_option("--record-traces", options->record_path,
                   "Also write every simulated dataflow to this trace store (for dcp train); "
                   "a rerun skips the layers already recorded")
      ->check(output_file());
  command
      ->add_option("--out", options->out_dir,
                   "Directory for each layer's best dataflow (YAML and MAESTRO .m), or with "
                   "--per-network the shape's YAML")
      ->check(output_directory());
  command->add_flag("--per-network", options->per_network,
                    "Search one dataflow shape for every layer of --network (ga, random; "
                    "--budget counts shapes, each one simulator call per distinct layer)");
  command->add_flag("--json", options->json, "Machine-readable output");
  command->add_flag("--quiet", options->quiet, "No progress line");
  command->callback([options] { run_search(*options); });
}

}  // namespace dcp::cli
