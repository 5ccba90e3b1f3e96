// Fuzzes the `dcp` command line: the input is one argument per line after a subcommand, the
// arguments the simulator-side subcommands take (simulate, export, import, import-timeloop,
// arch-space) and anything else CLI11 must refuse. Every run must return 0, or 2 after its one
// error line (1 only for a failed --functional check, which prints its own report); an abort, a
// sanitizer error or an exception escaping dcp::cli::run is a crash.
// It runs in a scratch folder holding copies of the presets, the models and the test data, so
// relative paths resolve and whatever it writes stays there; absolute paths and ".." are skipped.
// The folder is entered before the corpus is read: libFuzzer needs absolute corpus paths, which
// scripts/fuzz gives.
// This build has no torch (the fuzz preset), so it also covers the learning commands' refusal.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/dcp_command.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace fs = std::filesystem;

// Subcommands that learn (no predictor in this build), sweep (forks workers) or search (long
// budgets) are not run; every other word goes to the parser, misspelt commands included.
bool runnable(const std::string& command) {
  for (const char* skipped : {"train", "eval", "map", "transfer", "sweep", "search", "report"})
    if (command == skipped) return false;
  return true;
}

void enter_scratch_folder() {
  const fs::path scratch = fs::temp_directory_path() / ("dcp_fuzz_cli_" + std::to_string(getpid()));
  fs::create_directories(scratch);
  for (const char* folder : {"arch", "workloads/models", "tests/data"}) {
    fs::create_directories((scratch / folder).parent_path());
    fs::copy(dcp::fuzz::source_path(folder), scratch / folder,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  fs::current_path(scratch);
  // The tables and YAML the commands print would only slow the runs down.
  if (std::freopen("/dev/null", "w", stdout) == nullptr) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  enter_scratch_folder();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::vector<std::string> arguments = {"dcp"};
  std::string current;
  for (std::size_t i = 0; i < size && arguments.size() < 24; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0') return 0;  // no argv string holds one
    if (c != '\n') {
      current += c;
      continue;
    }
    arguments.push_back(current);
    current.clear();
  }
  if (!current.empty()) arguments.push_back(current);
  if (arguments.size() > 1 && !runnable(arguments[1])) return 0;
  for (const std::string& argument : arguments) {
    if (argument.rfind('/', 0) == 0 || argument.find("..") != std::string::npos) return 0;
    // Whole networks and every-iteration runs take seconds under the sanitizers: libFuzzer
    // would call them hangs. One layer reaches the same code.
    if (argument == "--network" || argument == "--every-iteration") return 0;
  }
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const int status = dcp::cli::run(static_cast<int>(arguments.size()), argv.data());
  if (status != 0 && status != 1 && status != 2) std::abort();
  return 0;
}
