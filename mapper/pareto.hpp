#pragma once
// Latency-energy fronts: the non-dominated filter, the weightings DCP maps a front with, and a
// network's front from its layers' choices. Every point is a simulated (cycles, energy) pair or a
// count-weighted sum of them; nothing here predicts.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mapper/objective.hpp"

namespace dcp {

struct CostPoint {
  double cycles = 0;
  double energy_pj = 0;
};

// `a` dominates `b`: no worse in cycles and energy, and better in one of them.
bool dominates(const CostPoint& a, const CostPoint& b);

// Indices of the points no other point dominates, by cycles ascending. Of equal points only the
// first is kept, so every dropped point is dominated by, or equal to, a kept one.
std::vector<size_t> non_dominated(const std::vector<CostPoint>& points);

// `count` (>= 2) latency weights w evenly from 0 (energy alone) to 1 (latency alone).
std::vector<double> front_latency_weights(int count);

// w*latency+(1-w)*energy, each term normalised by the reference as every Objective is.
Objective latency_energy_objective(double latency_weight);

// One point of a network's front: the layers' choices under the weightings listed.
struct NetworkFrontPoint {
  CostPoint cost;
  std::vector<size_t> weightings;  // indices of the latency weights that lead to this point
};

// For each weighting, the network's cost is the sum over its layers, each `counts[layer]` times,
// of the cost the layer chose under that weighting (`chosen[layer][weighting]`). Weightings that
// reach the same cost share a point; the non-dominated points are kept, by cycles ascending.
std::vector<NetworkFrontPoint> network_front(const std::vector<int64_t>& counts,
                                             const std::vector<std::vector<CostPoint>>& chosen);

}  // namespace dcp
