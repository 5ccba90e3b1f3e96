#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp export`: a dataflow (fixed name, dcp YAML, Timeloop mapping or MAESTRO .m) as
// dcp YAML, MAESTRO directives or a Timeloop mapping.
void add_export_command(CLI::App& app);

}  // namespace dcp::cli
