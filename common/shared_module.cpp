#include "common/shared_module.hpp"

#include <dlfcn.h>

#include "common/input_error.hpp"

namespace dcp {

void* open_module_entry(const std::string& library_path, const char* entry_symbol, bool global) {
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
  if (handle == nullptr)
    throw InputError(library_path, "", std::string("cannot load the library: ") + dlerror());
  void* entry = dlsym(handle, entry_symbol);
  if (entry == nullptr) throw InputError(library_path, entry_symbol, "symbol not found");
  return entry;
}

}  // namespace dcp
