#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp report`: checks a `dcp map --out` folder (and the search baselines in it), then
// runs scripts/report.py to write an HTML page with the figures.
void add_report_command(CLI::App& app);

}  // namespace dcp::cli
