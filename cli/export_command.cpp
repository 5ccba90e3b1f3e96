#include "cli/export_command.hpp"

#include <memory>
#include <optional>

#include "arch/arch_spec.hpp"
#include "cli/output_file.hpp"
#include "common/input_error.hpp"
#include "dataflow/interchange.hpp"
#include "dataflow/resolve.hpp"

namespace dcp::cli {
namespace {

struct ExportOptions {
  std::string dataflow;
  std::string layer_reference;
  std::string arch_path;
  std::string format;
  std::string out_path;
  std::optional<int64_t> batch;  // unset: the model file's
};

Dataflow read_dataflow(const ExportOptions& options, const Layer* layer) {
  const DataflowSpec spec = DataflowSpec::parse(options.dataflow, "--dataflow");
  if (!spec.is_file && (layer == nullptr || options.arch_path.empty())) {
    throw InputError(
        "--dataflow", "",
        "the fixed dataflow " + options.dataflow + " is generated for a layer and arch",
        "--layer and --arch with a fixed dataflow name");
  }
  return spec.is_file ? spec.from_file : spec.for_layer(*layer, load_arch(options.arch_path));
}

void run_export(const ExportOptions& options) {
  std::unique_ptr<Layer> layer;
  if (!options.layer_reference.empty()) {
    Network network;
    network.layers = {load_layer_ref(options.layer_reference)};
    // A fixed dataflow's passes depend on the batch, so export it for the batch it will run.
    if (options.batch) set_batch(network, *options.batch, "--batch");
    layer = std::make_unique<Layer>(network.layers.front());
  } else if (options.format != "yaml") {
    throw InputError("--layer", "",
                     "the " + options.format + " format describes the dataflow for one layer",
                     "MODEL.yaml:LAYER with --format maestro or timeloop");
  }
  const Dataflow dataflow = read_dataflow(options, layer.get());
  if (layer && !options.arch_path.empty()) {
    require_legal(*layer, load_arch(options.arch_path), dataflow, options.dataflow);
  }
  std::string text;
  if (options.format == "yaml") {
    text = dataflow_to_yaml(dataflow);
  } else if (options.format == "maestro") {
    text = dataflow_to_maestro(dataflow, *layer);
  } else {
    text = dataflow_to_timeloop_mapping(dataflow, *layer);
  }
  write_output(options.out_path, "--out", text);
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* command = app.add_subcommand(
      "export", "Write a dataflow as a Timeloop mapping, MAESTRO directives or dcp YAML");
  command
      ->add_option("--dataflow", options->dataflow,
                   "A fixed dataflow name, a dataflow YAML, a Timeloop mapping YAML or a .m file")
      ->required();
  command->add_option("--format", options->format, "Output format")
      ->required()
      ->check(CLI::IsMember({"timeloop", "maestro", "yaml"}));
  command->add_option("--layer", options->layer_reference,
                      "MODEL.yaml:LAYER (needed for timeloop and maestro)");
  command->add_option("--arch", options->arch_path,
                      "Arch YAML: generates a fixed dataflow and checks legality");
  command->add_option_function<int64_t>(
      "--batch", [options](int64_t batch) { options->batch = batch; },
      "Images per batch (the layer's N dim; default: the model file's)");
  command->add_option("--out", options->out_path, "File to write (default: stdout)")
      ->check(output_file());
  command->callback([options] { run_export(*options); });
}

}  // namespace dcp::cli
