#include "cli/import_command.hpp"

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/output_file.hpp"
#include "common/shared_module.hpp"
#include "workloads/network_writer.hpp"
#include "workloads/onnx_import.hpp"
#include "workloads/timeloop_problem.hpp"

namespace dcp::cli {
namespace {

struct ImportOptions {
  std::string input_path;
  std::string out_path;
  std::string name;
  bool no_merge = false;
};

// With --out the YAML goes to the file and the summary to stdout; without, the YAML is stdout
// and the summary moves to stderr so that the YAML can be piped.
std::ostream& summary_stream(const ImportOptions& options) {
  return options.out_path.empty() ? std::cerr : std::cout;
}

std::string destination(const ImportOptions& options) {
  return options.out_path.empty() ? "stdout" : options.out_path;
}

void run_onnx_import(const ImportOptions& options) {
  const OnnxImport imported =
      call_module_entry<const OnnxImporter*>(DCP_ONNX_LIBRARY, "dcp_onnx_importer")
          ->import_file(options.input_path, OnnxImportOptions{options.name, !options.no_merge});
  std::string comment = "Written by `dcp import " + options.input_path + "`.";
  for (const SkippedNode& node : imported.skipped) {
    const std::string line = "not imported (counted as no MACs): " + node.name + " (" +
                             node.op_type + "): " + node.reason;
    comment += "\n" + line;
    std::cerr << "dcp: warning: " << line << "\n";
  }
  for (const std::string& note : imported.notes) {
    comment += "\n" + note;
    std::cerr << "dcp: note: " << note << "\n";
  }
  const Network& network = imported.network;
  write_output(options.out_path, "--out",
               network_to_yaml(network,
                               "dcp import of " + options.input_path +
                                   ": sum of its Conv, Gemm and MatMul MACs",
                               comment));
  int64_t occurrences = 0;
  for (const Layer& layer : network.layers) occurrences += layer.count;
  summary_stream(options) << network.name << ": " << occurrences << " MAC layers as "
                          << network.layers.size() << " entries, " << network.stated_macs
                          << " MACs, " << imported.skipped.size() << " nodes skipped -> "
                          << destination(options) << "\n";
}

void run_timeloop_import(const ImportOptions& options) {
  const std::string name = options.name.empty()
                               ? std::filesystem::path(options.input_path).stem().string()
                               : options.name;
  Network network;
  network.name = name;
  network.layers = {load_timeloop_problem(options.input_path, name)};
  // The problem's N is the network's batch; stated MACs are per image, as in every model file.
  network.batch = network.layers.front().N;
  network.stated_macs = network.macs() / network.batch;
  write_output(options.out_path, "--out",
               network_to_yaml(network, "Timeloop problem " + options.input_path,
                               "Written by `dcp import-timeloop " + options.input_path +
                                   "`; Timeloop problems have no padding."));
  const Layer& layer = network.layers.front();
  summary_stream(options) << name << ": conv K=" << layer.K << " C=" << layer.C << " Y=" << layer.Y
                          << " X=" << layer.X << " R=" << layer.R << " S=" << layer.S << " stride "
                          << layer.stride << " batch " << layer.N << ", " << network.stated_macs
                          << " MACs -> " << destination(options) << "\n";
}

CLI::App* add_import_subcommand(CLI::App& app, const std::string& name,
                                const std::string& description, const std::string& input_help,
                                const std::shared_ptr<ImportOptions>& options) {
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("input", options->input_path, input_help)->required();
  command->add_option("--out", options->out_path, "Model YAML to write (default: stdout)")
      ->check(output_file());
  command->add_option("--name", options->name, "Network name (default: from the input)");
  return command;
}

}  // namespace

void add_import_commands(CLI::App& app) {
  auto onnx_options = std::make_shared<ImportOptions>();
  CLI::App* onnx = add_import_subcommand(
      app, "import", "Import an ONNX model's Conv, Gemm and MatMul layers as a model YAML",
      "The .onnx file", onnx_options);
  onnx->add_flag("--no-merge", onnx_options->no_merge,
                 "Keep identical layers separate instead of merging them into `count`");
  onnx->callback([onnx_options] { run_onnx_import(*onnx_options); });

  auto timeloop_options = std::make_shared<ImportOptions>();
  add_import_subcommand(app, "import-timeloop",
                        "Import a Timeloop problem YAML as a model YAML with one layer",
                        "The Timeloop problem YAML", timeloop_options)
      ->callback([timeloop_options] { run_timeloop_import(*timeloop_options); });
}

}  // namespace dcp::cli
