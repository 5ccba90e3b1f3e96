#include "cli/predictor_output.hpp"

#include <iostream>

namespace dcp::cli {
namespace {

nlohmann::json target_json(const TargetMetrics& metrics) {
  return {{"spearman_rho", metrics.spearman_rho},
          {"median_abs_pct_error", metrics.median_abs_pct_error},
          {"mean_baseline_median_abs_pct_error", metrics.mean_baseline_median_abs_pct_error}};
}

}  // namespace

nlohmann::json metrics_json(const PredictorMetrics& metrics) {
  return {{"rows", metrics.rows},
          {"layers", metrics.layers},
          {"cycles", target_json(metrics.cycles)},
          {"energy", target_json(metrics.energy)}};
}

void warn_if_untrained(const Predictor& predictor, const std::string& predictor_path,
                       const ArchSpec& arch, const std::string& arch_label) {
  for (const std::string& warning : predictor.out_of_range_warnings(arch))
    std::cerr << "dcp: warning: " << predictor_path << " was not trained for " << arch_label << ": "
              << warning << "\n";
}

Predictor load_predictor_for_arch(const std::string& predictor_path, const ArchSpec& arch,
                                  const std::string& arch_path) {
  Predictor predictor = Predictor::load(predictor_path);
  warn_if_untrained(predictor, predictor_path, arch, arch_path);
  return predictor;
}

}  // namespace dcp::cli
