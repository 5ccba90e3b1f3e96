#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/input_error.hpp"
#include "common/shared_module.hpp"
#include "mapper/learned_model.hpp"

namespace dcp {

void prepare_openmp_environment() {
  // GOMP_SPINCOUNT, when set, decides the spinning whatever the policy says.
  if (std::getenv("GOMP_SPINCOUNT") == nullptr) setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
}

const char* openblas_core_for(bool avx512, bool avx2_fma) {
  if (avx512) return "SkylakeX";
  if (avx2_fma) return "Haswell";
  return nullptr;
}

void prepare_openblas_environment() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (const char* core = openblas_core_for(avx512, avx2_fma)) setenv("OPENBLAS_CORETYPE", core, 0);
#endif
}

int resolve_threads(int requested, const char* omp_num_threads, int fallback) {
  if (requested > 0) return requested;
  if (omp_num_threads != nullptr && *omp_num_threads != '\0') {
    char* end = nullptr;
    errno = 0;
    const long threads = std::strtol(omp_num_threads, &end, 10);
    if ((*end == '\0' || *end == ',') && errno == 0 && threads > 0 && threads <= 1 << 16)
      return static_cast<int>(threads);
  }
  return fallback;
}

void set_learned_model_threads(int requested, int fallback) {
  const int threads = resolve_threads(requested, std::getenv("OMP_NUM_THREADS"), fallback);
  // OpenBLAS starts one thread per core unless told, and its blocking, hence its float sums,
  // follow them: without this, one seed mapped ResNet-50 differently on one and two cores.
  setenv("OPENBLAS_NUM_THREADS", std::to_string(threads).c_str(), 0);
  learned_model_library().set_threads(threads);
}

const LearnedModelLibrary& learned_model_library() {
#ifdef DCP_LEARNED_LIBRARY
  // Opened once and never closed: models it made may live until exit.
  static const LearnedModelLibrary* library = [] {
    // Before libtorch brings in libgomp, which reads the environment only then; the dcp binary
    // does not link it itself.
    prepare_openmp_environment();
    prepare_openblas_environment();
    return call_module_entry<const LearnedModelLibrary*>(DCP_LEARNED_LIBRARY,
                                                         "dcp_learned_model_library");
  }();
  return *library;
#else
  throw InputError("", "",
                   "this build has no predictor support (configured with -DDCP_WITH_TORCH=OFF)");
#endif
}

}  // namespace dcp
