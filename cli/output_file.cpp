#include "cli/output_file.hpp"

#include <fstream>
#include <iostream>

#include "common/input_error.hpp"

namespace dcp::cli {

void write_output(const std::string& path, const std::string& option, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
    return;
  }
  std::ofstream file(path);
  file << text;
  if (!file) throw InputError(path, option, "cannot write file");
}

}  // namespace dcp::cli
