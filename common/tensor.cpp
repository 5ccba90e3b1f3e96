#include "common/tensor.hpp"

namespace dcp {

const char* tensor_name(Tensor tensor) {
  constexpr std::array<const char*, kNumTensors> kNames = {"input", "weight", "output"};
  return kNames[static_cast<int>(tensor)];
}

bool parse_tensor(const std::string& text, Tensor& tensor) {
  for (Tensor candidate : kAllTensors) {
    if (text == tensor_name(candidate)) {
      tensor = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace dcp
