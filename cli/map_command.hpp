#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp map`: DCP propagation through a trained predictor, with every chosen dataflow
// re-simulated, for one layer or a whole network.
void add_map_command(CLI::App& app);

}  // namespace dcp::cli
