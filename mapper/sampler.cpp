#include "mapper/sampler.hpp"

#include <algorithm>
#include <boost/algorithm/string.hpp>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include "common/hash.hpp"
#include "common/input_error.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "dataflow/repair.hpp"
#include "mapper/dataflow_code.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {
namespace {

// Sample positions count up from 0, so the random layers take a position no sweep reaches.
constexpr uint64_t kRandomLayerStream = ~uint64_t{0};
// A neighbour that repair turns back into its start is redrawn this many times at most.
constexpr int kNeighbourAttempts = 8;

bool chance(double probability, std::mt19937_64& rng) {
  return std::bernoulli_distribution(probability)(rng);
}

template <typename Value>
Value pick(const std::vector<Value>& values, const std::vector<double>& weights,
           std::mt19937_64& rng) {
  return values[std::discrete_distribution<std::size_t>(weights.begin(), weights.end())(rng)];
}

// Real networks' channel counts are almost always multiples of 8 (hardware-friendly widths).
int64_t channel_count(int64_t low, int64_t high, std::mt19937_64& rng) {
  const int64_t channels = log_uniform(low, high, rng);
  return chance(0.9, rng) ? std::max<int64_t>(8, channels / 8 * 8) : channels;
}

int64_t feature_map_size(std::mt19937_64& rng) {
  return log_uniform(7, 112, rng);
}

Layer random_conv(const std::string& name, std::mt19937_64& rng) {
  const int64_t in_channels = chance(0.05, rng) ? 3 : channel_count(16, 2048, rng);
  const int64_t out_channels = channel_count(16, 2048, rng);
  const int64_t in_h = feature_map_size(rng);
  const int64_t in_w = chance(0.85, rng) ? in_h : feature_map_size(rng);
  const int64_t kernel = pick<int64_t>({1, 3, 5, 7}, {0.4, 0.45, 0.07, 0.08}, rng);
  const int64_t stride = chance(0.75, rng) ? 1 : 2;
  return make_conv("random layers", name, in_channels, out_channels, in_h, in_w, kernel, kernel,
                   stride, kernel / 2, 1);
}

Layer random_depthwise(const std::string& name, std::mt19937_64& rng) {
  const int64_t channels = channel_count(16, 1024, rng);
  const int64_t in_h = feature_map_size(rng);
  const int64_t kernel = pick<int64_t>({3, 5, 7}, {0.75, 0.2, 0.05}, rng);
  const int64_t stride = chance(0.75, rng) ? 1 : 2;
  return make_conv("random layers", name, channels, channels, in_h, in_h, kernel, kernel, stride,
                   kernel / 2, channels);
}

// Token counts: a classifier head (1 row) or a sequence of 16..1024 tokens.
int64_t token_count(std::mt19937_64& rng) {
  return chance(0.1, rng) ? 1 : log_uniform(16, 1024, rng);
}

// Transformer widths are multiples of 64 (heads x head dim), 256..4096.
int64_t feature_count(std::mt19937_64& rng) {
  return log_uniform(4, 64, rng) * 64;
}

Layer random_gemm(const std::string& name, std::mt19937_64& rng) {
  const int64_t rows = token_count(rng);
  const int64_t in_features = feature_count(rng);
  return make_gemm(name, LayerType::Gemm, rows, in_features, feature_count(rng), 1);
}

// One head of attention: Q x K^T (head dim -> tokens) or scores x V (tokens -> head dim).
Layer random_matmul(const std::string& name, std::mt19937_64& rng) {
  const int64_t tokens = log_uniform(16, 1024, rng);
  const int64_t head_dim = pick<int64_t>({32, 64, 128}, {0.2, 0.6, 0.2}, rng);
  return chance(0.5, rng) ? make_gemm(name, LayerType::Matmul, tokens, head_dim, tokens, 1)
                          : make_gemm(name, LayerType::Matmul, tokens, tokens, head_dim, 1);
}

// The smallest dataflow there is: if its 1-element tiles overflow a buffer, nothing fits.
bool fits_arch(const Layer& layer, const ArchSpec& arch) {
  return legality_violations(layer, arch, Dataflow{}).empty();
}

const std::string& random_fixed_name(std::mt19937_64& rng) {
  const std::vector<std::string>& names = fixed_dataflow_names();
  return names[std::uniform_int_distribution<std::size_t>(0, names.size() - 1)(rng)];
}

enum class Gene { Tile, LoopOrder, SpatialDim, Fanout };

// One of the dims `mapping` unrolls, or K when it unrolls none.
int pick_spatial_dim(const LevelMapping& mapping, std::mt19937_64& rng) {
  const std::vector<Dim> spatial = mapping.spatial_dims();
  if (spatial.empty()) return dim_index(Dim::K);
  return dim_index(spatial[std::uniform_int_distribution<std::size_t>(0, spatial.size() - 1)(rng)]);
}

// Changes one gene of `dataflow` in place; repair_dataflow restores legality afterwards.
void mutate_one_gene(Dataflow& dataflow, std::mt19937_64& rng) {
  LevelMapping& mapping =
      dataflow.levels[std::uniform_int_distribution<int>(0, kNumLevels - 1)(rng)];
  std::uniform_int_distribution<int> pick_dim(0, kNumDims - 1);
  const bool grow = chance(0.5, rng);
  switch (static_cast<Gene>(std::uniform_int_distribution<int>(0, 3)(rng))) {
    case Gene::Tile: {
      int64_t& tile = mapping.tile[pick_dim(rng)];
      tile = grow ? tile * 2 : std::max<int64_t>(1, tile / 2);
      break;
    }
    case Gene::LoopOrder: {
      const int first = pick_dim(rng);
      const int second =
          (first + std::uniform_int_distribution<int>(1, kNumDims - 1)(rng)) % kNumDims;
      std::swap(mapping.order[first], mapping.order[second]);
      break;
    }
    case Gene::SpatialDim: {
      // One unrolled dim's fan-out, and its array axis, move to another dim (trading places).
      const int from = pick_spatial_dim(mapping, rng);
      const int to = (from + std::uniform_int_distribution<int>(1, kNumDims - 1)(rng)) % kNumDims;
      std::swap(mapping.fanout[from], mapping.fanout[to]);
      std::swap(mapping.axis[from], mapping.axis[to]);
      break;
    }
    case Gene::Fanout: {
      // Any dim may grow (a new one joins the map at 2 ways); only unrolled ones can shrink.
      int64_t& fanout = mapping.fanout[grow ? pick_dim(rng) : pick_spatial_dim(mapping, rng)];
      fanout = grow ? fanout * 2 : std::max<int64_t>(1, fanout / 2);
    }
  }
}

Dataflow draw_dataflow(SampleKind kind, const Layer& layer, const ArchSpec& arch,
                       std::mt19937_64& rng) {
  switch (kind) {
    case SampleKind::Random:
      return random_legal_dataflow(layer, arch, rng);
    case SampleKind::Code:
      return decode_dataflow(layer, arch, random_code(layer, arch, rng));
    case SampleKind::Fixed:
      return make_fixed_dataflow(random_fixed_name(rng), layer, arch);
    case SampleKind::Grown:
      return grown_dataflow(layer, arch, rng);
    case SampleKind::Neighbour:
    case SampleKind::Jump:
      break;
  }
  // A walk of 1 to 4 steps: single steps alone stay too close to the fixed dataflows to show the
  // predictor the good regions a search reaches from them.
  Dataflow walked = make_fixed_dataflow(random_fixed_name(rng), layer, arch);
  const int steps = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int step = 0; step < steps; ++step)
    walked = kind == SampleKind::Jump && chance(0.5, rng)
                 ? jump_dataflow(layer, arch, walked, rng)
                 : neighbour_dataflow(layer, arch, walked, rng);
  return walked;
}

}  // namespace

const char* sample_kind_name(SampleKind kind) {
  constexpr const char* kNames[kNumSampleKinds] = {"random",    "code",  "fixed",
                                                   "neighbour", "grown", "jump"};
  return kNames[static_cast<int>(kind)];
}

SampleMix parse_sample_mix(const std::string& text) {
  SampleMix mix{0, 0, 0, 0, 0, 0};
  double* shares[kNumSampleKinds] = {&mix.random,    &mix.code,  &mix.fixed,
                                     &mix.neighbour, &mix.grown, &mix.jump};
  const auto refuse = [&](const std::string& problem) {
    return InputError("sample mix", "", problem,
                      "kind=share,... with kinds random, code, fixed, neighbour, grown, jump and "
                      "finite shares >= 0, not all 0");
  };
  double total = 0;
  std::vector<std::string> items;
  boost::algorithm::split(items, text, boost::is_any_of(","));
  for (const std::string& item : items) {
    const std::size_t equals = item.find('=');
    const std::string kind = item.substr(0, equals);
    int index = 0;
    while (index < kNumSampleKinds && kind != sample_kind_name(static_cast<SampleKind>(index)))
      ++index;
    if (equals == std::string::npos || index == kNumSampleKinds)
      throw refuse("'" + item + "' is not a kind=share pair");
    const std::string share_text = item.substr(equals + 1);
    double share = 0;
    const auto [end, error] =
        std::from_chars(share_text.data(), share_text.data() + share_text.size(), share);
    if (error != std::errc() || end != share_text.data() + share_text.size() ||
        !std::isfinite(share) || share < 0)
      throw refuse("'" + share_text + "' is not a share for " + kind);
    *shares[index] = share;
    total += share;
  }
  if (total <= 0) throw refuse("'" + text + "' gives every kind share 0");
  return mix;
}

uint64_t mix_seed(uint64_t seed, uint64_t position) {
  return splitmix64(splitmix64(seed) ^ splitmix64(position + 0x632be59bd9b4e019ULL));
}

std::vector<Layer> unique_layers(const std::vector<Layer>& layers) {
  std::vector<Layer> unique;
  std::set<std::string> seen;
  for (Layer layer : layers) {
    if (!seen.insert(layer_key(layer)).second) continue;
    layer.repeat = 1;
    layer.count = 1;
    unique.push_back(layer);
  }
  return unique;
}

std::vector<Layer> random_layers(int64_t count, uint64_t seed) {
  std::mt19937_64 rng(mix_seed(seed, kRandomLayerStream));
  using Generator = Layer (*)(const std::string&, std::mt19937_64&);
  const std::vector<Generator> generators = {random_conv, random_depthwise, random_gemm,
                                             random_matmul};
  const std::vector<double> shares = {0.45, 0.15, 0.25, 0.15};
  std::vector<Layer> layers;
  for (int64_t n = 0; n < count; ++n)
    layers.push_back(pick(generators, shares, rng)("random_" + std::to_string(n), rng));
  return layers;
}

SampleSpace make_sample_space(std::vector<ArchSpec> archs, const std::vector<Layer>& layers,
                              const SampleMix& mix, uint64_t seed, std::ostream& warnings) {
  SampleSpace space;
  space.archs = std::move(archs);
  space.mix = mix;
  space.seed = seed;
  space.fitting_layers.resize(space.archs.size());
  for (const Layer& layer : unique_layers(layers)) {
    std::vector<int> archs_fitting;
    for (std::size_t a = 0; a < space.archs.size(); ++a) {
      if (fits_arch(layer, space.archs[a])) {
        archs_fitting.push_back(static_cast<int>(a));
      } else {
        warnings << "dcp: warning: layer " << layer.name << " (" << layer_key(layer)
                 << ") does not fit arch " << space.archs[a].name << " even with 1-element tiles;"
                 << " skipped\n";
      }
    }
    if (archs_fitting.empty()) continue;
    for (const int a : archs_fitting)
      space.fitting_layers[a].push_back(static_cast<int>(space.layers.size()));
    space.layers.push_back(layer);
  }
  for (std::size_t a = 0; a < space.archs.size(); ++a) {
    if (space.fitting_layers[a].empty())
      throw InputError(space.archs[a].source, "", "no layer fits this arch",
                       "an arch whose buffers hold at least 1-element tiles");
  }
  return space;
}

Sample draw_sample(const SampleSpace& space, int64_t index) {
  std::mt19937_64 rng(mix_seed(space.seed, static_cast<uint64_t>(index)));
  Sample sample;
  sample.index = index;
  sample.arch =
      std::uniform_int_distribution<int>(0, static_cast<int>(space.archs.size()) - 1)(rng);
  const std::vector<int>& fitting = space.fitting_layers[sample.arch];
  sample.layer = fitting[std::uniform_int_distribution<std::size_t>(0, fitting.size() - 1)(rng)];
  const SampleMix& mix = space.mix;
  sample.kind =
      pick<SampleKind>({SampleKind::Random, SampleKind::Code, SampleKind::Fixed,
                        SampleKind::Neighbour, SampleKind::Grown, SampleKind::Jump},
                       {mix.random, mix.code, mix.fixed, mix.neighbour, mix.grown, mix.jump}, rng);
  const Layer& layer = space.layers[sample.layer];
  const ArchSpec& arch = space.archs[sample.arch];
  sample.dataflow = draw_dataflow(sample.kind, layer, arch, rng);
  sample.dataflow.name = "sample_" + std::to_string(index);
  const std::vector<std::string> violations = legality_violations(layer, arch, sample.dataflow);
  if (!violations.empty())
    throw std::logic_error("sample " + std::to_string(index) + " (" +
                           sample_kind_name(sample.kind) + ") of layer " + layer.name +
                           " is illegal: " + violations.front());
  return sample;
}

Dataflow grown_dataflow(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng) {
  constexpr int kGrowthAttempts = 32;
  Dataflow dataflow = decode_dataflow(layer, arch, random_code(layer, arch, rng));
  std::uniform_int_distribution<int> pick_level(0, kNumLevels - 1), pick_gene(0, kNumDims);
  for (int attempt = 0; attempt < kGrowthAttempts; ++attempt) {
    Dataflow grown = dataflow;
    const int level = pick_level(rng);
    const int gene = pick_gene(rng);  // a dim's tile, or kNumDims for a fan-out
    LevelMapping& mapping = grown.levels[level];
    if (gene == kNumDims) {
      mapping.fanout[std::uniform_int_distribution<int>(0, kNumDims - 1)(rng)] *= 2;
    } else {
      const int64_t parent = parent_tile(grown, level, layer.dims())[gene];
      mapping.tile[gene] = std::min(parent, mapping.tile[gene] * 2);
    }
    if (!(grown == dataflow) && legality_violations(layer, arch, grown).empty()) dataflow = grown;
  }
  return dataflow;
}

Dataflow neighbour_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& start,
                            std::mt19937_64& rng) {
  Dataflow neighbour = start;
  for (int attempt = 0; attempt < kNeighbourAttempts && neighbour == start; ++attempt) {
    neighbour = start;
    mutate_one_gene(neighbour, rng);
    repair_dataflow(layer, arch, neighbour);
  }
  return neighbour;
}

namespace {

// jump_dataflow's change to the spatial map of `level`: `dim` alone, or joining or leaving the map.
void jump_spatial_map(const Layer& layer, const ArchSpec& arch, int level, Dim dim,
                      Dataflow& dataflow, std::mt19937_64& rng) {
  LevelMapping& mapping = dataflow.levels[level];
  const int d = dim_index(dim);
  int64_t units = units_at_level(arch, dataflow, level);
  if (level == 0) {
    // L2 spreads over the PEs the L1 fan-out leaves, all of them when that is reset to 1.
    if (chance(0.5, rng)) dataflow.levels[1].fanout = kUnitDims;
    units /= dataflow.levels[1].units();
  }
  const bool alone = chance(0.5, rng);
  if (!alone && mapping.fanout[d] > 1) {
    mapping.fanout[d] = 1;  // the dim leaves the map; the others keep their units
    return;
  }
  // All, a half or a quarter of the units go to the dim, alone or with the other dims of the map
  // halving (the widest first) until they fit in the rest.
  const int64_t fanout =
      std::max<int64_t>(1, units >> std::uniform_int_distribution<int>(0, 2)(rng));
  if (alone) mapping.fanout = kUnitDims;
  while (fanout * mapping.units() > units) {
    int64_t& widest = mapping.fanout[dim_index(mapping.main_spatial_dim())];
    widest = std::max<int64_t>(1, widest / 2);
  }
  // The tile grows to give every unit a share; the sub-tile is that share.
  mapping.fanout[d] = fanout;
  mapping.tile[d] =
      std::min(parent_tile(dataflow, level, layer.dims())[d], std::max(mapping.tile[d], fanout));
  if (level + 1 < kNumLevels)
    dataflow.levels[level + 1].tile[d] = (mapping.tile[d] + fanout - 1) / fanout;
}

}  // namespace

Dataflow jump_dataflow(const Layer& layer, const ArchSpec& arch, const Dataflow& start,
                       std::mt19937_64& rng) {
  Dataflow dataflow = start;
  const int level = std::uniform_int_distribution<int>(0, kNumLevels - 1)(rng);
  const Dim dim = kAllDims[std::uniform_int_distribution<int>(0, kNumDims - 1)(rng)];
  if (chance(0.5, rng)) {
    jump_spatial_map(layer, arch, level, dim, dataflow, rng);
  } else {
    const int64_t parent = parent_tile(dataflow, level, layer.dims())[dim_index(dim)];
    const double log_tile =
        std::uniform_real_distribution<double>(0, std::log2(static_cast<double>(parent)))(rng);
    dataflow.levels[level].tile[dim_index(dim)] =
        std::clamp<int64_t>(std::llround(std::exp2(log_tile)), 1, parent);
  }
  repair_dataflow(layer, arch, dataflow);
  return dataflow;
}

}  // namespace dcp
