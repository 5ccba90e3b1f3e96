#include <dlfcn.h>

#include "common/input_error.hpp"
#include "mapper/learned_model.hpp"

namespace dcp {

const LearnedModelLibrary& learned_model_library() {
#ifdef DCP_LEARNED_LIBRARY
  // Opened once and never closed: models it made may live until exit.
  static const LearnedModelLibrary* library = [] {
    void* handle = dlopen(DCP_LEARNED_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
      throw InputError(DCP_LEARNED_LIBRARY, "",
                       std::string("cannot load the predictor library: ") + dlerror());
    const auto entry = reinterpret_cast<const LearnedModelLibrary* (*)()>(
        dlsym(handle, "dcp_learned_model_library"));
    if (entry == nullptr)
      throw InputError(DCP_LEARNED_LIBRARY, "dcp_learned_model_library", "symbol not found");
    return entry();
  }();
  return *library;
#else
  throw InputError("", "",
                   "this build has no predictor support (configured with -DDCP_WITH_TORCH=OFF)");
#endif
}

}  // namespace dcp
