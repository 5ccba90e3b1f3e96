// Steady-state skipping against simulating every iteration, on random legal dataflows: several
// dims unrolled per level, batches of 1-3, every preset. Prints how many agree on cycles, every
// access count and every stall, and exits 1 on any difference. Too long for the test suite,
// which checks 40 cases; this is the wider sweep. With a model file the layers are the model's
// (deeper loop nests, where replayed iterations matter most) on the eyeriss preset. Every fifth
// random layer is grouped.
// With --reload it checks instead that writing the model's state and loading it back at every
// iteration boundary changes nothing (what a replay relies on).
// Usage: build/scripts/check_steady_state [--reload] [CASES] [SEED] [MODEL.yaml]
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include "arch/arch_spec.hpp"
#include "dataflow/random_dataflow.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace {

// Which counts and stalls differ, skipping first, every iteration second.
void print_differences(const dcp::Result& fast, const dcp::Result& full) {
  const auto compare = [](const std::string& what, int64_t a, int64_t b) {
    if (a != b)
      std::printf("  %s: %lld vs %lld\n", what.c_str(), static_cast<long long>(a),
                  static_cast<long long>(b));
  };
  for (int level = 0; level < dcp::kNumCostLevels; ++level) {
    for (int tensor = 0; tensor < dcp::kNumTensors; ++tensor) {
      const std::string where =
          std::string(dcp::cost_level_name(static_cast<dcp::CostLevel>(level))) + " " +
          dcp::tensor_name(static_cast<dcp::Tensor>(tensor));
      compare(where + " reads", fast.counts.reads[level][tensor], full.counts.reads[level][tensor]);
      compare(where + " writes", fast.counts.writes[level][tensor],
              full.counts.writes[level][tensor]);
    }
  }
  for (int cause = 0; cause < dcp::kNumStallCauses; ++cause)
    compare(std::string("stall ") + dcp::stall_cause_name(static_cast<dcp::StallCause>(cause)),
            fast.stall_cycles[cause], full.stall_cycles[cause]);
  compare("busy compute", fast.busy.compute, full.busy.compute);
  compare("busy L2 port", fast.busy.l2, full.busy.l2);
  compare("busy NoC", fast.busy.noc, full.busy.noc);
  compare("busy DRAM", fast.busy.dram, full.busy.dram);
}

int check(int argc, char** argv) {
  const bool reload = argc > 1 && std::string(argv[1]) == "--reload";
  if (reload) {
    --argc;
    ++argv;
  }
  const int cases = argc > 1 ? std::stoi(argv[1]) : 200;
  std::mt19937_64 rng(argc > 2 ? std::stoull(argv[2]) : 2026);
  const char* const presets[] = {"eyeriss", "edge", "cloud", "tpu"};
  const std::vector<dcp::Layer> model_layers =
      argc > 3 ? dcp::load_network(argv[3]).layers : std::vector<dcp::Layer>{};
  int equal = 0, skipped = 0, multi_dim_levels = 0, batched = 0, grouped = 0;
  dcp::EvalOptions every_iteration;
  every_iteration.skip_steady_state = false;
  dcp::EvalOptions checked;  // skipping, or reloading
  checked.skip_steady_state = !reload;
  checked.reload_state = reload;
  for (int which = 0; which < cases; ++which) {
    const dcp::ArchSpec arch =
        dcp::load_arch(std::string("arch/presets/") +
                       (model_layers.empty() ? presets[which % 4] : "eyeriss") + ".yaml");
    const auto pick = [&rng](int low, int high) {
      return std::uniform_int_distribution<int>(low, high)(rng);
    };
    const int kernel = 2 * pick(0, 2) + 1;
    // Every fifth layer is grouped, so that tiles meet group boundaries.
    const int groups = which % 5 == 4 ? pick(2, 4) : 1;
    dcp::Layer layer =
        !model_layers.empty()
            ? model_layers[which % model_layers.size()]
            : dcp::make_conv("check", "layer" + std::to_string(which),
                             groups * pick(1, 32 / groups), groups * pick(1, 64 / groups),
                             pick(4, 20) + kernel, pick(4, 20) + kernel, kernel, kernel, pick(1, 2),
                             kernel / 2, groups);
    layer.N = 1 + which % 3;
    const dcp::Dataflow dataflow = dcp::random_legal_dataflow(layer, arch, rng);
    for (const dcp::LevelMapping& level : dataflow.levels)
      multi_dim_levels += level.spatial_dims().size() > 1 ? 1 : 0;
    batched += layer.N > 1 ? 1 : 0;
    grouped += layer.groups > 1 ? 1 : 0;
    const dcp::Result fast = dcp::evaluate(layer, arch, dataflow, checked);
    const dcp::Result full = dcp::evaluate(layer, arch, dataflow, every_iteration);
    skipped += fast.simulated_steps < full.simulated_steps ? 1 : 0;
    if (fast.cycles == full.cycles && fast.counts == full.counts &&
        fast.stall_cycles == full.stall_cycles && fast.busy == full.busy) {
      ++equal;
    } else {
      std::printf(
          "differs: case %d on %s, layer K%lld C%lld Y%lld X%lld R%lld S%lld N%lld stride %lld "
          "groups %lld: %lld vs %lld cycles\n",
          which, arch.name.c_str(), static_cast<long long>(layer.K),
          static_cast<long long>(layer.C), static_cast<long long>(layer.Y),
          static_cast<long long>(layer.X), static_cast<long long>(layer.R),
          static_cast<long long>(layer.S), static_cast<long long>(layer.N),
          static_cast<long long>(layer.stride), static_cast<long long>(layer.groups),
          static_cast<long long>(fast.cycles), static_cast<long long>(full.cycles));
      print_differences(fast, full);
      std::printf("%s", dcp::dataflow_to_yaml(dataflow).c_str());
    }
  }
  std::printf(
      "%d of %d random legal dataflows equal with and without %s (cycles, counts, "
      "stalls, busy cycles); %d skipped iterations, %d levels unroll several dims, %d layers have "
      "N > 1, %d are grouped\n",
      equal, cases, reload ? "reloading the state at every iteration" : "skipping", skipped,
      multi_dim_levels, batched, grouped);
  return equal == cases ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return check(argc, argv);
  } catch (const std::logic_error&) {  // std::stoi's invalid_argument and out_of_range
    std::fprintf(stderr,
                 "check_steady_state: CASES and SEED must be whole numbers (usage: [CASES] [SEED] "
                 "[MODEL.yaml])\n");
    return 2;
  } catch (const std::exception& error) {  // a model file that does not load
    std::fprintf(stderr, "check_steady_state: %s\n", error.what());
    return 2;
  }
}
