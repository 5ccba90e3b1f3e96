#pragma once
// What a `--dataflow` argument means, decided in one place for every command: a fixed dataflow's
// name, generated for the layer, or a file in any format dcp reads (dcp YAML, a Timeloop mapping,
// MAESTRO `.m`), used as written.
#include <string>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// A fixed dataflow's name, or an existing file.
struct DataflowSpec {
  std::string text;
  bool is_file = false;
  Dataflow from_file;  // loaded once when is_file

  // Throws InputError naming `source` (where the text came from, as the caller names it) when
  // `text` is neither.
  static DataflowSpec parse(const std::string& text, const std::string& source);
  // The dataflow for `layer`: a fixed one generated for it, or the file's.
  Dataflow for_layer(const Layer& layer, const ArchSpec& arch) const;
};

// DataflowSpec::parse(spec, source).for_layer(layer, arch).
Dataflow resolve_dataflow(const std::string& spec, const Layer& layer, const ArchSpec& arch,
                          const std::string& source = "dataflow");

}  // namespace dcp
