#include "mapper/pareto.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

namespace dcp {

bool dominates(const CostPoint& a, const CostPoint& b) {
  return a.cycles <= b.cycles && a.energy_pj <= b.energy_pj &&
         (a.cycles < b.cycles || a.energy_pj < b.energy_pj);
}

std::vector<size_t> non_dominated(const std::vector<CostPoint>& points) {
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // By cycles, then energy, then input order: a point is kept when it uses less energy than
  // every point before it, each of which has no more cycles.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (points[a].cycles != points[b].cycles) return points[a].cycles < points[b].cycles;
    return points[a].energy_pj < points[b].energy_pj;
  });
  std::vector<size_t> kept;
  for (const size_t index : order)
    if (kept.empty() || points[index].energy_pj < points[kept.back()].energy_pj)
      kept.push_back(index);
  return kept;
}

std::vector<double> front_latency_weights(int count) {
  std::vector<double> weights;
  for (int i = 0; i < count; ++i)
    weights.push_back(count < 2 ? 1.0 : static_cast<double>(i) / (count - 1));
  return weights;
}

Objective latency_energy_objective(double latency_weight) {
  Objective objective;
  objective.latency = latency_weight;
  objective.energy = 1 - latency_weight;
  std::ostringstream text;
  text << latency_weight << "*latency+" << 1 - latency_weight << "*energy";
  objective.text = text.str();
  return objective;
}

std::vector<NetworkFrontPoint> network_front(const std::vector<int64_t>& counts,
                                             const std::vector<std::vector<CostPoint>>& chosen) {
  const size_t weightings = chosen.empty() ? 0 : chosen.front().size();
  std::vector<NetworkFrontPoint> candidates;
  for (size_t weighting = 0; weighting < weightings; ++weighting) {
    CostPoint sum;
    for (size_t layer = 0; layer < chosen.size(); ++layer) {
      const double times = static_cast<double>(counts[layer]);
      sum.cycles += chosen[layer][weighting].cycles * times;
      sum.energy_pj += chosen[layer][weighting].energy_pj * times;
    }
    const auto same = std::find_if(candidates.begin(), candidates.end(), [&](const auto& point) {
      return point.cost.cycles == sum.cycles && point.cost.energy_pj == sum.energy_pj;
    });
    if (same != candidates.end()) {
      same->weightings.push_back(weighting);
    } else {
      candidates.push_back({sum, {weighting}});
    }
  }
  std::vector<CostPoint> costs;
  for (const NetworkFrontPoint& candidate : candidates) costs.push_back(candidate.cost);
  std::vector<NetworkFrontPoint> front;
  for (const size_t index : non_dominated(costs)) front.push_back(candidates[index]);
  return front;
}

}  // namespace dcp
