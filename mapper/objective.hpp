#pragma once
// What a search minimises for one layer: latency (cycles), energy (pJ), EDP, or a weighted mix
// of them, each normalised by a reference run (the best fixed dataflow) so that the weights
// compare like with like.
#include <string>

namespace dcp {

struct Objective {
  std::string text;    // as the user wrote it, for messages and file headers
  double latency = 0;  // weight of cycles / reference cycles
  double energy = 0;   // weight of energy / reference energy
  double edp = 0;      // weight of EDP / reference EDP
};

// "latency", "energy", "edp", or a sum of WEIGHT*TERM, e.g. "0.7*latency+0.3*energy" (weights
// >= 0, not all 0). Throws InputError naming `field` (e.g. "--objective") otherwise.
Objective parse_objective(const std::string& text, const std::string& field);

// The scalar the search minimises; the references must be positive (a fixed dataflow's run).
double objective_value(const Objective& objective, double cycles, double energy_pj,
                       double reference_cycles, double reference_energy_pj);

}  // namespace dcp
