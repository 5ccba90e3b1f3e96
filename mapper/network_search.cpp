#include "mapper/network_search.hpp"

#include <chrono>

namespace dcp {
namespace {

// A shape scored on every layer of the network.
class ShapeScorer : public CachedScorer {
 public:
  ShapeScorer(const NetworkProblem& problem, const ArchSpec& arch, const Objective& objective,
              const SearchOptions& options)
      : problem_(problem), arch_(arch), objective_(objective), options_(options) {}

  NetworkSearchResult result(const std::string& name,
                             std::chrono::steady_clock::time_point start) const {
    NetworkSearchResult result;
    result.best = best_run_;
    name_shape(result.best, name);
    result.shapes = calls();
    result.simulator_calls = simulator_calls();
    result.best_by_shape = best_by_call();
    result.wall_seconds = seconds_since(start);
    return result;
  }

 private:
  int64_t simulator_calls() const { return calls() * static_cast<int64_t>(problem_.layers.size()); }
  double simulate(const Dataflow& shape) override {
    if (options_.on_simulate) options_.on_simulate(shape);
    last_run_ = simulate_shape(problem_, arch_, objective_, shape);
    return last_run_.objective;
  }
  void simulated(bool is_best) override {
    if (is_best) best_run_ = std::move(last_run_);
    if (options_.on_progress) options_.on_progress(simulator_calls());
  }

  const NetworkProblem& problem_;
  const ArchSpec& arch_;
  const Objective& objective_;
  const SearchOptions& options_;
  ShapeRun last_run_;
  ShapeRun best_run_;
};

}  // namespace

NetworkSearchResult search_network_ga(const NetworkProblem& problem, const ArchSpec& arch,
                                      const Objective& objective, const SearchOptions& options,
                                      const GaOptions& ga) {
  const auto start = std::chrono::steady_clock::now();
  ShapeScorer scorer(problem, arch, objective, options);
  std::vector<double> best_by_generation =
      run_ga(problem.envelope, arch, scorer, options.budget, options.seed, ga);
  NetworkSearchResult result = scorer.result("ga", start);
  result.best_by_generation = std::move(best_by_generation);
  return result;
}

NetworkSearchResult search_network_random(const NetworkProblem& problem, const ArchSpec& arch,
                                          const Objective& objective,
                                          const SearchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ShapeScorer scorer(problem, arch, objective, options);
  run_random(problem.envelope, arch, scorer, options.budget, options.seed);
  return scorer.result("random", start);
}

}  // namespace dcp
