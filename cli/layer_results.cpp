#include "cli/layer_results.hpp"

#include <cctype>
#include <filesystem>

#include "cli/output_file.hpp"
#include "cli/table.hpp"
#include "common/input_error.hpp"

namespace dcp::cli {

void add_layer_selection_options(CLI::App& command, LayerSelection& selection) {
  command.add_option("--arch", selection.arch_path, "Arch YAML (arch/presets/*.yaml)")->required();
  CLI::Option* layer =
      command.add_option("--layer", selection.layer_reference, "One layer: MODEL.yaml:LAYER_NAME");
  layer->excludes(command.add_option("--network", selection.network_path, "A model YAML"));
  command.add_option_function<int64_t>(
      "--batch", [&selection](int64_t batch) { selection.batch = batch; },
      "Images per batch (the N dim of every layer; default: the model file's)");
  command.add_flag("--im2col", selection.im2col,
                   "Lower every convolution to the GEMM im2col makes of it (rows: output pixels, "
                   "in_features: C x R x S), as SCALE-Sim and GEMM engines run one");
}

void add_objective_option(CLI::App& command, std::string& objective) {
  command.add_option("--objective", objective,
                     "latency, energy, edp or a weighted sum such as 0.7*latency+0.3*energy");
}

std::vector<Layer> load_layers(const std::string& command, const LayerSelection& selection) {
  if (selection.layer_reference.empty() == selection.network_path.empty())
    throw InputError(command, "--layer/--network", "give exactly one", "--layer or --network");
  Network network;
  if (!selection.layer_reference.empty())
    network.layers = {load_layer_ref(selection.layer_reference)};
  else
    network = load_network(selection.network_path);
  if (selection.batch) set_batch(network, *selection.batch, "--batch");
  if (selection.im2col)
    for (Layer& layer : network.layers) layer = lower_to_im2col(layer);
  return network.layers;
}

std::string file_stem(const std::string& layer_name) {
  std::string stem = layer_name;
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  return stem;
}

void write_layer_dataflows(const std::string& out_dir, const std::vector<Layer>& layers,
                           const std::vector<Dataflow>& dataflows) {
  create_output_directory(out_dir, "--out");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string stem = (std::filesystem::path(out_dir) / file_stem(layers[i].name)).string();
    write_output(stem + ".yaml", "--out", dataflow_to_yaml(dataflows[i]));
    write_output(stem + ".m", "--out", dataflow_to_maestro(dataflows[i], layers[i]));
  }
}

std::string energy_uj(double picojoules) {
  return format_fixed(picojoules * 1e-6, 3);
}

std::string edp_text(double cycles, double energy_pj) {
  return format_number(cycles * energy_pj * 1e-6);
}

}  // namespace dcp::cli
