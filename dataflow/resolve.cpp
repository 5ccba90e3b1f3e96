#include "dataflow/resolve.hpp"

#include <filesystem>

#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/interchange.hpp"

namespace dcp {

DataflowSpec DataflowSpec::parse(const std::string& text, const std::string& source) {
  DataflowSpec spec;
  spec.text = text;
  if (is_fixed_dataflow_name(text)) return spec;
  if (!std::filesystem::is_regular_file(text)) {
    throw InputError(source, "", "'" + text + "' is neither a fixed dataflow nor a dataflow file",
                     fixed_dataflow_names_text() +
                         ", or a dataflow file (dcp YAML, Timeloop mapping, MAESTRO .m)");
  }
  spec.is_file = true;
  spec.from_file = load_dataflow_any_format(text);
  return spec;
}

Dataflow DataflowSpec::for_layer(const Layer& layer, const ArchSpec& arch) const {
  return is_file ? from_file : make_fixed_dataflow(text, layer, arch);
}

Dataflow resolve_dataflow(const std::string& spec, const Layer& layer, const ArchSpec& arch,
                          const std::string& source) {
  return DataflowSpec::parse(spec, source).for_layer(layer, arch);
}

}  // namespace dcp
