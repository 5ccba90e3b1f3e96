#pragma once
// What a `--dataflow` argument means, decided in one place for every command: a fixed dataflow's
// name, generated for the layer, or a file in any format dcp reads (dcp YAML, a Timeloop mapping,
// MAESTRO `.m`), used as written.
#include <string>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// A fixed dataflow's name, or an existing file. Throws InputError naming `spec` otherwise.
struct DataflowSpec {
  std::string text;
  bool is_file = false;
  Dataflow from_file;  // loaded once when is_file

  static DataflowSpec parse(const std::string& text);
  // The dataflow for `layer`: a fixed one generated for it, or the file's.
  Dataflow for_layer(const Layer& layer, const ArchSpec& arch) const;
};

// DataflowSpec::parse(spec).for_layer(layer, arch).
Dataflow resolve_dataflow(const std::string& spec, const Layer& layer, const ArchSpec& arch);

}  // namespace dcp
