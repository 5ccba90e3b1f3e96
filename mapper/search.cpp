#include "mapper/search.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>

#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "dataflow/repair.hpp"
#include "mapper/dataflow_code.hpp"
#include "mapper/sampler.hpp"

namespace dcp {
namespace {

// Seed streams, so that the searches draw unrelated numbers from one --seed.
constexpr uint64_t kGaStream = 0x6761;
constexpr uint64_t kRandomStream = 0x726e64;

// A dataflow on one layer, scored by the objective over the layer's fixed baseline.
class LayerScorer : public CachedScorer {
 public:
  LayerScorer(const Layer& layer, const ArchSpec& arch, const Objective& objective,
              const FixedBaseline& baseline, const SearchOptions& options)
      : layer_(layer), arch_(arch), objective_(objective), baseline_(baseline), options_(options) {}

  // The best dataflow so far, its result and the curve, named `name`; wall time since `start`.
  SearchResult result(const std::string& name, std::chrono::steady_clock::time_point start) const {
    SearchResult result;
    result.best = best();
    result.best.name = name;
    result.best_result = best_result_;
    result.best_objective = best_objective();
    result.simulator_calls = calls();
    result.best_by_call = best_by_call();
    result.wall_seconds = seconds_since(start);
    return result;
  }

 private:
  double simulate(const Dataflow& dataflow) override {
    if (options_.on_simulate) options_.on_simulate(dataflow);
    last_result_ = evaluate(layer_, arch_, dataflow, {}, "searched dataflow");
    if (options_.on_result) options_.on_result(dataflow, last_result_);
    return objective_value(objective_, static_cast<double>(last_result_.cycles),
                           last_result_.total_energy_pj, baseline_.reference_cycles,
                           baseline_.reference_energy_pj);
  }
  void simulated(bool is_best) override {
    if (is_best) best_result_ = last_result_;
    if (options_.on_progress) options_.on_progress(calls());
  }

  const Layer& layer_;
  const ArchSpec& arch_;
  const Objective& objective_;
  const FixedBaseline& baseline_;
  const SearchOptions& options_;
  Result last_result_;
  Result best_result_;
};

}  // namespace

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<int64_t> dataflow_key(const Dataflow& dataflow) {
  std::vector<int64_t> key;
  for (const LevelMapping& mapping : dataflow.levels) {
    key.insert(key.end(), mapping.fanout.begin(), mapping.fanout.end());
    for (Axis axis : mapping.axis) key.push_back(static_cast<int64_t>(axis));
    for (Dim dim : mapping.order) key.push_back(dim_index(dim));
    key.insert(key.end(), mapping.tile.begin(), mapping.tile.end());
  }
  return key;
}

FixedBaseline fixed_baseline(const Layer& layer, const ArchSpec& arch, const Objective& objective) {
  FixedBaseline baseline;
  baseline.reference_cycles = std::numeric_limits<double>::infinity();
  baseline.reference_energy_pj = std::numeric_limits<double>::infinity();
  for (const std::string& name : fixed_dataflow_names()) {
    FixedRun run;
    run.dataflow = make_fixed_dataflow(name, layer, arch);
    run.result = evaluate(layer, arch, run.dataflow, {}, "fixed dataflow " + name);
    baseline.reference_cycles =
        std::min(baseline.reference_cycles, static_cast<double>(run.result.cycles));
    baseline.reference_energy_pj =
        std::min(baseline.reference_energy_pj, run.result.total_energy_pj);
    baseline.runs.push_back(std::move(run));
  }
  score_fixed_baseline(baseline, objective);
  return baseline;
}

void score_fixed_baseline(FixedBaseline& baseline, const Objective& objective) {
  baseline.best = 0;
  for (std::size_t i = 0; i < baseline.runs.size(); ++i) {
    FixedRun& run = baseline.runs[i];
    run.objective = objective_value(objective, static_cast<double>(run.result.cycles),
                                    run.result.total_energy_pj, baseline.reference_cycles,
                                    baseline.reference_energy_pj);
    if (run.objective < baseline.runs[baseline.best].objective) baseline.best = i;
  }
}

double CachedScorer::score(const Dataflow& dataflow) {
  std::vector<int64_t> key = dataflow_key(dataflow);
  const auto known = scores_.find(key);
  if (known != scores_.end()) return known->second;
  const double value = simulate(dataflow);
  scores_.emplace(std::move(key), value);
  const bool is_best = best_by_call_.empty() || value < best_by_call_.back();
  if (is_best) best_ = dataflow;
  best_by_call_.push_back(is_best ? value : best_by_call_.back());
  simulated(is_best);
  return value;
}

double CachedScorer::best_objective() const {
  return best_by_call_.empty() ? std::numeric_limits<double>::infinity() : best_by_call_.back();
}

// ---------------------------------------------------------------------------------------------
// GAMMA

namespace {

struct Individual {
  Dataflow dataflow;
  double objective = 0;
};

class Gamma {
 public:
  Gamma(const Layer& layer, const ArchSpec& arch, const GaOptions& ga, uint64_t seed)
      : layer_(layer), arch_(arch), ga_(ga), rng_(mix_seed(seed, kGaStream)) {}

  // GAMMA starts from random individuals, not from known good dataflows.
  Dataflow random_individual() { return random_legal_dataflow(layer_, arch_, rng_); }

  // Children of the best `parents`: pairs bred by crossover, then mutated, reordered and
  // repaired.
  std::vector<Dataflow> breed(const std::vector<Individual>& ranked, std::size_t parents,
                              std::size_t count) {
    std::uniform_int_distribution<std::size_t> pick_parent(0, parents - 1);
    std::vector<Dataflow> children;
    while (children.size() < count) {
      Dataflow dad = ranked[pick_parent(rng_)].dataflow;
      Dataflow mom = ranked[pick_parent(rng_)].dataflow;
      crossover(dad, mom);
      children.push_back(std::move(dad));
      if (children.size() < count) children.push_back(std::move(mom));
    }
    for (Dataflow& child : children) mutate(child);
    reorder(children);
    for (Dataflow& child : children) repair_dataflow(layer_, arch_, child);
    return children;
  }

 private:
  bool chance(double rate) { return std::uniform_real_distribution<double>(0, 1)(rng_) < rate; }
  int pick(int count) { return std::uniform_int_distribution<int>(0, count - 1)(rng_); }

  // Per level, maybe swap one dim's gene (its tile and fan-out) between the two parents; repair
  // trims a product of fan-outs that no longer fits the units.
  void crossover(Dataflow& dad, Dataflow& mom) {
    for (int level = 0; level < kNumLevels; ++level) {
      if (!chance(ga_.crossover_rate)) continue;
      const int d = pick(kNumDims);
      LevelMapping &dad_level = dad.levels[level], &mom_level = mom.levels[level];
      std::swap(dad_level.tile[d], mom_level.tile[d]);
      std::swap(dad_level.fanout[d], mom_level.fanout[d]);
    }
  }

  // A level has 7 genes as in GAMMA: the spatial map and one tile per dim.
  void mutate(Dataflow& child) {
    const DimArray layer_dims = layer_.dims();
    for (int site = 0; site < ga_.mutation_sites; ++site) {
      if (!chance(ga_.mutation_rate)) continue;
      const int gene = pick(kNumLevels * (kNumDims + 1));
      const int level = gene / (kNumDims + 1);
      LevelMapping& mapping = child.levels[level];
      if (gene % (kNumDims + 1) == 0) {
        mutate_spatial_map(child, level);
      } else {
        const int d = gene % (kNumDims + 1) - 1;
        const int64_t parent = parent_tile(child, level, layer_dims)[d];
        mapping.tile[d] = std::uniform_int_distribution<int64_t>(1, parent)(rng_);
      }
    }
  }

  // Half the time GAMMA's spatial gene: one dim taking all the units it can. Otherwise one dim
  // joins the map (with the units the others leave, halving the widest when none are left) or
  // leaves it, which GAMMA's one-dim gene cannot express.
  void mutate_spatial_map(Dataflow& child, int level) {
    LevelMapping& mapping = child.levels[level];
    const int64_t units = units_at_level(arch_, child, level);
    const int d = pick(kNumDims);
    if (chance(0.5)) {
      mapping.set_single_spatial(kAllDims[d], units);
    } else if (mapping.fanout[d] > 1) {
      mapping.fanout[d] = 1;
    } else {
      if (2 * mapping.units() > units) {
        int64_t& widest = mapping.fanout[dim_index(mapping.main_spatial_dim())];
        widest = std::max<int64_t>(1, widest / 2);
      }
      mapping.fanout[d] = std::max<int64_t>(2, units / mapping.units());
    }
  }

  // As many tries as children, each maybe swapping two loops of one level of a random child.
  void reorder(std::vector<Dataflow>& children) {
    for (std::size_t attempt = 0; attempt < children.size(); ++attempt) {
      if (!chance(ga_.reorder_rate)) continue;
      Dataflow& child = children[pick(static_cast<int>(children.size()))];
      auto& order = child.levels[pick(kNumLevels)].order;
      const int first = pick(kNumDims);
      const int second = (first + 1 + pick(kNumDims - 1)) % kNumDims;
      std::swap(order[first], order[second]);
    }
  }

  const Layer& layer_;
  const ArchSpec& arch_;
  const GaOptions& ga_;
  std::mt19937_64 rng_;
};

void rank(std::vector<Individual>& population) {
  std::stable_sort(
      population.begin(), population.end(),
      [](const Individual& a, const Individual& b) { return a.objective < b.objective; });
}

}  // namespace

std::vector<double> run_ga(const Layer& space, const ArchSpec& arch, CachedScorer& scorer,
                           int64_t budget, uint64_t seed, const GaOptions& ga) {
  const int64_t population_size =
      std::max<int64_t>(2, std::min(ga.population, budget / kMinGenerations));
  const auto fraction = [&](double ratio) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(population_size * ratio));
  };
  const std::size_t elite = fraction(ga.elite_ratio);
  const std::size_t parents = fraction(ga.parent_ratio);
  const int64_t planned_generations = (budget + population_size - 1) / population_size;
  Gamma gamma(space, arch, ga, seed);

  // Scores `dataflows` in order while the budget lasts and adds them to `population`.
  const auto score_into = [&](std::vector<Dataflow>& dataflows,
                              std::vector<Individual>& population) {
    for (Dataflow& dataflow : dataflows) {
      if (scorer.calls() >= budget) return;
      const double value = scorer.score(dataflow);
      population.push_back({std::move(dataflow), value});
    }
  };
  std::vector<Dataflow> initial;
  for (int64_t i = 0; i < population_size; ++i) initial.push_back(gamma.random_individual());
  std::vector<Individual> population;
  score_into(initial, population);
  std::vector<double> best_by_generation = {scorer.best_objective()};
  for (int64_t generation = 1; generation < 4 * planned_generations && scorer.calls() < budget;
       ++generation) {
    rank(population);
    population.resize(std::min<std::size_t>(population.size(), population_size));
    std::vector<Dataflow> children = gamma.breed(population, std::min(parents, population.size()),
                                                 static_cast<std::size_t>(population_size));
    population.resize(std::min(elite, population.size()));
    score_into(children, population);
    best_by_generation.push_back(scorer.best_objective());
  }
  return best_by_generation;
}

SearchResult search_ga(const Layer& layer, const ArchSpec& arch, const Objective& objective,
                       const FixedBaseline& baseline, const SearchOptions& options,
                       const GaOptions& ga) {
  const auto start = std::chrono::steady_clock::now();
  LayerScorer scorer(layer, arch, objective, baseline, options);
  std::vector<double> best_by_generation =
      run_ga(layer, arch, scorer, options.budget, options.seed, ga);
  SearchResult result = scorer.result("ga", start);
  result.best_by_generation = std::move(best_by_generation);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Random search

void run_random(const Layer& space, const ArchSpec& arch, CachedScorer& scorer, int64_t budget,
                uint64_t seed) {
  std::mt19937_64 rng(mix_seed(seed, kRandomStream));
  // Small layers have fewer distinct dataflows than the budget: repeats are free, so stop after
  // a few budgets' worth of draws.
  for (int64_t draw = 0; draw < 4 * budget && scorer.calls() < budget; ++draw) {
    scorer.score(draw % 2 == 0 ? random_legal_dataflow(space, arch, rng)
                               : decode_dataflow(space, arch, random_code(space, arch, rng)));
  }
}

SearchResult search_random(const Layer& layer, const ArchSpec& arch, const Objective& objective,
                           const FixedBaseline& baseline, const SearchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LayerScorer scorer(layer, arch, objective, baseline, options);
  run_random(layer, arch, scorer, options.budget, options.seed);
  return scorer.result("random", start);
}

// ---------------------------------------------------------------------------------------------
// Exhaustive search

namespace {

// Powers of two below `top`, then `top`.
std::vector<int64_t> doubling_choices(int64_t first, int64_t top) {
  std::vector<int64_t> choices;
  for (int64_t value = first; value < top; value *= 2) choices.push_back(value);
  choices.push_back(top);
  return choices;
}

// Walks tiles (level by level, dim by dim), then fan-outs (level by level, dim by dim), and hands
// each such skeleton to `leaf` with the dims that have more than one trip per level. `leaf` returns
// false to stop the walk.
class SpaceWalker {
 public:
  using Leaf = std::function<bool(Dataflow&, const std::array<std::vector<Dim>, kNumLevels>&)>;
  SpaceWalker(const Layer& layer, const ArchSpec& arch, Leaf leaf)
      : layer_(layer), arch_(arch), layer_dims_(layer.dims()), leaf_(std::move(leaf)) {}

  void run() { walk_tiles(0, 0); }

 private:
  bool walk_tiles(int level, int d) {
    if (d == kNumDims) {
      if (overflow_bytes(layer_, arch_, dataflow_, level) > 0) return true;
      return level + 1 == kNumLevels ? walk_spatial(0) : walk_tiles(level + 1, 0);
    }
    const int64_t parent = parent_tile(dataflow_, level, layer_dims_)[d];
    for (int64_t tile : doubling_choices(1, parent)) {
      dataflow_.levels[level].tile[d] = tile;
      if (!walk_tiles(level, d + 1)) return false;
    }
    return true;
  }

  // A level's fan-outs are set once the levels above it have theirs (L1's units depend on L2's).
  bool walk_spatial(int level) {
    if (level == kNumLevels) {
      // An operand that bypasses L1 ties the L0 tile to the PE's share: other tiles are illegal.
      if (!keeps_l1_bypass_ties(layer_, arch_, dataflow_)) return true;
      return leaf_(dataflow_, trip_dims());
    }
    return walk_fanouts(level, 0, units_at_level(arch_, dataflow_, level));
  }

  // Dim d's fan-out at `level` and then the later dims', from the units the earlier dims left.
  bool walk_fanouts(int level, int d, int64_t units_left) {
    if (d == kNumDims) return walk_spatial(level + 1);
    int64_t& fanout = dataflow_.levels[level].fanout[d];
    fanout = 1;
    if (!walk_fanouts(level, d + 1, units_left)) return false;
    const int64_t most = std::min(units_left, available_fanout(dataflow_, level, kAllDims[d]));
    if (most >= 2) {
      for (int64_t ways : doubling_choices(2, most)) {
        fanout = ways;
        if (!walk_fanouts(level, d + 1, units_left / ways)) return false;
      }
    }
    fanout = 1;
    return true;
  }

  // Per level, the dims its loops step through more than once: the parent tile over this
  // level's tile, the parent level's fan-out along the dim taking that many tiles per step.
  std::array<std::vector<Dim>, kNumLevels> trip_dims() const {
    std::array<std::vector<Dim>, kNumLevels> dims;
    for (int level = 0; level < kNumLevels; ++level) {
      const DimArray& parent = parent_tile(dataflow_, level, layer_dims_);
      for (Dim dim : kAllDims) {
        const int d = dim_index(dim);
        int64_t step = dataflow_.levels[level].tile[d];
        if (level > 0) step *= dataflow_.levels[level - 1].fanout[d];
        if (parent[d] > step) dims[level].push_back(dim);
      }
    }
    return dims;
  }

  const Layer& layer_;
  const ArchSpec& arch_;
  const DimArray layer_dims_;
  Leaf leaf_;
  Dataflow dataflow_;
};

int64_t factorial(std::size_t n) {
  int64_t product = 1;
  for (std::size_t i = 2; i <= n; ++i) product *= static_cast<int64_t>(i);
  return product;
}

// Every order of `dataflow` whose loops with more than one trip come in any permutation and the
// others after them in K..N order.
void for_each_order(Dataflow& dataflow, const std::array<std::vector<Dim>, kNumLevels>& trip_dims,
                    int level, const std::function<void(const Dataflow&)>& visit) {
  if (level == kNumLevels) {
    visit(dataflow);
    return;
  }
  std::vector<Dim> looping = trip_dims[level];
  auto& order = dataflow.levels[level].order;
  do {
    std::size_t position = 0;
    for (Dim dim : looping) order[position++] = dim;
    for (Dim dim : kAllDims)
      if (std::find(looping.begin(), looping.end(), dim) == looping.end()) order[position++] = dim;
    for_each_order(dataflow, trip_dims, level + 1, visit);
  } while (std::next_permutation(looping.begin(), looping.end()));
}

}  // namespace

int64_t count_exhaustive_candidates(const Layer& layer, const ArchSpec& arch, int64_t limit) {
  int64_t count = 0;
  SpaceWalker walker(layer, arch,
                     [&](Dataflow&, const std::array<std::vector<Dim>, kNumLevels>& trip_dims) {
                       int64_t orders = 1;
                       for (const auto& dims : trip_dims) orders *= factorial(dims.size());
                       count += orders;
                       return count <= limit;
                     });
  walker.run();
  return count;
}

void for_each_exhaustive_candidate(const Layer& layer, const ArchSpec& arch,
                                   const std::function<void(const Dataflow&)>& visit) {
  SpaceWalker walker(
      layer, arch,
      [&](Dataflow& dataflow, const std::array<std::vector<Dim>, kNumLevels>& trip_dims) {
        for_each_order(dataflow, trip_dims, 0, visit);
        return true;
      });
  walker.run();
}

SearchResult search_exhaustive(const Layer& layer, const ArchSpec& arch, const Objective& objective,
                               const FixedBaseline& baseline, const SearchOptions& options,
                               int64_t max_candidates) {
  const auto start = std::chrono::steady_clock::now();
  if (count_exhaustive_candidates(layer, arch, max_candidates) > max_candidates)
    throw InputError(layer.name, "exhaustive search",
                     "more than " + std::to_string(max_candidates) + " candidate dataflows",
                     "at most " + std::to_string(max_candidates) +
                         " candidates; raise the cap or search by GA or at random");
  LayerScorer scorer(layer, arch, objective, baseline, options);
  for_each_exhaustive_candidate(layer, arch,
                                [&](const Dataflow& dataflow) { scorer.score(dataflow); });
  return scorer.result("exhaustive", start);
}

}  // namespace dcp
