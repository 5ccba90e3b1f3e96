#pragma once
// What `dcp sweep` simulates: sample i of a sweep is a pure function of (seed, i, layers, archs),
// so shards, resumed runs and any number of worker processes produce exactly the same rows.
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// How a sample's dataflow was drawn: random_legal_dataflow, a decoded random_code, one of the
// fixed dataflows, a fixed dataflow after 1 to 4 one-gene changes, a decoded random code grown
// to fill its buffers (grown_dataflow), or a fixed dataflow after 1 to 4 steps of which about
// half are jumps (jump_dataflow).
enum class SampleKind { Random = 0, Code = 1, Fixed = 2, Neighbour = 3, Grown = 4, Jump = 5 };
constexpr int kNumSampleKinds = 6;
// "random", "code", "fixed", "neighbour", "grown", "jump"
const char* sample_kind_name(SampleKind kind);

// Share of the samples of each kind (normalised when drawn). Random draws and codes spread over
// the whole code space; fixed dataflows and their neighbours cover the region that works well.
// Grown codes cover what good dataflows share wherever they sit: full buffers and wide fan-outs,
// which uniform draws almost never reach (a random tile nest rarely fills a buffer).
struct SampleMix {
  double random = 0.25;
  double code = 0.2;
  double fixed = 0.05;
  double neighbour = 0.15;
  double grown = 0.35;
  double jump = 0;  // off by default, so that default sweeps stay as they were
};

// Parses "kind=share,..." (e.g. "grown=0.5,jump=0.5"); kinds not listed get share 0. Throws
// InputError naming --mix for an unknown kind, a share that is not a finite number >= 0, or
// shares that are all 0.
SampleMix parse_sample_mix(const std::string& text);

// Every layer shape once, in order of first appearance, simulated as one instance
// (repeat = count = 1).
std::vector<Layer> unique_layers(const std::vector<Layer>& layers);

// `count` synthetic layers shaped like real ones (conv, depthwise conv, transformer GEMMs and
// attention matmuls), named "random_<n>"; the same seed gives the same layers.
std::vector<Layer> random_layers(int64_t count, uint64_t seed);

// The archs and layers a sweep draws from.
struct SampleSpace {
  std::vector<ArchSpec> archs;
  std::vector<Layer> layers;
  std::vector<std::vector<int>> fitting_layers;  // per arch: indices of the layers it can hold
  SampleMix mix;
  uint64_t seed = 1;
};

// Drops, with a one-line warning on `warnings`, each layer that even 1-element tiles cannot fit
// on an arch. Throws InputError when an arch is left without layers.
SampleSpace make_sample_space(std::vector<ArchSpec> archs, const std::vector<Layer>& layers,
                              const SampleMix& mix, uint64_t seed, std::ostream& warnings);

struct Sample {
  int64_t index = 0;
  int arch = 0;   // into SampleSpace::archs
  int layer = 0;  // into SampleSpace::layers
  SampleKind kind = SampleKind::Random;
  Dataflow dataflow;  // always legal for the layer on the arch
};

// Sample `index` of the space. Throws std::logic_error if a generator yields an illegal
// dataflow, which is a bug in that generator.
Sample draw_sample(const SampleSpace& space, int64_t index);

// `start` with one gene changed (a tile doubled or halved, two loops swapped, an unrolled dim's
// fan-out moved to another dim, a fan-out doubled or halved, which may add a dim to the spatial
// map or drop one), then repaired to be legal.
Dataflow neighbour_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& start,
                            std::mt19937_64& rng);

// `start` with one gene set anywhere in its range (GAMMA's mutation) rather than one step away:
// a tile drawn log-uniformly up to its parent, or a level's spatial map changed at once: one dim
// spread over all, a half or a quarter of the level's units, alone or joining the map (whose
// other dims halve, the widest first, until they fit in the rest), or one dim leaving the map
// (at L2 the units sometimes include the L1 fan-out's PEs too), then repaired. A walk of single
// steps needs many to reach, e.g., a reduction over all PEs.
Dataflow jump_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& start,
                       std::mt19937_64& rng);

// A decoded random code whose tiles and fan-outs then grow: a random sequence of tiles (up to
// their parent) and per-dim fan-outs (up to the units; a dim not unrolled joins at 2 ways)
// doubles, each change kept only while the dataflow stays legal.
Dataflow grown_dataflow(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng);

// A well-mixed 64-bit value from a seed and a stream position, so that nearby seeds and indices
// give unrelated generator states.
uint64_t mix_seed(uint64_t seed, uint64_t position);

}  // namespace dcp
