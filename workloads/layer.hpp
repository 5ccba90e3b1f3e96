#pragma once
// The problem description: one layer as a 7-D loop nest (K, C, Y, X, R, S, N) plus its type, and a
// network as an ordered list of layers. Y and X are *output* rows and columns; the input size
// follows from stride and padding. Nothing here knows about hardware or dataflows.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor.hpp"

namespace dcp {

// Loop dimensions, MAESTRO/DCP naming. K: output channels, C: input channels per group,
// Y/X: output rows/cols, R/S: filter rows/cols, N: the batch (inputs and outputs depend on it,
// weights do not, so a weight tile is reused across the batch).
enum class Dim { K = 0, C = 1, Y = 2, X = 3, R = 4, S = 5, N = 6 };
constexpr int kNumDims = 7;
using DimArray = std::array<int64_t, kNumDims>;
constexpr std::array<Dim, kNumDims> kAllDims = {Dim::K, Dim::C, Dim::Y, Dim::X,
                                                Dim::R, Dim::S, Dim::N};
// Every dim 1: a single element, or no spatial split.
constexpr DimArray kUnitDims = {1, 1, 1, 1, 1, 1, 1};

inline int dim_index(Dim dim) {
  return static_cast<int>(dim);
}
char dim_letter(Dim dim);  // 'K', 'C', ...
// Parses "K".."S"; returns false on anything else.
bool parse_dim(const std::string& text, Dim& dim);

// Timeloop's names: M (=K), C, P (=Y), Q (=X), R, S, N.
char timeloop_letter(Dim dim);
bool parse_timeloop_dim(char letter, Dim& dim);

// conv covers grouped convolution (groups > 1); dwconv is the groups == channels case;
// gemm is an FC layer or a linear projection; matmul is an attention matmul whose second
// operand is an activation (it takes the weight slot of the loop nest).
enum class LayerType { Conv, DepthwiseConv, Gemm, Matmul };
const char* layer_type_name(LayerType type);  // "conv", "dwconv", "gemm", "matmul"

struct Layer {
  std::string name;
  LayerType type = LayerType::Conv;
  int64_t K = 1;  // output channels (gemm: output features)
  int64_t C = 1;  // input channels *per group* (gemm: input features)
  int64_t Y = 1;  // output rows (gemm: tokens / rows of the output)
  int64_t X = 1;  // output cols
  int64_t R = 1;  // filter rows
  int64_t S = 1;  // filter cols
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t groups = 1;  // K and C*groups are both divisible by groups
  int64_t N = 1;       // batch: inputs and outputs per sample, weights shared (Dim::N)
  int64_t repeat = 1;  // independent instances (attention heads); cost scales linearly
  int64_t count = 1;   // identical occurrences in the network; network totals multiply by it
  int64_t in_h = 1;    // input rows, before padding
  int64_t in_w = 1;    // input cols, before padding

  DimArray dims() const { return {K, C, Y, X, R, S, N}; }
  int64_t dim(Dim d) const { return dims()[dim_index(d)]; }
  int64_t output_channels_per_group() const { return K / groups; }
  int64_t input_channels() const { return C * groups; }
  // MACs of the whole batch and all repeats.
  int64_t macs() const;
  // Elements of each whole tensor for one repeat and the whole batch (input counts the unpadded
  // tensor; a matmul's second operand, an activation, has one copy per sample).
  int64_t tensor_elements(Tensor tensor) const;
};

// Whether `tensor` depends on loop dim `dim` (input depends on K only for grouped layers).
bool tensor_uses_dim(const Layer& layer, Tensor tensor, Dim dim);
// The dims `tensor` depends on, bit dim_index(d) set for each: tensor_uses_dim for every dim at
// once, for loops that test many dims per step.
using DimMask = uint32_t;
// Inline: the schedule compiler asks it for every tile comparison.
inline DimMask tensor_dim_mask(const Layer& layer, Tensor tensor) {
  const auto bit = [](Dim dim) { return DimMask{1} << dim_index(dim); };
  switch (tensor) {
    case Tensor::Input:
      // Every dim but K, and K too for grouped layers (it picks the group's channels).
      return bit(Dim::C) | bit(Dim::Y) | bit(Dim::X) | bit(Dim::R) | bit(Dim::S) | bit(Dim::N) |
             (layer.groups > 1 ? bit(Dim::K) : 0);
    case Tensor::Weight:
      // A matmul's second operand is an activation, one per sample.
      return bit(Dim::K) | bit(Dim::C) | bit(Dim::R) | bit(Dim::S) |
             (layer.type == LayerType::Matmul ? bit(Dim::N) : 0);
    case Tensor::Output:
      return bit(Dim::K) | bit(Dim::Y) | bit(Dim::X) | bit(Dim::N);
  }
  return (DimMask{1} << kNumDims) - 1;
}

// Builds a conv/dwconv layer from its input size, computing Y and X. Throws InputError (naming
// `source` and the layer) if the output would be empty or the channel/group counts don't divide.
Layer make_conv(const std::string& source, const std::string& name, int64_t in_channels,
                int64_t out_channels, int64_t in_h, int64_t in_w, int64_t kernel_h,
                int64_t kernel_w, int64_t stride, int64_t pad, int64_t groups);
// rows x in_features times in_features x out_features.
Layer make_gemm(const std::string& name, LayerType type, int64_t rows, int64_t in_features,
                int64_t out_features, int64_t repeat);
// The GEMM that im2col makes of a convolution, as SCALE-Sim and GEMM engines see one: rows are
// the output pixels (Y x X), in_features one group's C x R x S, out_features one group's filters,
// and each group is a repeat. Its input is the im2col matrix, so it holds every input pixel once
// per filter tap that reads it. Batch and count carry over; gemm and matmul layers are returned
// unchanged. Throws InputError naming the layer when a lowered size leaves the allowed range.
Layer lower_to_im2col(const Layer& layer);

struct Network {
  std::string name;
  int64_t batch = 1;        // every layer's N (model YAML `batch`, or the CLI's override)
  std::string source;       // file it was loaded from
  int64_t stated_macs = 0;  // total the model file states (published figure)
  std::vector<Layer> layers;
  int64_t macs() const;  // sum of layer.macs() * layer.count
};

// Loads a model YAML (see workloads/README.md for the schema). Errors are InputErrors naming
// the file and the field (e.g. "layers[3].K").
Network load_network(const std::string& path);
// Largest batch a network or layer accepts.
constexpr int64_t kMaxBatch = 1 << 16;
// Sets every layer's N (the network's batch). Throws InputError naming `source` for a batch
// outside 1..kMaxBatch.
void set_batch(Network& network, int64_t batch, const std::string& source);
// "path/to/net.yaml:layer_name" -> that layer. Throws InputError naming the file if absent.
Layer load_layer_ref(const std::string& reference);

}  // namespace dcp
