// The search baselines: GA determinism and progress, budgets, legality of every simulated
// dataflow, exhaustive search as the optimum of its space, and the per-network searches' shapes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "mapper/network_search.hpp"
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
  const std::vector<NetworkRun> fixed = fixed_dataflows_over_network(problem, edp());
  const NetworkRun per_layer = best_fixed_per_layer(problem, edp());
  REQUIRE(fixed.size() == fixed_dataflow_names().size());
  for (std::size_t f = 0; f < fixed.size(); ++f) {
    CHECK(fixed[f].name == fixed_dataflow_names()[f]);
    double cycles = 0;
    for (std::size_t l = 0; l < problem.layers.size(); ++l)
      cycles += static_cast<double>(problem.fixed[l].runs[f].result.cycles);
    CHECK(fixed[f].cost.cycles == cycles);
    // Every layer's best fixed dataflow is at least as good as any one dataflow for all of them.
    CHECK(per_layer.objective <= fixed[f].objective);
  }
}

}  // namespace
}  // namespace dcp
