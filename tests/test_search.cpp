// The search baselines: GA determinism and progress, budgets, legality of every simulated
// dataflow, exhaustive search as the optimum of its space, and the per-network searches' shapes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <random>
#include <set>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "mapper/network_search.hpp"
#include "mapper/pareto.hpp"
#include "mapper/search.hpp"
#include "test_support.hpp"

namespace dcp {
namespace {

const ArchSpec& eyeriss() {
  static const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  return arch;
}

// Four PEs of one MAC lane each, so that a tiny layer's space stays small enough to walk.
const ArchSpec& four_pe_arch() {
  static const ArchSpec arch = [] {
    ArchSpec small = test::plain_eyeriss();
    small.name = "four_pe";
    small.num_pes = 4;
    small.array_rows = 2;
    small.array_cols = 2;
    small.macs_per_pe = 1;
    return small;
  }();
  return arch;
}

Layer tiny_layer() {
  return make_conv("test", "tiny", 2, 4, 2, 2, 1, 1, 1, 0, 1);  // K4 C2 Y2 X2: 7692 candidates
}

const Objective& edp() {
  static const Objective objective = parse_objective("edp", "--objective");
  return objective;
}

SearchOptions options_with_budget(int64_t budget, uint64_t seed = 7) {
  SearchOptions options;
  options.budget = budget;
  options.seed = seed;
  return options;
}

// Fails the test if a search simulates an illegal dataflow.
void require_legal_on_simulate(SearchOptions& options, const Layer& layer, const ArchSpec& arch) {
  options.on_simulate = [&layer, &arch](const Dataflow& dataflow) {
    const std::vector<std::string> violations = legality_violations(layer, arch, dataflow);
    INFO((violations.empty() ? "" : violations.front()));
    REQUIRE(violations.empty());
  };
}

// A mid-size conv layer on eyeriss with its fixed baseline.
struct ConvOnEyeriss {
  Layer layer = test::conv_layer();
  FixedBaseline baseline = fixed_baseline(layer, eyeriss(), edp());

  // Options whose searches fail the test on an illegal dataflow.
  SearchOptions checked_options(int64_t budget) const {
    SearchOptions options = options_with_budget(budget);
    require_legal_on_simulate(options, layer, eyeriss());
    return options;
  }
};

TEST_CASE("objective parsing names the option and the allowed terms") {
  CHECK(parse_objective("0.7*latency+0.3*energy", "--objective").latency == Approx(0.7));
  for (const std::string bad : {"speed", "-1*edp", "0*edp", "x*energy", ""}) {
    try {
      parse_objective(bad, "--objective");
      FAIL("accepted " << bad);
    } catch (const InputError& error) {
      const std::string message = error.what();
      CHECK(message.find("--objective") == 0);
      CHECK(message.find("allowed: latency, energy, edp") != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("the fixed baseline normalises by the least cycles and energy of the fixed dataflows") {
  const FixedBaseline baseline = ConvOnEyeriss().baseline;
  REQUIRE(baseline.runs.size() == fixed_dataflow_names().size());
  for (const FixedRun& run : baseline.runs) {
    CHECK(baseline.reference_cycles <= run.result.cycles);
    CHECK(baseline.reference_energy_pj <= run.result.total_energy_pj);
    CHECK(baseline.best_run().objective <= run.objective);
    CHECK(run.objective >= 1.0);  // EDP over the least cycles x the least energy
  }
}

TEST_CASE("GA with a fixed seed is deterministic, legal and improves on its first generation") {
  const ConvOnEyeriss conv;
  const SearchOptions options = conv.checked_options(200);
  const SearchResult first = search_ga(conv.layer, eyeriss(), edp(), conv.baseline, options);
  const SearchResult second = search_ga(conv.layer, eyeriss(), edp(), conv.baseline, options);
  CHECK(first.best == second.best);
  CHECK(first.best_by_call == second.best_by_call);
  CHECK(first.best_by_generation == second.best_by_generation);
  CHECK(first.simulator_calls <= 200);
  REQUIRE(first.best_by_generation.size() >= kMinGenerations);
  CHECK(first.best_by_generation.back() < first.best_by_generation.front());
  CHECK(std::is_sorted(first.best_by_call.rbegin(), first.best_by_call.rend()));
  CHECK(first.best_objective == first.best_by_call.back());

  const SearchResult other_seed =
      search_ga(conv.layer, eyeriss(), edp(), conv.baseline, options_with_budget(200, 8));
  CHECK_FALSE(other_seed.best_by_call == first.best_by_call);
}

TEST_CASE("random search spends at most its budget on legal dataflows") {
  const ConvOnEyeriss conv;
  const SearchResult result =
      search_random(conv.layer, eyeriss(), edp(), conv.baseline, conv.checked_options(150));
  CHECK(result.simulator_calls <= 150);
  CHECK(result.simulator_calls > 100);  // repeats are rare in a space this large
  CHECK(result.best_by_call.size() == static_cast<std::size_t>(result.simulator_calls));
  const Result check = evaluate(conv.layer, eyeriss(), result.best);
  CHECK(check.cycles == result.best_result.cycles);
}

TEST_CASE("exhaustive candidates are legal, distinct, as many as counted and multi-dim too") {
  const Layer layer = tiny_layer();
  std::set<std::vector<int64_t>> seen;
  int64_t visited = 0, multi_dim = 0;
  for_each_exhaustive_candidate(layer, four_pe_arch(), [&](const Dataflow& dataflow) {
    ++visited;
    multi_dim += dataflow.levels[0].spatial_dims().size() >= 2;
    REQUIRE(legality_violations(layer, four_pe_arch(), dataflow).empty());
    CHECK(seen.insert(dataflow_key(dataflow)).second);
  });
  CHECK(visited == count_exhaustive_candidates(layer, four_pe_arch(), kDefaultMaxCandidates));
  CHECK(multi_dim > 0);  // e.g. K x C over the four PEs
}

// The exhaustive space writes one order for all placements of one-trip loops; this holds only if
// the simulator does not care where such a loop sits.
TEST_CASE("where a loop with one trip sits in the order does not change the result") {
  const Layer layer = test::conv_layer();
  std::mt19937_64 rng(3);
  int compared = 0;
  for (int draw = 0; draw < 30; ++draw) {
    const Dataflow dataflow = random_legal_dataflow(layer, eyeriss(), rng);
    Dataflow moved = dataflow;
    DimArray parent = layer.dims();
    for (int level = 0; level < kNumLevels; ++level) {
      const LevelMapping& mapping = dataflow.levels[level];
      const auto one_trip = [&](Dim dim) {
        int64_t step = mapping.tile[dim_index(dim)];
        if (level > 0) step *= dataflow.levels[level - 1].fanout[dim_index(dim)];
        return parent[dim_index(dim)] <= step;
      };
      // One-trip loops outermost instead of wherever they were.
      std::stable_partition(moved.levels[level].order.begin(), moved.levels[level].order.end(),
                            one_trip);
      parent = mapping.tile;
    }
    if (moved == dataflow) continue;
    ++compared;
    const Result original = evaluate(layer, eyeriss(), dataflow);
    const Result reordered = evaluate(layer, eyeriss(), moved);
    CHECK(original.cycles == reordered.cycles);
    CHECK(original.total_energy_pj == Approx(reordered.total_energy_pj).epsilon(1e-12));
    CHECK(original.counts == reordered.counts);
  }
  CHECK(compared >= 10);
}

TEST_CASE("exhaustive search on a tiny layer is no worse than GA, random and the fixed ones") {
  const Layer layer = tiny_layer();
  const FixedBaseline baseline = fixed_baseline(layer, four_pe_arch(), edp());
  SearchOptions options = options_with_budget(0);
  require_legal_on_simulate(options, layer, four_pe_arch());
  const SearchResult optimum = search_exhaustive(layer, four_pe_arch(), edp(), baseline, options);
  const SearchResult ga =
      search_ga(layer, four_pe_arch(), edp(), baseline, options_with_budget(200));
  const SearchResult random =
      search_random(layer, four_pe_arch(), edp(), baseline, options_with_budget(200));
  CHECK(optimum.best_objective <= ga.best_objective);
  CHECK(optimum.best_objective <= random.best_objective);
  for (const FixedRun& run : baseline.runs) CHECK(optimum.best_objective <= run.objective);
}

TEST_CASE("exhaustive search refuses a big layer in one line") {
  const ConvOnEyeriss conv;
  try {
    search_exhaustive(conv.layer, eyeriss(), edp(), conv.baseline, options_with_budget(0));
    FAIL("searched a layer with a huge space");
  } catch (const InputError& error) {
    const std::string message = error.what();
    CHECK(message.find("conv: exhaustive search: more than 20000 candidate dataflows") == 0);
    CHECK(message.find("search by GA or at random") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("the non-dominated filter keeps what nothing dominates and drops what a kept one does") {
  std::mt19937_64 rng(5);
  // Few distinct values, so that ties and equal points are common.
  std::uniform_int_distribution<int> value(1, 12);
  for (int draw = 0; draw < 200; ++draw) {
    std::vector<CostPoint> points(static_cast<size_t>(value(rng)) * 3);
    for (CostPoint& point : points) point = {double(value(rng)), 1e3 * value(rng)};
    const std::vector<size_t> kept = non_dominated(points);
    REQUIRE(!kept.empty());
    std::set<size_t> kept_set(kept.begin(), kept.end());
    CHECK(kept_set.size() == kept.size());
    for (size_t k = 0; k < kept.size(); ++k) {
      for (const CostPoint& point : points) CHECK_FALSE(dominates(point, points[kept[k]]));
      if (k > 0) {  // by cycles ascending, so energy strictly descending and no equal points
        CHECK(points[kept[k - 1]].cycles < points[kept[k]].cycles);
        CHECK(points[kept[k - 1]].energy_pj > points[kept[k]].energy_pj);
      }
    }
    for (size_t i = 0; i < points.size(); ++i) {
      if (kept_set.count(i)) continue;
      CHECK(std::any_of(kept.begin(), kept.end(), [&](size_t k) {
        return dominates(points[k], points[i]) ||
               (points[k].cycles == points[i].cycles && points[k].energy_pj == points[i].energy_pj);
      }));
    }
  }
  // Of equal points the first is kept.
  CHECK(non_dominated({{2, 5}, {1, 9}, {2, 5}, {3, 5}, {1, 10}}) == std::vector<size_t>{1, 0});
  CHECK(non_dominated({}).empty());
}

TEST_CASE("fronts are mapped with weights from energy alone to latency alone") {
  CHECK(front_latency_weights(5) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(front_latency_weights(2) == std::vector<double>{0, 1});
  const Objective objective = latency_energy_objective(0.25);
  CHECK(objective.latency == 0.25);
  CHECK(objective.energy == 0.75);
  CHECK(objective.edp == 0);
  CHECK(objective.text == "0.25*latency+0.75*energy");
  // Normalised as --objective is: twice the reference cycles at the reference energy.
  CHECK(objective_value(objective, 200, 50, 100, 50) == Approx(0.25 * 2 + 0.75 * 1));
}

TEST_CASE("a network's front sums each layer's choice per weighting, times its count") {
  // Two layers (the second occurs twice) under three weightings: energy alone, a balance that
  // picks what energy alone picks (so they share a point), and latency alone.
  const std::vector<int64_t> counts = {1, 2};
  const std::vector<std::vector<CostPoint>> chosen = {
      {{10, 100}, {10, 100}, {5, 300}},
      {{20, 50}, {20, 50}, {8, 200}},
  };
  const std::vector<NetworkFrontPoint> front = network_front(counts, chosen);
  REQUIRE(front.size() == 2);
  CHECK(front[0].cost.cycles == 5 + 2 * 8);
  CHECK(front[0].cost.energy_pj == 300 + 2 * 200);
  CHECK(front[0].weightings == std::vector<size_t>{2});
  CHECK(front[1].cost.cycles == 10 + 2 * 20);
  CHECK(front[1].cost.energy_pj == 100 + 2 * 50);
  CHECK(front[1].weightings == std::vector<size_t>{0, 1});
  // A weighting whose sum another dominates is no point of the front.
  const auto dominated = network_front({1}, {{{10, 100}, {11, 100}}});
  REQUIRE(dominated.size() == 1);
  CHECK(dominated[0].weightings == std::vector<size_t>{0});
}

// Three small layers (conv, depthwise conv, gemm) as one network.
NetworkProblem small_network() {
  return make_network_problem(load_network("tests/data/sweep_layers.yaml").layers, eyeriss(),
                              edp());
}

TEST_CASE("per-network GA reports its best shape as simulate_shape scores it, deterministically") {
  const NetworkProblem problem = small_network();
  SearchOptions options = options_with_budget(30);
  require_legal_on_simulate(options, problem.envelope, eyeriss());
  int64_t last_progress = 0;
  options.on_progress = [&](int64_t calls) { last_progress = calls; };
  const NetworkSearchResult first = search_network_ga(problem, eyeriss(), edp(), options);
  const NetworkSearchResult second = search_network_ga(problem, eyeriss(), edp(), options);
  CHECK(first.best.shape == second.best.shape);
  CHECK(first.best_by_shape == second.best_by_shape);

  CHECK(first.shapes <= 30);
  CHECK(first.simulator_calls == first.shapes * 3);
  CHECK(last_progress == first.simulator_calls);
  CHECK(std::is_sorted(first.best_by_shape.rbegin(), first.best_by_shape.rend()));
  CHECK(first.best.objective == first.best_by_shape.back());
  CHECK(first.best_by_generation.back() == first.best.objective);
  const ShapeRun again = simulate_shape(problem, eyeriss(), edp(), first.best.shape);
  CHECK(again.objective == first.best.objective);
  CHECK(again.cost.cycles == first.best.cost.cycles);
  CHECK(again.fitted == first.best.fitted);

  const NetworkSearchResult random = search_network_random(problem, eyeriss(), edp(), options);
  CHECK(random.shapes <= 30);
  CHECK(simulate_shape(problem, eyeriss(), edp(), random.best.shape).objective ==
        random.best.objective);
}

TEST_CASE("a network's layers of one loop nest merge into one, their counts summed") {
  std::vector<Layer> layers = load_network("tests/data/sweep_layers.yaml").layers;
  layers.insert(layers.begin() + 1, layers.front());
  layers[1].name = "conv again";
  layers[1].count = 3;
  const DistinctLayers distinct = distinct_layers(layers);
  REQUIRE(distinct.layers.size() == 3);
  CHECK(distinct.layers[0].name == "conv");
  CHECK(distinct.layers[0].count == 4);
  CHECK(distinct.of_layer == std::vector<std::size_t>{0, 0, 1, 2});
}

TEST_CASE("the fixed dataflows over a network sum their per-layer runs") {
  const NetworkProblem problem = small_network();
  const std::vector<ShapeRun> fixed = fixed_dataflows_over_network(problem, edp());
  const ShapeRun per_layer = best_fixed_per_layer(problem, edp());
  REQUIRE(fixed.size() == fixed_dataflow_names().size());
  for (const ShapeRun& run : fixed) CHECK(fixed[best_run(fixed)].objective <= run.objective);
  // The score is a mean over layer occurrences: counting every layer twice leaves it alone, and a
  // layer that occurs far more often than the others sets it.
  NetworkProblem twice = problem;
  for (Layer& layer : twice.layers) layer.count *= 2;
  CHECK(best_fixed_per_layer(twice, edp()).objective == Approx(per_layer.objective));
  NetworkProblem first_heavy = problem;
  first_heavy.layers.front().count = 1000000;
  CHECK(best_fixed_per_layer(first_heavy, edp()).objective ==
        Approx(problem.fixed.front().best_run().objective).epsilon(1e-4));
  for (std::size_t f = 0; f < fixed.size(); ++f) {
    CHECK(fixed[f].shape.name == fixed_dataflow_names()[f]);
    double cycles = 0;
    for (std::size_t l = 0; l < problem.layers.size(); ++l)
      cycles += static_cast<double>(problem.fixed[l].runs[f].result.cycles);
    CHECK(fixed[f].cost.cycles == cycles);
    // Every layer's best fixed dataflow is at least as good as any one dataflow for all of them.
    CHECK(per_layer.objective <= fixed[f].objective);
  }
}

TEST_CASE("a structure fixes the inner loop orders and the dims each level may unroll") {
  const Layer layer = make_conv("s", "conv", 32, 32, 14, 14, 3, 3, 1, 1, 1);
  const Dataflow nvdla = make_fixed_dataflow("nvdla", layer, eyeriss());
  Dataflow other_walk = nvdla;  // another DRAM-level order: the host's choice, same chip
  std::swap(other_walk.levels[0].order[0], other_walk.levels[0].order[1]);
  Dataflow other_pe = nvdla;  // another PE-level order: another chip
  std::swap(other_pe.levels[2].order[0], other_pe.levels[2].order[1]);
  REQUIRE(shared_structure({nvdla, other_walk}).has_value());
  CHECK_FALSE(shared_structure({nvdla, other_pe}).has_value());
  const Structure structure = *shared_structure({nvdla});
  CHECK(fits_structure(other_walk, structure));
  CHECK_FALSE(fits_structure(other_pe, structure));
  // Dropping an unrolled dim fits; unrolling one more does not.
  Dataflow fewer = nvdla;
  const std::vector<Dim> spatial = nvdla.levels[1].spatial_dims();
  REQUIRE(!spatial.empty());
  fewer.levels[1].fanout[dim_index(spatial.front())] = 1;
  CHECK(fits_structure(fewer, structure));
  Dataflow more = nvdla;
  const Dim extra =
      std::find(spatial.begin(), spatial.end(), Dim::S) == spatial.end() ? Dim::S : Dim::R;
  more.levels[1].fanout[dim_index(extra)] = 3;
  CHECK_FALSE(fits_structure(more, structure));
  // The union of what the layers unroll.
  const Structure both = *shared_structure({fewer, more});
  CHECK(fits_structure(nvdla, both));
  CHECK(fits_structure(more, both));
}

TEST_CASE("assembly picks each layer's best fitting dataflow under the best structure") {
  const NetworkProblem problem = small_network();
  std::vector<std::vector<SimulatedDataflow>> pools(problem.layers.size());
  std::set<Structure> seen;
  std::mt19937_64 rng(11);
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    for (const FixedRun& run : problem.fixed[l].runs)
      pools[l].push_back({run.dataflow, run.result});
    for (int draw = 0; draw < 40; ++draw) {
      const Dataflow dataflow = random_legal_dataflow(problem.layers[l], eyeriss(), rng);
      pools[l].push_back({dataflow, evaluate(problem.layers[l], eyeriss(), dataflow)});
    }
    for (const SimulatedDataflow& entry : pools[l])
      seen.insert(*shared_structure({entry.dataflow}));
  }
  const std::vector<ShapeRun> fixed_runs = fixed_dataflows_over_network(problem, edp());
  for (const ShapeRun& fixed : fixed_runs)
    if (const auto structure = shared_structure(fixed.fitted)) seen.insert(*structure);
  const std::vector<Structure> structures(seen.begin(), seen.end());
  const std::optional<ShapeRun> assembled =
      assemble_best_structure(problem, edp(), pools, structures);
  REQUIRE(assembled.has_value());
  // One chip: the picks share their inner orders, and each was simulated on its layer.
  REQUIRE(shared_structure(assembled->fitted).has_value());
  for (size_t l = 0; l < problem.layers.size(); ++l)
    CHECK(std::any_of(pools[l].begin(), pools[l].end(), [&](const SimulatedDataflow& entry) {
      return entry.dataflow == assembled->fitted[l] &&
             entry.result.cycles == assembled->results[l].cycles;
    }));
  // No one fixed dataflow that is one chip over the network beats it.
  for (const ShapeRun& fixed : fixed_runs)
    if (shared_structure(fixed.fitted)) CHECK(assembled->objective <= fixed.objective);
  // Nor any single structure's assembly.
  for (const Structure& structure : structures) {
    const auto alone = assemble_best_structure(problem, edp(), pools, {structure});
    if (alone) CHECK(assembled->objective <= alone->objective);
  }
  CHECK_FALSE(assemble_best_structure(problem, edp(), pools, {}).has_value());
}

}  // namespace
}  // namespace dcp
