#include "workloads/timeloop_problem.hpp"

#include "common/input_error.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

// The same bound load_network puts on every size.
constexpr int64_t kMaxSize = int64_t{1} << 20;

int64_t read_instance_size(const YAML::Node& instance, const std::string& key,
                           const FieldPath& where) {
  return read_int(instance, key, where, 1, kMaxSize, 1);
}

}  // namespace

Layer load_timeloop_problem(const std::string& path, const std::string& name) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath root_where{path, ""};
  require_map(root, root_where);
  // A Timeloop input may bundle the architecture, mapping and mapper next to the problem;
  // only `problem` describes the layer.
  const FieldPath problem_where = root_where.child("problem");
  const YAML::Node problem = root["problem"];
  if (!problem) problem_where.fail("missing required field", "a Timeloop problem specification");
  require_known_keys(problem, problem_where, {"shape", "instance", "version"});

  const FieldPath where = problem_where.child("instance");
  const YAML::Node instance = problem["instance"];
  if (!instance) where.fail("missing required field", "a map of M, C, P, Q, R, S, N sizes");
  std::vector<std::string> keys;
  for (Dim dim : kAllDims) keys.emplace_back(1, timeloop_letter(dim));
  keys.insert(keys.end(), {"N", "Wstride", "Hstride", "Wdilation", "Hdilation"});
  require_known_keys(instance, where, keys);

  const auto size = [&](Dim dim) {
    return read_instance_size(instance, std::string(1, timeloop_letter(dim)), where);
  };
  const int64_t stride = read_instance_size(instance, "Wstride", where);
  const int64_t row_stride = read_instance_size(instance, "Hstride", where);
  if (row_stride != stride) {
    where.child("Hstride").fail(std::to_string(row_stride) + " differs from Wstride " +
                                    std::to_string(stride) + "; dcp layers have one stride",
                                "equal to Wstride");
  }
  for (const char* dilation_key : {"Wdilation", "Hdilation"}) {
    const int64_t dilation = read_instance_size(instance, dilation_key, where);
    if (dilation != 1) {
      where.child(dilation_key)
          .fail("dilation " + std::to_string(dilation) + " is not supported: dcp layers have none",
                "1");
    }
  }
  const int64_t rows = size(Dim::Y);
  const int64_t cols = size(Dim::X);
  const int64_t kernel_h = size(Dim::R);
  const int64_t kernel_w = size(Dim::S);
  Layer layer = make_conv(path, name, size(Dim::C), size(Dim::K), (rows - 1) * stride + kernel_h,
                          (cols - 1) * stride + kernel_w, kernel_h, kernel_w, stride, 0, 1);
  layer.N = read_instance_size(instance, "N", where);
  return layer;
}

}  // namespace dcp
