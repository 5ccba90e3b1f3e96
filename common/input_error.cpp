#include "common/input_error.hpp"

#include <algorithm>

namespace dcp {
namespace {

// Parts often embed messages from libraries (yaml-cpp spans lines); the CLI prints one line.
std::string single_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string compose(const std::string& source, const std::string& field, const std::string& problem,
                    const std::string& allowed) {
  std::string message;
  for (const std::string* part : {&source, &field, &problem}) {
    if (part->empty()) continue;
    if (!message.empty()) message += ": ";
    message += *part;
  }
  if (!allowed.empty()) message += " (allowed: " + allowed + ")";
  return single_line(message);
}

}  // namespace

InputError::InputError(const std::string& source, const std::string& field,
                       const std::string& problem, const std::string& allowed)
    : std::runtime_error(compose(source, field, problem, allowed)) {}

}  // namespace dcp
