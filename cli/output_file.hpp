#pragma once
// Output paths: checked when the command line is parsed, before any work, so that a long run
// never ends in a file it cannot write.
#include <CLI/CLI.hpp>
#include <string>

namespace dcp::cli {

// A file to write: not a directory, in an existing, writable directory, and writable if it exists.
const CLI::Validator& output_file();
// A directory to write into: a writable directory if it exists, else creatable (the nearest
// existing ancestor is a writable directory).
const CLI::Validator& output_directory();

// Writes `text` to `path`, or to stdout when `path` is empty. A file that cannot be written is
// an InputError naming it and `option`.
void write_output(const std::string& path, const std::string& option, const std::string& text);
// Creates `path` and its parents; failing is an InputError naming it and `option`.
void create_output_directory(const std::string& path, const std::string& option);

}  // namespace dcp::cli
