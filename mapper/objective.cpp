#include "mapper/objective.hpp"

#include <boost/algorithm/string.hpp>
#include <vector>

#include "common/input_error.hpp"

namespace dcp {
namespace {

const char* const kAllowed =
    "latency, energy, edp, or a weighted sum such as 0.7*latency+0.3*energy";

double parse_weight(const std::string& text, const std::string& whole, const std::string& field) {
  size_t used = 0;
  double weight = -1;
  try {
    weight = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(weight >= 0) || weight > 1e6)
    throw InputError(field, "", "'" + whole + "': weight '" + text + "' is not a number in 0..1e6",
                     kAllowed);
  return weight;
}

}  // namespace

Objective parse_objective(const std::string& text, const std::string& field) {
  Objective objective;
  objective.text = text;
  std::string compact = boost::algorithm::erase_all_copy(text, " ");
  boost::algorithm::to_lower(compact);
  std::vector<std::string> terms;
  boost::algorithm::split(terms, compact, boost::is_any_of("+"));
  for (const std::string& term : terms) {
    const size_t star = term.find('*');
    const std::string name = star == std::string::npos ? term : term.substr(star + 1);
    const double weight =
        star == std::string::npos ? 1.0 : parse_weight(term.substr(0, star), text, field);
    if (name == "latency") {
      objective.latency += weight;
    } else if (name == "energy") {
      objective.energy += weight;
    } else if (name == "edp") {
      objective.edp += weight;
    } else {
      throw InputError(field, "", "'" + text + "': unknown term '" + name + "'", kAllowed);
    }
  }
  if (objective.latency + objective.energy + objective.edp <= 0)
    throw InputError(field, "", "'" + text + "': every weight is 0", kAllowed);
  return objective;
}

double objective_value(const Objective& objective, double cycles, double energy_pj,
                       double reference_cycles, double reference_energy_pj) {
  const double latency = cycles / reference_cycles;
  const double energy = energy_pj / reference_energy_pj;
  return objective.latency * latency + objective.energy * energy + objective.edp * latency * energy;
}

}  // namespace dcp
