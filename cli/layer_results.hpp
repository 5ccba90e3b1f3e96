#pragma once
// What the commands that map whole networks share: choosing the layers, naming and writing one
// dataflow per layer, and the units of the tables.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp::cli {

// --arch (required), --layer and --network (one of the two), --batch and --im2col, as every
// command that maps layers takes them.
struct LayerSelection {
  std::string arch_path;
  std::string layer_reference;
  std::string network_path;
  std::optional<int64_t> batch;  // unset: the model file's batch
  bool im2col = false;           // every convolution lowered to its im2col GEMM
};
void add_layer_selection_options(CLI::App& command, LayerSelection& selection);
// --objective, with the allowed forms in its help.
void add_objective_option(CLI::App& command, std::string& objective);

// One layer ("model.yaml:name") or every layer of a model YAML; exactly one must be given. With
// a batch set, every layer's N is that batch; with im2col, every convolution is its im2col GEMM.
std::vector<Layer> load_layers(const std::string& command, const LayerSelection& selection);

// A layer name as a file name: path separators and other odd characters become '_'.
std::string file_stem(const std::string& layer_name);

// Writes `out_dir`/<layer>.yaml and .m (MAESTRO) for each layer's dataflow.
void write_layer_dataflows(const std::string& out_dir, const std::vector<Layer>& layers,
                           const std::vector<Dataflow>& dataflows);

std::string energy_uj(double picojoules);
// EDP in cycle x uJ, 3 significant digits.
std::string edp_text(double cycles, double energy_pj);

}  // namespace dcp::cli
