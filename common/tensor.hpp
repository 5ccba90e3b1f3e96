#pragma once
// The three tensors of a layer. Here rather than in workloads/ because the hardware description
// allocates buffers per tensor too (arch/ may include only common/).
#include <array>
#include <string>

namespace dcp {

enum class Tensor { Input = 0, Weight = 1, Output = 2 };
constexpr int kNumTensors = 3;
constexpr std::array<Tensor, kNumTensors> kAllTensors = {Tensor::Input, Tensor::Weight,
                                                         Tensor::Output};
const char* tensor_name(Tensor tensor);  // "input", "weight", "output"
// Parses "input", "weight" or "output"; returns false on anything else.
bool parse_tensor(const std::string& text, Tensor& tensor);

// A yes/no per tensor, indexed by Tensor.
using TensorFlags = std::array<bool, kNumTensors>;
inline bool flag_of(const TensorFlags& flags, Tensor tensor) {
  return flags[static_cast<int>(tensor)];
}

}  // namespace dcp
