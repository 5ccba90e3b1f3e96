#pragma once
// Libraries report errors about their own inputs (file, field, allowed range) and know no flag
// names; the CLI knows which flag gave each input and says so in front of the library's message.
#include <CLI/CLI.hpp>
#include <sstream>
#include <string>

#include "common/input_error.hpp"

namespace dcp::cli {

// Runs `work`; an InputError it throws gets `flag` in front ("--shard: shard: '0/2' is not ...").
template <typename Work>
auto with_flag(const std::string& flag, Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const InputError& error) {
    throw InputError(flag, "", error.what());
  }
}

// A flag's value must read as a T in min..max: "'abc' is not a number in 1..100000" (CLI11's
// Range calls a word "not in range", its Number a whole number "a FLOAT").
template <typename T>
CLI::Validator in_range(T min, T max) {
  std::ostringstream allowed;
  allowed << min << ".." << max;
  return CLI::Validator(
      [min, max, allowed = allowed.str()](std::string& text) -> std::string {
        T value{};
        if (CLI::detail::lexical_cast(text, value) && value >= min && value <= max) return "";
        return "'" + text + "' is not a number in " + allowed;
      },
      "in " + allowed.str());
}

}  // namespace dcp::cli
