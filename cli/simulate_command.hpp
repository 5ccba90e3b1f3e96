#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp simulate`: one layer or a whole network on an arch under one dataflow (a fixed
// dataflow's name or a dataflow YAML), or under every fixed dataflow with --compare-fixed.
void add_simulate_command(CLI::App& app);

}  // namespace dcp::cli
