#pragma once
// How commands load a predictor for an arch and report its accuracy.
#include <nlohmann/json.hpp>
#include <string>

#include "arch/arch_spec.hpp"
#include "mapper/predictor.hpp"
#include "mapper/training.hpp"

namespace dcp::cli {

// One warning line on stderr per hardware parameter of `arch` outside the predictor's trained
// range; `arch_label` names the arch in them.
void warn_if_untrained(const Predictor& predictor, const std::string& predictor_path,
                       const ArchSpec& arch, const std::string& arch_label);

// Loads a predictor to use on `arch`, warning on stderr about every hardware parameter of the
// arch outside the range the predictor was trained on.
Predictor load_predictor_for_arch(const std::string& predictor_path, const ArchSpec& arch,
                                  const std::string& arch_path);

// rows, layers, and Spearman rho and median errors of cycles and energy.
nlohmann::json metrics_json(const PredictorMetrics& metrics);

}  // namespace dcp::cli
