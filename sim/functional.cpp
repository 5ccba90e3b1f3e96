// Functional mode: the same tile enumeration the schedule compiler uses (LevelSplit), carried
// all the way down to single MACs on real values, so a dataflow that drops or repeats work shows
// up as a wrong output or a duplicated MAC.
#include <random>
#include <vector>

#include "common/input_error.hpp"
#include "sim/evaluate.hpp"
#include "sim/schedule.hpp"

namespace dcp {
namespace {

using sim::LevelSplit;
using sim::TileRange;

struct Tensors {
  std::vector<int64_t> input;   // [n][channel][row][col], unpadded
  std::vector<int64_t> weight;  // [k][c][r][s]; a matmul's activation operand: [n][k][c][r][s]
  std::vector<int64_t> output;  // [n][k][y][x]
};

// Offsets of one sample's slice of each tensor.
struct SampleOffsets {
  int64_t input = 0, weight = 0, output = 0;
  SampleOffsets(const Layer& l, int64_t n)
      : input(n * l.input_channels() * l.in_h * l.in_w),
        weight(l.type == LayerType::Matmul ? n * l.K * l.C * l.R * l.S : 0),
        output(n * l.K * l.Y * l.X) {}
};

class MacExecutor {
 public:
  MacExecutor(const Layer& layer, Tensors& tensors) : layer_(layer), tensors_(tensors) {
    visited_.assign(static_cast<std::size_t>(layer.macs() / layer.repeat), false);
  }

  // All MACs of one lane's tile.
  void run_tile(const TileRange& tile) {
    const DimArray& o = tile.origin;
    const DimArray& n = tile.size;
    for (int64_t b = o[6]; b < o[6] + n[6]; ++b) {
      const SampleOffsets sample(layer_, b);
      for (int64_t k = o[0]; k < o[0] + n[0]; ++k)
        for (int64_t c = o[1]; c < o[1] + n[1]; ++c)
          for (int64_t y = o[2]; y < o[2] + n[2]; ++y)
            for (int64_t x = o[3]; x < o[3] + n[3]; ++x)
              for (int64_t r = o[4]; r < o[4] + n[4]; ++r)
                for (int64_t s = o[5]; s < o[5] + n[5]; ++s) mac(sample, b, k, c, y, x, r, s);
    }
  }

  int64_t performed = 0;
  int64_t duplicated = 0;

 private:
  void mac(const SampleOffsets& sample, int64_t b, int64_t k, int64_t c, int64_t y, int64_t x,
           int64_t r, int64_t s) {
    const Layer& l = layer_;
    const std::size_t point = static_cast<std::size_t>(
        (((((b * l.K + k) * l.C + c) * l.Y + y) * l.X + x) * l.R + r) * l.S + s);
    ++performed;
    if (visited_[point]) ++duplicated;
    visited_[point] = true;
    const int64_t row = y * l.stride + r - l.pad, col = x * l.stride + s - l.pad;
    if (row < 0 || row >= l.in_h || col < 0 || col >= l.in_w) return;  // zero padding
    const int64_t channel = (k / l.output_channels_per_group()) * l.C + c;
    tensors_.output[sample.output + (k * l.Y + y) * l.X + x] +=
        tensors_.input[sample.input + (channel * l.in_h + row) * l.in_w + col] *
        tensors_.weight[sample.weight + ((k * l.C + c) * l.R + r) * l.S + s];
  }

  const Layer& layer_;
  Tensors& tensors_;
  std::vector<bool> visited_;
};

// Calls visit(unit_tile) for every unit of every temporal step of `split` over `parent`.
template <typename Visit>
void for_each_unit_tile(const LevelSplit& split, const TileRange& parent, Visit&& visit) {
  const DimArray trips = split.trips(parent.size);
  DimArray index{};
  do {
    for (int64_t unit = 0; unit < split.units(); ++unit) {
      TileRange tile;
      if (split.unit_range(parent, index, unit, tile)) visit(tile);
    }
  } while (split.next_index(trips, index));
}

Tensors random_tensors(const Layer& layer, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<int64_t> value(-8, 8);
  Tensors tensors;
  tensors.input.resize(static_cast<std::size_t>(layer.tensor_elements(Tensor::Input)));
  tensors.weight.resize(static_cast<std::size_t>(layer.tensor_elements(Tensor::Weight)));
  tensors.output.assign(static_cast<std::size_t>(layer.tensor_elements(Tensor::Output)), 0);
  for (int64_t& element : tensors.input) element = value(generator);
  for (int64_t& element : tensors.weight) element = value(generator);
  return tensors;
}

std::vector<int64_t> reference_convolution(const Layer& layer, const Tensors& tensors) {
  std::vector<int64_t> output(tensors.output.size(), 0);
  const Layer& l = layer;
  for (int64_t b = 0; b < l.N; ++b) {
    const SampleOffsets sample(l, b);
    for (int64_t k = 0; k < l.K; ++k)
      for (int64_t y = 0; y < l.Y; ++y)
        for (int64_t x = 0; x < l.X; ++x) {
          int64_t sum = 0;
          for (int64_t c = 0; c < l.C; ++c) {
            const int64_t channel = (k / l.output_channels_per_group()) * l.C + c;
            for (int64_t r = 0; r < l.R; ++r)
              for (int64_t s = 0; s < l.S; ++s) {
                const int64_t row = y * l.stride + r - l.pad, col = x * l.stride + s - l.pad;
                if (row < 0 || row >= l.in_h || col < 0 || col >= l.in_w) continue;
                sum += tensors.input[sample.input + (channel * l.in_h + row) * l.in_w + col] *
                       tensors.weight[sample.weight + ((k * l.C + c) * l.R + r) * l.S + s];
              }
          }
          output[sample.output + (k * l.Y + y) * l.X + x] = sum;
        }
  }
  return output;
}

}  // namespace

FunctionalReport run_functional(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                                uint64_t seed, int64_t max_macs) {
  require_legal(layer, arch, dataflow, "dataflow");
  const int64_t instance_macs = layer.macs() / layer.repeat;
  if (instance_macs > max_macs)
    throw InputError(layer.name, "functional check",
                     "layer has " + std::to_string(instance_macs) + " MACs per instance",
                     "at most " + std::to_string(max_macs));
  Tensors tensors = random_tensors(layer, seed);
  MacExecutor executor(layer, tensors);
  const LevelSplit l2_split = LevelSplit::below(dataflow, 0);
  const LevelSplit l1_split = LevelSplit::below(dataflow, 1);
  const LevelSplit l0_split = LevelSplit::below(dataflow, 2);
  const LevelSplit lane_split = LevelSplit::lanes(dataflow);

  TileRange whole_layer;
  whole_layer.size = layer.dims();
  for_each_unit_tile(l2_split, whole_layer, [&](const TileRange& l2_tile) {
    for_each_unit_tile(l1_split, l2_tile, [&](const TileRange& cluster_tile) {
      for_each_unit_tile(l0_split, cluster_tile, [&](const TileRange& pe_tile) {
        for_each_unit_tile(lane_split, pe_tile,
                           [&](const TileRange& lane) { executor.run_tile(lane); });
      });
    });
  });

  FunctionalReport report;
  report.macs_performed = executor.performed;
  report.macs_expected = instance_macs;
  report.duplicated_macs = executor.duplicated;
  const std::vector<int64_t> expected = reference_convolution(layer, tensors);
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (expected[i] != tensors.output[i]) ++report.mismatched_outputs;
  report.outputs_match = report.mismatched_outputs == 0;
  return report;
}

}  // namespace dcp
