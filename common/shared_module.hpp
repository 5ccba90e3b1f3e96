#pragma once
// Shared libraries that only some commands need (libtorch, MPI, ONNX and protobuf) are built as
// modules next to dcp and opened on first use, so that a process which never needs them does not
// pay for loading and relocating them at start-up.
#include <string>

namespace dcp {

// Opens the module at `library_path` (never closed: what it made may live until exit) and returns
// the address of `entry_symbol`. `global` makes its symbols visible to libraries it opens in turn.
// Throws InputError naming the library when it cannot be opened or lacks the symbol.
void* open_module_entry(const std::string& library_path, const char* entry_symbol,
                        bool global = false);

// The module's entry point as the function it is: `Result entry()`.
template <class Result>
Result call_module_entry(const std::string& library_path, const char* entry_symbol,
                         bool global = false) {
  return reinterpret_cast<Result (*)()>(open_module_entry(library_path, entry_symbol, global))();
}

}  // namespace dcp
