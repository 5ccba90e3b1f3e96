#include "workloads/layer.hpp"

#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "common/input_error.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

constexpr std::string_view kDimLetters = "KCYXRSN";
constexpr std::string_view kTimeloopLetters = "MCPQRSN";
constexpr std::array<LayerType, 4> kAllLayerTypes = {LayerType::Conv, LayerType::DepthwiseConv,
                                                     LayerType::Gemm, LayerType::Matmul};

// One bound for every size-like field (channels, spatial sizes, kernel, stride, pad, repeat,
// count). It admits any real network and keeps sums such as in_h + 2*pad far from overflow;
// products of several sizes can still overflow, which macs() and tensor_elements() check.
constexpr int64_t kMaxSize = int64_t{1} << 20;

bool parse_letter(std::string_view letters, char letter, Dim& dim) {
  const std::size_t position = letters.find(letter);
  if (position == std::string_view::npos) return false;
  dim = kAllDims[position];
  return true;
}

// `quantity` is a literal so that the common, non-overflowing call builds no strings.
int64_t checked_product(std::initializer_list<int64_t> factors, const std::string& source,
                        const char* quantity) {
  int64_t product = 1;
  for (const int64_t factor : factors) {
    if (__builtin_mul_overflow(product, factor, &product)) {
      throw InputError(source, quantity, "exceeds the int64 range");
    }
  }
  return product;
}

std::string size_range(int64_t min_value) {
  return std::to_string(min_value) + ".." + std::to_string(kMaxSize);
}

// make_conv and make_gemm are public, so they check their arguments themselves; the YAML
// loader has already range-checked the same values with read_int, naming the YAML field.
void check_sizes(const FieldPath& where,
                 std::initializer_list<std::tuple<const char*, int64_t, int64_t>> fields) {
  for (const auto& [field, value, min_value] : fields) {
    if (value < min_value || value > kMaxSize) {
      where.child(field).fail(std::to_string(value) + " is out of range", size_range(min_value));
    }
  }
}

// make_conv with the error location spelled out, so the loader can report "layers[3]" while
// direct callers get the layer name.
Layer build_conv(const FieldPath& where, const std::string& name, int64_t in_channels,
                 int64_t out_channels, int64_t in_h, int64_t in_w, int64_t kernel_h,
                 int64_t kernel_w, int64_t stride, int64_t pad, int64_t groups) {
  check_sizes(where, {{"in_channels", in_channels, 1},
                      {"out_channels", out_channels, 1},
                      {"in_h", in_h, 1},
                      {"in_w", in_w, 1},
                      {"kernel_h", kernel_h, 1},
                      {"kernel_w", kernel_w, 1},
                      {"stride", stride, 1},
                      {"pad", pad, 0},
                      {"groups", groups, 1}});
  if (in_channels % groups != 0 || out_channels % groups != 0) {
    where.child("groups").fail(std::to_string(groups) + " does not divide in_channels (" +
                                   std::to_string(in_channels) + ") and out_channels (" +
                                   std::to_string(out_channels) + ")",
                               "common divisors of in_channels and out_channels");
  }
  const auto output_extent = [&](const char* input_field, int64_t input, const char* kernel_field,
                                 int64_t kernel) {
    if (input + 2 * pad < kernel) {
      where.fail(std::string(kernel_field) + " " + std::to_string(kernel) + " exceeds " +
                     input_field + " " + std::to_string(input) + " plus padding " +
                     std::to_string(2 * pad) + ", so the output is empty",
                 std::string(input_field) + " >= " + std::to_string(kernel - 2 * pad));
    }
    return (input + 2 * pad - kernel) / stride + 1;
  };

  Layer layer;
  layer.name = name;
  const bool depthwise = groups > 1 && groups == in_channels && groups == out_channels;
  layer.type = depthwise ? LayerType::DepthwiseConv : LayerType::Conv;
  layer.K = out_channels;
  layer.C = in_channels / groups;
  layer.Y = output_extent("in_h", in_h, "kernel_h", kernel_h);
  layer.X = output_extent("in_w", in_w, "kernel_w", kernel_w);
  layer.R = kernel_h;
  layer.S = kernel_w;
  layer.stride = stride;
  layer.pad = pad;
  layer.groups = groups;
  layer.in_h = in_h;
  layer.in_w = in_w;
  return layer;
}

std::vector<std::string> layer_type_names() {
  std::vector<std::string> names;
  for (const LayerType type : kAllLayerTypes) names.emplace_back(layer_type_name(type));
  return names;
}

LayerType parse_layer_type(const std::string& text) {
  for (const LayerType type : kAllLayerTypes) {
    if (text == layer_type_name(type)) return type;
  }
  throw std::invalid_argument("unknown layer type " + text);
}

std::vector<std::string> layer_fields(LayerType type) {
  std::vector<std::string> fields = {"name", "type", "repeat", "count"};
  const std::initializer_list<std::string> spatial = {"in_h",     "in_w",   "kernel", "kernel_h",
                                                      "kernel_w", "stride", "pad"};
  switch (type) {
    case LayerType::Conv:
      fields.insert(fields.end(), {"in_channels", "out_channels", "groups"});
      fields.insert(fields.end(), spatial);
      break;
    case LayerType::DepthwiseConv:
      fields.push_back("channels");
      fields.insert(fields.end(), spatial);
      break;
    case LayerType::Gemm:
    case LayerType::Matmul:
      fields.insert(fields.end(), {"rows", "in_features", "out_features"});
      break;
  }
  return fields;
}

int64_t read_size(const YAML::Node& node, const std::string& key, const FieldPath& where,
                  int64_t min_value = 1, std::optional<int64_t> default_value = std::nullopt) {
  return read_int(node, key, where, min_value, kMaxSize, default_value);
}

Layer read_conv(const YAML::Node& node, const FieldPath& where, const std::string& name,
                LayerType type) {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t groups = 0;
  if (type == LayerType::DepthwiseConv) {
    in_channels = out_channels = groups = read_size(node, "channels", where);
  } else {
    in_channels = read_size(node, "in_channels", where);
    out_channels = read_size(node, "out_channels", where);
    groups = read_size(node, "groups", where, 1, 1);
  }
  const int64_t in_h = read_size(node, "in_h", where);
  const int64_t in_w = read_size(node, "in_w", where);
  // `kernel` is the square shorthand; kernel_h / kernel_w override it per axis.
  std::optional<int64_t> square_kernel;
  if (node["kernel"]) {
    square_kernel = read_size(node, "kernel", where);
  } else if (!node["kernel_h"] || !node["kernel_w"]) {
    where.child("kernel").fail("missing required field (or give both kernel_h and kernel_w)",
                               size_range(1));
  }
  const int64_t kernel_h = read_size(node, "kernel_h", where, 1, square_kernel);
  const int64_t kernel_w = read_size(node, "kernel_w", where, 1, square_kernel);
  const int64_t stride = read_size(node, "stride", where, 1, 1);
  const int64_t pad = read_size(node, "pad", where, 0, 0);
  return build_conv(where, name, in_channels, out_channels, in_h, in_w, kernel_h, kernel_w, stride,
                    pad, groups);
}

Layer read_layer(const YAML::Node& node, const FieldPath& where) {
  require_map(node, where);
  const LayerType type = parse_layer_type(read_choice(node, "type", where, layer_type_names()));
  require_known_keys(node, where, layer_fields(type));
  const std::string name = read_string(node, "name", where);
  // load_layer_ref splits "file:name" at the last ':', so a name must not contain one.
  if (name.empty() || name.find(':') != std::string::npos) {
    where.child("name").fail("'" + name + "' is not a usable layer name",
                             "non-empty names without ':'");
  }
  const int64_t repeat = read_size(node, "repeat", where, 1, 1);
  Layer layer;
  if (type == LayerType::Gemm || type == LayerType::Matmul) {
    const int64_t rows = read_size(node, "rows", where);
    const int64_t in_features = read_size(node, "in_features", where);
    const int64_t out_features = read_size(node, "out_features", where);
    layer = make_gemm(name, type, rows, in_features, out_features, repeat);
  } else {
    layer = read_conv(node, where, name, type);
    layer.repeat = repeat;
  }
  layer.count = read_size(node, "count", where, 1, 1);
  return layer;
}

}  // namespace

char dim_letter(Dim dim) {
  return kDimLetters[dim_index(dim)];
}

bool parse_dim(const std::string& text, Dim& dim) {
  return text.size() == 1 && parse_letter(kDimLetters, text[0], dim);
}

char timeloop_letter(Dim dim) {
  return kTimeloopLetters[dim_index(dim)];
}

bool parse_timeloop_dim(char letter, Dim& dim) {
  return parse_letter(kTimeloopLetters, letter, dim);
}

bool tensor_uses_dim(const Layer& layer, Tensor tensor, Dim dim) {
  return ((tensor_dim_mask(layer, tensor) >> dim_index(dim)) & 1u) != 0;
}

const char* layer_type_name(LayerType type) {
  constexpr std::array<const char*, kAllLayerTypes.size()> kNames = {"conv", "dwconv", "gemm",
                                                                     "matmul"};
  return kNames[static_cast<int>(type)];
}

int64_t Layer::macs() const {
  return checked_product({K, C, Y, X, R, S, N, repeat}, name, "macs");
}

int64_t Layer::tensor_elements(Tensor tensor) const {
  const char* quantity = tensor_name(tensor);
  switch (tensor) {
    case Tensor::Input:
      return checked_product({C, groups, in_h, in_w, N}, name, quantity);
    case Tensor::Weight:
      return checked_product({K, C, R, S, type == LayerType::Matmul ? N : 1}, name, quantity);
    case Tensor::Output:
      return checked_product({K, Y, X, N}, name, quantity);
  }
  throw std::invalid_argument("unknown tensor");
}

Layer make_conv(const std::string& source, const std::string& name, int64_t in_channels,
                int64_t out_channels, int64_t in_h, int64_t in_w, int64_t kernel_h,
                int64_t kernel_w, int64_t stride, int64_t pad, int64_t groups) {
  return build_conv(FieldPath{source, name}, name, in_channels, out_channels, in_h, in_w, kernel_h,
                    kernel_w, stride, pad, groups);
}

Layer make_gemm(const std::string& name, LayerType type, int64_t rows, int64_t in_features,
                int64_t out_features, int64_t repeat) {
  if (type != LayerType::Gemm && type != LayerType::Matmul) {
    throw std::invalid_argument("make_gemm needs a gemm or matmul type");
  }
  check_sizes(FieldPath{"", name}, {{"rows", rows, 1},
                                    {"in_features", in_features, 1},
                                    {"out_features", out_features, 1},
                                    {"repeat", repeat, 1}});
  Layer layer;
  layer.name = name;
  layer.type = type;
  layer.K = out_features;
  layer.C = in_features;
  layer.Y = rows;
  layer.repeat = repeat;
  layer.in_h = rows;
  return layer;
}

Layer lower_to_im2col(const Layer& layer) {
  if (layer.type != LayerType::Conv && layer.type != LayerType::DepthwiseConv) return layer;
  // Each factor is at most kMaxSize, so no product of two or three overflows int64.
  const int64_t rows = layer.Y * layer.X;
  const int64_t in_features = layer.C * layer.R * layer.S;
  const int64_t repeat = layer.repeat * layer.groups;
  // make_gemm checks them again, but under the names a gemm's fields have, not these.
  check_sizes(FieldPath{"", layer.name}, {{"im2col rows (Y x X)", rows, 1},
                                          {"im2col in_features (C x R x S)", in_features, 1},
                                          {"im2col repeat (repeat x groups)", repeat, 1}});
  Layer gemm = make_gemm(layer.name, LayerType::Gemm, rows, in_features,
                         layer.output_channels_per_group(), repeat);
  gemm.N = layer.N;
  gemm.count = layer.count;
  return gemm;
}

int64_t Network::macs() const {
  int64_t total = 0;
  for (const Layer& layer : layers) {
    const int64_t layer_total = checked_product({layer.macs(), layer.count}, source, "macs");
    if (__builtin_add_overflow(total, layer_total, &total)) {
      throw InputError(source, "macs", "exceeds the int64 range");
    }
  }
  return total;
}

Network load_network(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath where{path, ""};
  require_known_keys(root, where, {"name", "batch", "stated_macs", "stated_macs_source", "layers"});

  Network network;
  network.source = path;
  network.name = read_string(root, "name", where);
  network.stated_macs =
      read_int(root, "stated_macs", where, 0, std::numeric_limits<int64_t>::max(), 0);
  const int64_t batch = read_int(root, "batch", where, 1, kMaxBatch, 1);

  const FieldPath layers_where = where.child("layers");
  const YAML::Node layer_nodes = root["layers"];
  require_sequence(layer_nodes, layers_where);
  if (layer_nodes.size() == 0) layers_where.fail("is empty", "one or more layers");
  std::map<std::string, std::size_t> index_by_name;
  for (std::size_t i = 0; i < layer_nodes.size(); ++i) {
    Layer layer = read_layer(layer_nodes[i], layers_where.index(i));
    const auto [first, inserted] = index_by_name.emplace(layer.name, i);
    if (!inserted) {
      layers_where.index(i).child("name").fail(
          "'" + layer.name + "' is already used by layers[" + std::to_string(first->second) + "]",
          "unique layer names");
    }
    network.layers.push_back(std::move(layer));
  }
  set_batch(network, batch, path);
  return network;
}

void set_batch(Network& network, int64_t batch, const std::string& source) {
  if (batch < 1 || batch > kMaxBatch) {
    throw InputError(source, "batch", std::to_string(batch) + " is out of range",
                     "1.." + std::to_string(kMaxBatch));
  }
  network.batch = batch;
  for (Layer& layer : network.layers) layer.N = batch;
}

Layer load_layer_ref(const std::string& reference) {
  const std::size_t colon = reference.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == reference.size()) {
    throw InputError(reference, "", "not a layer reference", "<model.yaml>:<layer name>");
  }
  const std::string path = reference.substr(0, colon);
  const std::string name = reference.substr(colon + 1);
  const Network network = load_network(path);
  std::string names;
  for (const Layer& layer : network.layers) {
    if (layer.name == name) return layer;
    names += (names.empty() ? "" : ", ") + layer.name;
  }
  throw InputError(path, "", "no layer named '" + name + "'", names);
}

}  // namespace dcp
