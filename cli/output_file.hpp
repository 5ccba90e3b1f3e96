#pragma once
#include <string>

namespace dcp::cli {

// Writes `text` to `path`, or to stdout when `path` is empty. A file that cannot be written is
// an InputError naming it and `option`.
void write_output(const std::string& path, const std::string& option, const std::string& text);

}  // namespace dcp::cli
