#include "mapper/network_totals.hpp"

#include <cmath>

namespace dcp {

void NetworkCost::add(int64_t count, const Result& result) {
  const double times = static_cast<double>(count);
  cycles += static_cast<double>(result.cycles) * times;
  energy_pj += result.total_energy_pj * times;
  pe_busy_cycles += result.pe_utilization * static_cast<double>(result.cycles) * times;
}

void NetworkTotals::add_layer(int64_t count, const Result& picked_result,
                              const Result& best_fixed_result, double gain) {
  picked.add(count, picked_result);
  best_fixed.add(count, best_fixed_result);
  log_gain_sum += std::log(gain);
  ++layers;
}

double NetworkTotals::geomean_gain() const {
  return layers == 0 ? 1 : std::exp(log_gain_sum / static_cast<double>(layers));
}

nlohmann::json NetworkTotals::to_json() const {
  return {{"cycles", picked.cycles},
          {"energy_pj", picked.energy_pj},
          {"edp", picked.edp()},
          {"best_fixed_edp", best_fixed.edp()},
          {"geomean_gain", geomean_gain()},
          {"simulator_calls", calls}};
}

}  // namespace dcp
