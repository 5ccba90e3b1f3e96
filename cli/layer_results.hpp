#pragma once
// What the commands that map whole networks share: choosing the layers, naming and writing one
// dataflow per layer, and the units of the tables.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataflow/dataflow.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace dcp::cli {

// --arch (required), --layer and --network (one of the two), and --batch, as every command that
// maps layers takes them.
struct LayerSelection {
  std::string arch_path;
  std::string layer_reference;
  std::string network_path;
  std::optional<int64_t> batch;  // unset: the model file's batch
};
void add_layer_selection_options(CLI::App& command, LayerSelection& selection);
// --objective, with the allowed forms in its help.
void add_objective_option(CLI::App& command, std::string& objective);

// One layer ("model.yaml:name") or every layer of a model YAML; exactly one must be given. With
// a batch set, every layer's N is that batch.
std::vector<Layer> load_layers(const std::string& command, const LayerSelection& selection);

// A layer name as a file name: path separators and other odd characters become '_'.
std::string file_stem(const std::string& layer_name);

// Writes `out_dir`/<layer>.yaml and .m (MAESTRO) for each layer's dataflow.
void write_layer_dataflows(const std::string& out_dir, const std::vector<Layer>& layers,
                           const std::vector<Dataflow>& dataflows);

// Network sums (each layer x its count) of a method's picks and of every layer's best fixed
// dataflow, and the geometric mean of the per-layer gains over the fixed dataflow.
struct NetworkTotals {
  double cycles = 0, energy_pj = 0;
  double fixed_cycles = 0, fixed_energy_pj = 0;
  int64_t calls = 0;  // left to the caller: layers that share a shape share their calls
  double log_gain_sum = 0;
  int64_t layers = 0;

  void add_layer(int64_t count, const Result& picked, const Result& best_fixed, double gain);
  double geomean_gain() const;
  // cycles, energy_pj, edp, best_fixed_edp, geomean_gain and simulator_calls.
  nlohmann::json to_json() const;
};

std::string energy_uj(double picojoules);
// EDP in cycle x uJ, 3 significant digits.
std::string edp_text(double cycles, double energy_pj);

}  // namespace dcp::cli
