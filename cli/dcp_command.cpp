// The `dcp` command: parses, calls the libraries, prints. Every error, whether CLI11's, an
// InputError or anything else thrown, becomes one line `dcp: error: ...` on stderr and exit
// status 2; a misspelt command or option gets the closest one suggested.
#include "cli/dcp_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/algorithm/string/trim.hpp>
#include <iostream>
#include <string>
#include <vector>

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
#include "git_commit.hpp"

namespace {

constexpr int kInputErrorStatus = 2;

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

// " (did you mean 'x'?)" for the candidate nearest `word`, if it is near enough to be a typo.
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = &candidate;
    }
  }
  return best == nullptr ? "" : " (did you mean '" + *best + "'?)";
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(command->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options())
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  return names;
}

std::string one_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  boost::algorithm::trim_right_if(line, boost::is_any_of(" \r"));
  return line;
}

// CLI11's own message, made specific where the user most likely mistyped a name.
std::string parse_error_message(const CLI::App& app, const std::vector<std::string>& arguments,
                                const CLI::ParseError& error) {
  const std::vector<std::string> commands = subcommand_names(app);
  const std::vector<CLI::App*> chosen = app.get_subcommands();
  if (chosen.empty()) {
    for (const std::string& argument : arguments) {
      if (argument.empty() || argument[0] == '-') continue;
      std::string allowed;
      for (const std::string& name : commands) allowed += (allowed.empty() ? "" : ", ") + name;
      return "unknown command '" + argument + "'" + suggestion(argument, commands) +
             " (allowed: " + allowed + ")";
    }
    return one_line(error.what()) + " (see dcp --help)";
  }
  const CLI::App& command = *chosen.front();
  const std::string help = " (see dcp " + command.get_name() + " --help)";
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    for (const std::string& argument : command.remaining()) {
      const std::string name = argument.substr(0, argument.find('='));
      if (name.rfind("--", 0) == 0)
        return "dcp " + command.get_name() + ": unknown option '" + name + "'" +
               suggestion(name, option_names(command)) + help;
    }
  }
  return "dcp " + command.get_name() + ": " + one_line(error.what()) + help;
}

int report_error(const std::string& message) {
  std::cerr << "dcp: error: " << message << "\n";
  return kInputErrorStatus;
}

}  // namespace

namespace dcp::cli {

int run(int argc, char** argv) {
  CLI::App app{
      "dcp: find the best dataflow for each layer of a neural network on a spatial "
      "accelerator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("dcp ") + DCP_VERSION + " (commit " +
                                        DCP_GIT_COMMIT + "); SystemC " + DCP_SYSTEMC_VERSION +
                                        ", libtorch " + DCP_TORCH_VERSION + ", SQLite " +
                                        DCP_SQLITE_VERSION + ", yaml-cpp " + DCP_YAML_CPP_VERSION);
  add_simulate_command(app);
  add_import_commands(app);
  add_export_command(app);
  add_sweep_command(app);
  add_arch_space_command(app);
  add_train_commands(app);
  add_map_command(app);
  add_transfer_command(app);
  add_search_command(app);
  add_report_command(app);
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& help) {
    return app.exit(help);
  } catch (const CLI::RuntimeError& failed) {
    // A command that printed its own report and chose its status (e.g. a failed --functional).
    return failed.get_exit_code();
  } catch (const CLI::ParseError& error) {
    return report_error(parse_error_message(app, arguments, error));
  } catch (const dcp::InputError& error) {
    return report_error(error.what());
  } catch (const std::exception& error) {
    // Library errors that are not about the user's input still end in one line, never an abort.
    return report_error(one_line(error.what()));
  }
  return 0;
}

}  // namespace dcp::cli
