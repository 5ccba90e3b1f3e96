#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp search`: the simulator-driven baselines (GAMMA's GA, random, exhaustive) on one
// layer or a network, each layer compared with its best fixed dataflow.
void add_search_command(CLI::App& app);

}  // namespace dcp::cli
