#include "sim/result_json.hpp"

namespace dcp {

nlohmann::json result_to_json(const Result& result) {
  nlohmann::json energy = nlohmann::json::object();
  nlohmann::json accesses = nlohmann::json::object();
  for (int level = 0; level < kNumCostLevels; ++level) {
    const char* level_name = cost_level_name(static_cast<CostLevel>(level));
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      const char* name = tensor_name(static_cast<Tensor>(tensor));
      energy[level_name][name] = result.energy_pj[level][tensor];
      accesses[level_name][name] = {{"reads", result.counts.reads[level][tensor]},
                                    {"writes", result.counts.writes[level][tensor]}};
    }
  }
  nlohmann::json link_words = nlohmann::json::object();
  for (int tensor = 0; tensor < kNumTensors; ++tensor)
    link_words[tensor_name(static_cast<Tensor>(tensor))] = result.counts.noc_link_words[tensor];
  accesses["NoC link words"] = link_words;
  energy["MAC"] = result.mac_energy_pj;
  energy["leakage"] = result.leakage_energy_pj;
  nlohmann::json stalls = nlohmann::json::object();
  for (int cause = 0; cause < kNumStallCauses; ++cause)
    stalls[stall_cause_name(static_cast<StallCause>(cause))] = result.stall_cycles[cause];
  return {{"cycles", result.cycles},
          {"macs", result.macs},
          {"energy_pj", result.total_energy_pj},
          {"edp", result.edp()},
          {"energy_breakdown_pj", energy},
          {"accesses_words", accesses},
          {"stall_cycles", stalls},
          {"busy_cycles",
           {{"compute", result.busy.compute},
            {"L2", result.busy.l2},
            {"NoC", result.busy.noc},
            {"DRAM", result.busy.dram}}},
          {"bound", bound_name(result.bound)},
          {"pe_utilization", result.pe_utilization},
          {"dram_bytes", result.dram_bytes},
          {"simulated_steps", result.simulated_steps},
          {"total_steps", result.total_steps}};
}

}  // namespace dcp
