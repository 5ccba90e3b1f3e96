#pragma once
// What every fuzz target shares. The rule under test: bad input gives one InputError line and
// nothing else. So a target catches only dcp::InputError (and checks that it is one line); any
// other exception escapes, and libFuzzer reports it as a crash like a sanitizer error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/input_error.hpp"

namespace dcp::fuzz {

// The loaders read files, libFuzzer hands over bytes: this writes them to an in-memory file
// (memfd; `slot` picks one of a few, for targets that need two files at once) and returns a path
// that opens it.
std::string write_input_file(const uint8_t* data, std::size_t size, int slot = 0);
std::string write_input_file(const std::string& bytes, int slot = 0);

// Aborts unless the message is a single, non-empty line.
void require_one_line(const InputError& error);

// Runs `action`; an InputError is an accepted answer to bad input, returned as false.
template <typename Action>
bool accepts(Action&& action) {
  try {
    action();
    return true;
  } catch (const InputError& error) {
    require_one_line(error);
    return false;
  }
}

// A file of the repo (presets, models), for targets that need a valid arch or layer.
std::string source_path(const std::string& relative);

}  // namespace dcp::fuzz
