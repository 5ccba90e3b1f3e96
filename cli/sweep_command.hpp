#pragma once
#include <CLI/CLI.hpp>

namespace dcp::cli {

// Registers `dcp sweep`: simulates sampled (layer, dataflow) pairs on an arch in --jobs worker
// processes into a resumable SQLite trace store; --shard splits one sweep over machines and
// --merge joins the shards' stores.
void add_sweep_command(CLI::App& app);

}  // namespace dcp::cli
