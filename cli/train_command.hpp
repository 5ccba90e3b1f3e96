#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp train` (fit the predictor to a trace store, resumable from a checkpoint) and
// `dcp eval` (Spearman rho and median error of a predictor on the held-out layers of a store).
void add_train_commands(CLI::App& app);

}  // namespace dcp::cli
