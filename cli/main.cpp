// The `dcp` command: parses, calls the libraries, prints. Every InputError becomes one line on
// stderr and exit status 2.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/arch_space_command.hpp"
#include "cli/export_command.hpp"
#include "cli/import_command.hpp"
#include "cli/map_command.hpp"
#include "cli/report_command.hpp"
#include "cli/search_command.hpp"
#include "cli/simulate_command.hpp"
#include "cli/sweep_command.hpp"
#include "cli/train_command.hpp"
#include "cli/transfer_command.hpp"
#include "common/input_error.hpp"

// SystemC's library refers to sc_main; dcp has its own main, so this is never called.
int sc_main(int, char*[]) {
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{
      "dcp: find the best dataflow for each layer of a neural network on a spatial "
      "accelerator"};
  app.require_subcommand(1);
  dcp::cli::add_simulate_command(app);
  dcp::cli::add_import_commands(app);
  dcp::cli::add_export_command(app);
  dcp::cli::add_sweep_command(app);
  dcp::cli::add_arch_space_command(app);
  dcp::cli::add_train_commands(app);
  dcp::cli::add_map_command(app);
  dcp::cli::add_transfer_command(app);
  dcp::cli::add_search_command(app);
  dcp::cli::add_report_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const dcp::InputError& error) {
    std::cerr << "dcp: error: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
