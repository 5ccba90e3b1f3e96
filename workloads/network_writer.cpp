#include "workloads/network_writer.hpp"

#include <yaml-cpp/yaml.h>

#include <sstream>

namespace dcp {
namespace {

// Writes `key: value` unless the value is the schema's default, which keeps lines short.
void write_size(YAML::Emitter& out, const char* key, int64_t value, int64_t default_value = -1) {
  if (value == default_value) return;
  out << YAML::Key << key << YAML::Value << value;
}

void write_layer(YAML::Emitter& out, const Layer& layer) {
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << layer.name;
  out << YAML::Key << "type" << YAML::Value << layer_type_name(layer.type);
  switch (layer.type) {
    case LayerType::Conv:
    case LayerType::DepthwiseConv:
      if (layer.type == LayerType::DepthwiseConv) {
        write_size(out, "channels", layer.K);
      } else {
        write_size(out, "in_channels", layer.input_channels());
        write_size(out, "out_channels", layer.K);
      }
      write_size(out, "in_h", layer.in_h);
      write_size(out, "in_w", layer.in_w);
      if (layer.R == layer.S) {
        write_size(out, "kernel", layer.R);
      } else {
        write_size(out, "kernel_h", layer.R);
        write_size(out, "kernel_w", layer.S);
      }
      write_size(out, "stride", layer.stride, 1);
      write_size(out, "pad", layer.pad, 0);
      if (layer.type == LayerType::Conv) write_size(out, "groups", layer.groups, 1);
      break;
    case LayerType::Gemm:
    case LayerType::Matmul:
      write_size(out, "rows", layer.Y);
      write_size(out, "in_features", layer.C);
      write_size(out, "out_features", layer.K);
      break;
  }
  write_size(out, "repeat", layer.repeat, 1);
  write_size(out, "count", layer.count, 1);
  out << YAML::EndMap;
}

}  // namespace

std::vector<Layer> merge_identical_layers(const std::vector<Layer>& layers) {
  std::vector<Layer> merged;
  for (const Layer& layer : layers) {
    auto same = merged.begin();
    while (same != merged.end() && !same_loop_nest(*same, layer)) ++same;
    if (same == merged.end()) {
      merged.push_back(layer);
    } else {
      same->count += layer.count;
    }
  }
  return merged;
}

std::string network_to_yaml(const Network& network, const std::string& stated_macs_source,
                            const std::string& comment) {
  std::ostringstream text;
  std::istringstream comment_lines(comment);
  for (std::string line; std::getline(comment_lines, line);) text << "# " << line << "\n";

  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << network.name;
  if (network.batch != 1) out << YAML::Key << "batch" << YAML::Value << network.batch;
  out << YAML::Key << "stated_macs" << YAML::Value << network.stated_macs;
  if (!stated_macs_source.empty()) {
    out << YAML::Key << "stated_macs_source" << YAML::Value << YAML::DoubleQuoted
        << stated_macs_source;
  }
  out << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
  for (const Layer& layer : network.layers) write_layer(out, layer);
  out << YAML::EndSeq << YAML::EndMap;
  text << out.c_str() << "\n";
  return text.str();
}

}  // namespace dcp
