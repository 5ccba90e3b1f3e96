#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp arch-space`: draws hardware configs from an arch-space YAML, prints them and
// writes each as an arch YAML (the same configs `dcp sweep --arch-space` sweeps).
void add_arch_space_command(CLI::App& app);

}  // namespace dcp::cli
