#include "cli/output_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/input_error.hpp"

namespace dcp::cli {
namespace {

namespace fs = std::filesystem;

bool writable(const fs::path& path) {
  return access(path.c_str(), W_OK) == 0;
}

// "" when `directory` can take new entries, else why not.
std::string directory_problem(const fs::path& directory) {
  std::error_code error;
  if (!fs::exists(directory, error)) return "directory " + directory.string() + " does not exist";
  if (!fs::is_directory(directory, error)) return directory.string() + " is not a directory";
  if (!writable(directory)) return "directory " + directory.string() + " is not writable";
  return "";
}

fs::path parent_or_current(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

}  // namespace

const CLI::Validator& output_file() {
  static const CLI::Validator validator(
      [](std::string& text) -> std::string {
        const fs::path path(text);
        std::error_code error;
        if (fs::is_directory(path, error)) return text + " is a directory, not a file";
        if (fs::exists(path, error))
          return writable(path) ? "" : text + " exists and is not writable";
        return directory_problem(parent_or_current(path));
      },
      "FILE");
  return validator;
}

const CLI::Validator& output_directory() {
  static const CLI::Validator validator(
      [](std::string& text) -> std::string {
        std::error_code error;
        fs::path path = fs::absolute(fs::path(text), error);
        if (fs::exists(path, error)) return directory_problem(path);
        while (!fs::exists(path, error) && path.has_parent_path() && path != path.parent_path())
          path = path.parent_path();
        return directory_problem(path);
      },
      "DIR");
  return validator;
}

void write_output(const std::string& path, const std::string& option, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
    return;
  }
  std::ofstream file(path);
  file << text;
  if (!file) throw InputError(path, option, "cannot write file");
}

void create_output_directory(const std::string& path, const std::string& option) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) throw InputError(path, option, "cannot create directory: " + error.message());
}

}  // namespace dcp::cli
