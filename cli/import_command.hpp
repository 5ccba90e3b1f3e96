#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp import` (an ONNX model as a model YAML) and `dcp import-timeloop` (a Timeloop
// problem as a model YAML with one layer).
void add_import_commands(CLI::App& app);

}  // namespace dcp::cli
