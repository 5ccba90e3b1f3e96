#pragma once
// The search baselines DCP is measured against, all scored on the simulator with the same
// objective and normaliser: GAMMA's genetic algorithm, random search, and exhaustive search over
// a discretised space for small layers. Every candidate is a legal Dataflow.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "mapper/objective.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace dcp {

struct FixedRun {
  Dataflow dataflow;
  Result result;
  double objective = 0;
};

// Every fixed dataflow simulated once on a layer. The objective's normaliser is the least cycles
// and the least energy any of them reaches, so it does not depend on which search runs, and `dcp
// map` reports against the same "best fixed".
struct FixedBaseline {
  std::vector<FixedRun> runs;  // in fixed_dataflow_names() order
  std::size_t best = 0;        // the run with the lowest objective
  double reference_cycles = 0;
  double reference_energy_pj = 0;
  const FixedRun& best_run() const { return runs[best]; }
};
FixedBaseline fixed_baseline(const Layer& layer, const ArchSpec& arch, const Objective& objective);
// Scores every run by `objective` against the baseline's references and picks the best (what
// fixed_baseline does once it has simulated them): the same runs scored for another objective.
void score_fixed_baseline(FixedBaseline& baseline, const Objective& objective);

struct SearchResult {
  Dataflow best;
  Result best_result;
  double best_objective = 0;
  int64_t simulator_calls = 0;  // distinct dataflows simulated
  double wall_seconds = 0;
  std::vector<double> best_by_call;        // best objective so far after each simulator call
  std::vector<double> best_by_generation;  // GA only: best objective so far after each generation
};

// Everything that tells two dataflows apart (the name does not), as a cache key.
std::vector<int64_t> dataflow_key(const Dataflow& dataflow);

// Options every search shares.
struct SearchOptions {
  int64_t budget = 2000;  // simulator calls at most
  uint64_t seed = 1;
  std::function<void(const Dataflow&)> on_simulate;  // sees each dataflow before it is simulated
  std::function<void(int64_t calls)> on_progress;    // after each simulator call
  std::function<void(const Dataflow&, const Result&)> on_result;  // each simulated dataflow
};

// Scores a search's candidates and remembers them: a dataflow seen before is not simulated again
// and counts as one call. Records the best so far after every call. Subclasses say what one
// candidate's simulation is: the dataflow on one layer, or a shape fitted to every layer of a
// network (network_search.hpp); GA and random search see only this.
class CachedScorer {
 public:
  virtual ~CachedScorer() = default;
  // The objective of a legal dataflow (throws InputError for an illegal one).
  double score(const Dataflow& dataflow);
  int64_t calls() const { return static_cast<int64_t>(best_by_call_.size()); }
  // Infinity before the first call.
  double best_objective() const;
  const Dataflow& best() const { return best_; }
  const std::vector<double>& best_by_call() const { return best_by_call_; }

 protected:
  // Simulates a dataflow not scored before and returns its objective.
  virtual double simulate(const Dataflow& dataflow) = 0;
  // Called after each simulate() once the best so far is updated: `is_best` says whether that
  // dataflow is now the best, whose run a subclass keeps.
  virtual void simulated(bool is_best) = 0;

 private:
  std::map<std::vector<int64_t>, double> scores_;
  Dataflow best_;
  std::vector<double> best_by_call_;
};

// GAMMA (Kao & Krishna, ICCAD 2020) on our three-level dataflow, with GAMMA's default rates.
// Each generation keeps the elite, breeds children from the best `parent_ratio` by swapping one
// dim's tile and fan-out per level between two parents, mutates genes (a level's spatial map:
// one dim taking all the units it can as in GAMMA, or one dim added to or dropped from the map;
// or one tile, redrawn uniformly inside its parent) and swaps two loops of a level;
// repair_dataflow then makes every child legal. GAMMA's growth and aging (adding or
// dropping a cluster level) have no counterpart: the arch fixes three levels, and a level with
// fan-out 1 is the dropped one. Runs until the budget is spent (cached repeats are free), or 4x
// the generations the budget plans for, whichever comes first.
struct GaOptions {
  // Shrinks to budget / kMinGenerations for small budgets, so that they still see generations.
  int64_t population = 100;
  double elite_ratio = 0.05;
  double parent_ratio = 0.15;
  double crossover_rate = 0.57;
  int mutation_sites = 3;
  double mutation_rate = 0.52;
  double reorder_rate = 0.47;
};
constexpr int64_t kMinGenerations = 4;

SearchResult search_ga(const Layer& layer, const ArchSpec& arch, const Objective& objective,
                       const FixedBaseline& baseline, const SearchOptions& options,
                       const GaOptions& ga = {});
// The GA on any scorer, its individuals drawn, bred and repaired on `space` (the layer searched,
// or a network's envelope), until `budget` calls. Returns the best objective after each
// generation.
std::vector<double> run_ga(const Layer& space, const ArchSpec& arch, CachedScorer& scorer,
                           int64_t budget, uint64_t seed, const GaOptions& ga = {});

// A search's wall time so far.
double seconds_since(std::chrono::steady_clock::time_point start);

// Half random_legal_dataflow draws, half decoded random codes, up to the budget.
SearchResult search_random(const Layer& layer, const ArchSpec& arch, const Objective& objective,
                           const FixedBaseline& baseline, const SearchOptions& options);
// Random search on any scorer, drawing on `space`, until `budget` calls.
void run_random(const Layer& space, const ArchSpec& arch, CachedScorer& scorer, int64_t budget,
                uint64_t seed);

// The discretised space exhaustive search walks, per level outermost first:
//  - tiles: per dim the powers of two below the parent tile, and the parent tile itself;
//  - fan-outs, dim by dim: 1, or the powers of two >= 2 below the most usable (the sub-tiles along
//    the dim and the units the earlier dims left), and that most; so any set of dims is unrolled;
//  - order: every permutation of the dims with more than one trip at that level; dims with one
//    trip follow in K..N order, since the schedule steps through a one-trip loop without effect.
// Only tiles that fit their buffer are kept, so every candidate is legal and distinct.
constexpr int64_t kDefaultMaxCandidates = 20000;
// Candidates of the space. Counting stops once past `limit`, so a count above it is a lower bound:
// a large layer's space is far too big to count.
int64_t count_exhaustive_candidates(const Layer& layer, const ArchSpec& arch, int64_t limit);
// Calls `visit` with every candidate in a fixed order.
void for_each_exhaustive_candidate(const Layer& layer, const ArchSpec& arch,
                                   const std::function<void(const Dataflow&)>& visit);
// Simulates every candidate; `options.budget` is ignored. Throws InputError naming
// "--method exhaustive" when the space holds more than `max_candidates`.
SearchResult search_exhaustive(const Layer& layer, const ArchSpec& arch, const Objective& objective,
                               const FixedBaseline& baseline, const SearchOptions& options,
                               int64_t max_candidates = kDefaultMaxCandidates);

}  // namespace dcp
