#pragma once
// The one list of Result's fields. Each carries its trace-store column and its place in the JSON
// of result_to_json, so the trace store and the JSON output cannot disagree on what a result
// holds (tests/test_sweep.cpp checks every field through both).
#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/evaluate.hpp"

namespace dcp {

struct ResultField {
  std::string column;                 // trace-store column
  nlohmann::json::json_pointer json;  // where result_to_json puts it
};

// Every field's name, built once: reading 200k trace rows must not build 70 names per row.
struct ResultFieldNames {
  using PerLevelTensor = std::array<std::array<ResultField, kNumTensors>, kNumCostLevels>;
  ResultField cycles, macs, total_energy, mac_energy, leakage_energy;
  PerLevelTensor energy, reads, writes;
  std::array<ResultField, kNumTensors> noc_link_words;
  std::array<ResultField, kNumStallCauses> stalls;
  ResultField busy_compute, busy_l2, busy_noc, busy_dram, bound, pe_utilization, dram_bytes,
      simulated_steps, total_steps;

  ResultFieldNames();
};
const ResultFieldNames& result_field_names();

// Calls visit(const ResultField&, field value&) for every field of `result`, in trace-store column
// order. `ResultValue` is Result or const Result.
template <typename ResultValue, typename Visitor>
void visit_result_fields(ResultValue& result, Visitor&& visit) {
  const ResultFieldNames& names = result_field_names();
  const auto per_level_tensor = [&visit](const ResultFieldNames::PerLevelTensor& fields,
                                         auto& values) {
    for (int level = 0; level < kNumCostLevels; ++level)
      for (int tensor = 0; tensor < kNumTensors; ++tensor)
        visit(fields[level][tensor], values[level][tensor]);
  };
  visit(names.cycles, result.cycles);
  visit(names.macs, result.macs);
  visit(names.total_energy, result.total_energy_pj);
  visit(names.mac_energy, result.mac_energy_pj);
  visit(names.leakage_energy, result.leakage_energy_pj);
  per_level_tensor(names.energy, result.energy_pj);
  per_level_tensor(names.reads, result.counts.reads);
  per_level_tensor(names.writes, result.counts.writes);
  for (int tensor = 0; tensor < kNumTensors; ++tensor)
    visit(names.noc_link_words[tensor], result.counts.noc_link_words[tensor]);
  for (int cause = 0; cause < kNumStallCauses; ++cause)
    visit(names.stalls[cause], result.stall_cycles[cause]);
  visit(names.busy_compute, result.busy.compute);
  visit(names.busy_l2, result.busy.l2);
  visit(names.busy_noc, result.busy.noc);
  visit(names.busy_dram, result.busy.dram);
  visit(names.bound, result.bound);
  visit(names.pe_utilization, result.pe_utilization);
  visit(names.dram_bytes, result.dram_bytes);
  visit(names.simulated_steps, result.simulated_steps);
  visit(names.total_steps, result.total_steps);
}

}  // namespace dcp
