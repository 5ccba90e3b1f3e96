#include "workloads/layer_identity.hpp"

#include <type_traits>

namespace dcp {

std::string layer_key(const Layer& layer) {
  std::string key = layer_type_name(layer.type);
  for (const Dim dim : kAllDims)
    key += std::string(1, dim_letter(dim)) + std::to_string(layer.dim(dim));
  return key + "s" + std::to_string(layer.stride) + "p" + std::to_string(layer.pad) + "g" +
         std::to_string(layer.groups);
}

std::string loop_nest_key(const Layer& layer) {
  std::string key;
  visit_layer_fields(layer, [&](const auto&, const auto& value) {
    using Value = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<Value, LayerType>)
      key += layer_type_name(value);
    else if constexpr (std::is_same_v<Value, int64_t>)
      key += " " + std::to_string(value);
    // The name is not part of the nest.
  });
  return key + " repeat " + std::to_string(layer.repeat);
}

}  // namespace dcp
