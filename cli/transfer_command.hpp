#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp transfer`: adapts a predictor to an arch it was not trained on from a few
// simulated samples (shots), and reports its error on that arch before and after.
void add_transfer_command(CLI::App& app);

}  // namespace dcp::cli
