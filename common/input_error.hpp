#pragma once
// Every bad input (YAML, layer, dataflow, CLI value) surfaces as one InputError whose
// message is a single line naming the file, the field and the allowed range, so the CLI
// can print it and exit non-zero without a stack trace.
#include <stdexcept>
#include <string>

namespace dcp {

class InputError : public std::runtime_error {
 public:
  // Message: "<source>: <field>: <problem> (allowed: <allowed>)"; parts left empty are omitted.
  InputError(const std::string& source, const std::string& field, const std::string& problem,
             const std::string& allowed = "");
};

}  // namespace dcp
