#include "sim/result_fields.hpp"

#include <cctype>

namespace dcp {
namespace {

std::string lower_case(std::string text) {
  for (char& letter : text) letter = static_cast<char>(std::tolower(letter));
  return text;
}

ResultField field(const std::string& column, const std::string& json_pointer) {
  return {column, nlohmann::json::json_pointer(json_pointer)};
}

}  // namespace

ResultFieldNames::ResultFieldNames()
    : cycles(field("cycles", "/cycles")),
      macs(field("macs", "/macs")),
      total_energy(field("total_energy_pj", "/energy_pj")),
      mac_energy(field("mac_energy_pj", "/energy_breakdown_pj/MAC")),
      leakage_energy(field("leakage_energy_pj", "/energy_breakdown_pj/leakage")),
      busy_compute(field("busy_compute", "/busy_cycles/compute")),
      busy_l2(field("busy_l2", "/busy_cycles/L2")),
      busy_noc(field("busy_noc", "/busy_cycles/NoC")),
      busy_dram(field("busy_dram", "/busy_cycles/DRAM")),
      bound(field("bound", "/bound")),
      pe_utilization(field("pe_utilization", "/pe_utilization")),
      dram_bytes(field("dram_bytes", "/dram_bytes")),
      simulated_steps(field("simulated_steps", "/simulated_steps")),
      total_steps(field("total_steps", "/total_steps")) {
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      const std::string level_name = cost_level_name(static_cast<CostLevel>(level));
      const std::string tensor_text = tensor_name(static_cast<Tensor>(tensor));
      const std::string suffix = lower_case(level_name) + "_" + tensor_text;
      const std::string accesses = "/accesses_words/" + level_name + "/" + tensor_text;
      energy[level][tensor] =
          field("energy_pj_" + suffix, "/energy_breakdown_pj/" + level_name + "/" + tensor_text);
      reads[level][tensor] = field("reads_" + suffix, accesses + "/reads");
      writes[level][tensor] = field("writes_" + suffix, accesses + "/writes");
    }
  for (int tensor = 0; tensor < kNumTensors; ++tensor) {
    const std::string tensor_text = tensor_name(static_cast<Tensor>(tensor));
    noc_link_words[tensor] =
        field("noc_link_words_" + tensor_text, "/accesses_words/NoC link words/" + tensor_text);
  }
  for (int cause = 0; cause < kNumStallCauses; ++cause) {
    const std::string cause_name = stall_cause_name(static_cast<StallCause>(cause));
    stalls[cause] = field("stall_" + cause_name, "/stall_cycles/" + cause_name);
  }
}

const ResultFieldNames& result_field_names() {
  static const ResultFieldNames kNames;
  return kNames;
}

}  // namespace dcp
