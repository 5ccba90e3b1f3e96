#pragma once
// What makes two layers the same, in one place: the fields a stored layer has (the trace store's
// columns), the identity for train/test splits (layer_key) and the loop nest one dataflow serves
// (loop_nest_key: commands map each distinct nest once, importers merge equal ones into `count`).
#include <array>
#include <string>

#include "workloads/layer.hpp"

namespace dcp {

constexpr std::array<int64_t Layer::*, kNumDims> kLayerDims = {
    &Layer::K, &Layer::C, &Layer::Y, &Layer::X, &Layer::R, &Layer::S, &Layer::N};

// Calls visit(column name, field value&) for every field but repeat and count: a stored layer is
// one instance. `LayerValue` is Layer or const Layer.
template <typename LayerValue, typename Visitor>
void visit_layer_fields(LayerValue& layer, Visitor&& visit) {
  visit("name", layer.name);
  visit("type", layer.type);
  static const std::array<std::string, kNumDims> kDimColumns = [] {
    std::array<std::string, kNumDims> columns;
    for (const Dim dim : kAllDims) columns[dim_index(dim)] = std::string(1, dim_letter(dim));
    return columns;
  }();
  for (const Dim dim : kAllDims)
    visit(kDimColumns[dim_index(dim)], layer.*kLayerDims[dim_index(dim)]);
  visit("stride", layer.stride);
  visit("pad", layer.pad);
  visit("groups", layer.groups);
  visit("in_h", layer.in_h);
  visit("in_w", layer.in_w);
}

// The layer's identity for train/test splits and deduplication: type, dims (the batch N too),
// stride, pad and groups; neither the name nor repeat/count. E.g. "convK64C64Y56X56R1S1N1s1p0g1".
// Stored in trace stores and hashed for the held-out split, so its form stays.
std::string layer_key(const Layer& layer);

// Everything but the name and count: layers with equal keys have the same loop nest and shapes,
// so one dataflow serves both and one can stand for both with a larger `count`.
std::string loop_nest_key(const Layer& layer);
inline bool same_loop_nest(const Layer& a, const Layer& b) {
  return loop_nest_key(a) == loop_nest_key(b);
}

}  // namespace dcp
