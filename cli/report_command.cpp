#include "cli/report_command.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/output_file.hpp"
#include "common/input_error.hpp"

extern char** environ;

namespace dcp::cli {
namespace {

namespace fs = std::filesystem;

// Debian's python3-matplotlib is installed for the system interpreter; a python3 found earlier on
// PATH (pyenv, a virtualenv) may lack it.
const char* const kPython = "/usr/bin/python3";

struct ReportCommandOptions {
  std::string mapped_dir;
  std::string out_dir;
};

std::string report_script() {
  const char* override_path = std::getenv("DCP_REPORT_SCRIPT");
  return override_path != nullptr ? override_path : DCP_SOURCE_DIR "/scripts/report.py";
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream file(path);
  if (!file) throw InputError(path.string(), "", "cannot read file");
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::parse_error& error) {
    throw InputError(path.string(), "", std::string("not valid JSON: ") + error.what());
  }
}

// The script trusts the shape of what it reads, so every layer's simulated result is checked
// here, where a wrong file becomes one line naming it.
void check_layers(const fs::path& path, const nlohmann::json& report, const std::string& writer) {
  const auto missing = [&](const std::string& field) {
    return InputError(path.string(), field, "missing", "the JSON that " + writer + " writes");
  };
  if (!report.is_object() || !report.contains("layers") || !report["layers"].is_array() ||
      report["layers"].empty())
    throw missing("layers");
  for (size_t i = 0; i < report["layers"].size(); ++i) {
    const nlohmann::json& layer = report["layers"][i];
    const std::string field = "layers[" + std::to_string(i) + "]";
    if (!layer.is_object() || !layer.contains("layer")) throw missing(field + ".layer");
    if (!layer.contains("result") || !layer["result"].is_object() ||
        !layer["result"].contains("cycles") || !layer["result"].contains("energy_pj"))
      throw missing(field + ".result");
  }
}

// `dcp map --pareto`'s fronts: every point of the network's and of each layer's front has its
// cycles and energy.
void check_fronts(const fs::path& path, const nlohmann::json& pareto) {
  const auto missing = [&](const std::string& field) {
    return InputError(path.string(), field, "missing", "the JSON that dcp map --pareto writes");
  };
  const auto check_points = [&](const nlohmann::json& points, const std::string& field) {
    if (!points.is_array() || points.empty()) throw missing(field);
    for (size_t i = 0; i < points.size(); ++i)
      if (!points[i].is_object() || !points[i].contains("cycles") ||
          !points[i].contains("energy_pj"))
        throw missing(field + "[" + std::to_string(i) + "].cycles");
  };
  if (!pareto.is_object() || !pareto.contains("latency_weights")) throw missing("pareto");
  check_points(pareto.value("network", nlohmann::json()), "pareto.network");
  const nlohmann::json layers = pareto.value("layers", nlohmann::json());
  if (!layers.is_array()) throw missing("pareto.layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string field = "pareto.layers[" + std::to_string(i) + "]";
    if (!layers[i].is_object() || !layers[i].contains("layer")) throw missing(field + ".layer");
    check_points(layers[i].value("points", nlohmann::json()), field + ".points");
  }
}

void check_inputs(const fs::path& mapped_dir) {
  const std::string expected = "a folder written by dcp map --out";
  if (!fs::is_directory(mapped_dir))
    throw InputError(mapped_dir.string(), "", "no such folder", expected);
  const fs::path map_json = mapped_dir / "map.json";
  if (!fs::is_regular_file(map_json))
    throw InputError(map_json.string(), "", "not found",
                     expected + ", with map.json and steps.csv");
  const nlohmann::json report = read_json(map_json);
  check_layers(map_json, report, "dcp map --out");
  if (report.contains("pareto")) check_fronts(map_json, report["pareto"]);
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(mapped_dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("search_", 0) == 0 &&
        entry.path().extension() == ".json")
      check_layers(entry.path(), read_json(entry.path()), "dcp search --out");
  }
}

// The last non-empty line a failed program wrote: a Python traceback ends with the exception.
std::string last_line(const std::string& text) {
  const size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "no message";
  const size_t newline = text.rfind('\n', end);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(begin, end + 1 - begin);
}

// Runs `arguments` (the program first) with stderr captured; a non-zero exit is an InputError
// naming `source` with the program's last line.
void run_program(const std::vector<std::string>& arguments, const std::string& source) {
  int error_pipe[2];
  if (pipe(error_pipe) != 0) throw InputError(source, "", "cannot create a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, error_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, error_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, error_pipe[1]);
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.data()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(error_pipe[1]);
  if (spawn_error != 0) {
    close(error_pipe[0]);
    throw InputError(arguments[0], "", std::string("cannot run: ") + std::strerror(spawn_error),
                     "python3 with matplotlib, as scripts/setup installs");
  }
  std::string error_output;
  char buffer[4096];
  ssize_t bytes = 0;
  while ((bytes = read(error_pipe[0], buffer, sizeof buffer)) > 0)
    error_output.append(buffer, bytes);
  close(error_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InputError(source, "", "failed: " + last_line(error_output));
}

void run_report(const ReportCommandOptions& options) {
  check_inputs(options.mapped_dir);
  const std::string script = report_script();
  run_program({kPython, script, options.mapped_dir, options.out_dir}, script);
  std::cout << (fs::path(options.out_dir) / "index.html").string() << "\n";
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "report", "HTML page with figures for a dcp map --out folder and the searches in it");
  command->add_option("mapped_dir", options->mapped_dir, "Folder written by dcp map --out")
      ->required();
  command->add_option("--out", options->out_dir, "Folder for index.html and the PNG figures")
      ->required()
      ->check(output_directory());
  command->callback([options] { run_report(*options); });
}

}  // namespace dcp::cli
