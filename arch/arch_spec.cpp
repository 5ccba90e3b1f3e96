#include "arch/arch_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "arch/arch_fields.hpp"
#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

using namespace arch_limits;

// A nested map of the schema (array, buffers, bandwidth, dram, energy) with its location for
// errors.
struct Section {
  YAML::Node node;
  FieldPath where;
};

// `known_keys` defaults to the keys the field table puts in section `key`.
Section open_section(const YAML::Node& parent, const std::string& key,
                     const FieldPath& parent_where,
                     const std::vector<std::string>& known_keys = {}) {
  Section section{parent[key], parent_where.child(key)};
  // yaml-cpp throws its own InvalidNode when asked the type of an absent key, so absence is
  // reported here first.
  if (!section.node.IsDefined()) section.where.fail("missing required field");
  require_map(section.node, section.where);
  require_known_keys(section.node, section.where,
                     known_keys.empty() ? arch_yaml_keys(key) : known_keys);
  return section;
}

// One Plain field in its range; a buffer's minimum is one word.
void read_value(const Section& section, const std::string& key, const ArchField& field,
                const ArchSpec& arch, int64_t& value) {
  const int64_t min = field.at_least_one_word ? arch.word_bytes : static_cast<int64_t>(field.min);
  value = read_int(section.node, key, section.where, min, static_cast<int64_t>(field.max));
}
void read_value(const Section& section, const std::string& key, const ArchField& field,
                const ArchSpec&, double& value) {
  value = read_double(section.node, key, section.where, field.min, field.max);
}
void read_value(const Section& section, const std::string& key, const ArchField&, const ArchSpec&,
                bool& value) {
  value = read_bool(section.node, key, section.where);
}
void read_value(const Section& section, const std::string& key, const ArchField&, const ArchSpec&,
                std::string& value) {
  value = read_string(section.node, key, section.where);
}

// The table's Plain fields of `section`, in table order (arch_fields.hpp).
void read_plain_fields(const Section& section, const std::string& section_name, ArchSpec& arch) {
  visit_arch_fields(arch, [&](const ArchField& field, auto& value) {
    if (field.coding == ArchYaml::Plain && arch_yaml_section(field) == section_name)
      read_value(section, arch_yaml_key(field), field, arch, value);
  });
}

// The PE count follows from the array shape; an explicit num_pes is optional and only
// cross-checks the shape, so a preset can state the headline figure without risking drift.
void read_array_shape(const YAML::Node& root, const FieldPath& where, ArchSpec& arch) {
  const Section array = open_section(root, "array", where);
  arch.array_rows = read_int(array.node, "rows", array.where, 1, kMaxPes);
  arch.array_cols = read_int(array.node, "cols", array.where, 1, kMaxPes);
  arch.num_pes = arch.array_rows * arch.array_cols;
  if (arch.num_pes > kMaxPes) {
    array.where.fail("rows * cols = " + std::to_string(arch.num_pes) + " PEs",
                     "rows * cols in 1.." + std::to_string(kMaxPes));
  }
  const int64_t stated_pes = read_int(root, "num_pes", where, 1, kMaxPes, arch.num_pes);
  if (stated_pes != arch.num_pes) {
    where.child("num_pes").fail(
        "is " + std::to_string(stated_pes) + " but array.rows * array.cols = " +
            std::to_string(arch.array_rows) + " * " + std::to_string(arch.array_cols),
        "exactly " + std::to_string(arch.num_pes) + ", or omit it");
  }
}

constexpr const char* kTensorList = "a list of input, weight, output";

// A list of tensor names, each at most once.
TensorFlags read_tensor_list(const YAML::Node& node, const FieldPath& where) {
  require_sequence(node, where);
  TensorFlags flags{};
  for (std::size_t i = 0; i < node.size(); ++i) {
    Tensor tensor = Tensor::Input;
    const std::string text = node[i].IsScalar() ? node[i].Scalar() : "";
    if (!parse_tensor(text, tensor))
      where.index(i).fail("'" + text + "' is not a tensor", kTensorList);
    if (flag_of(flags, tensor)) where.index(i).fail("'" + text + "' is listed twice", kTensorList);
    flags[static_cast<int>(tensor)] = true;
  }
  return flags;
}

// `double_buffered: true|false` applies to every tensor; a list names the tensors that are.
TensorFlags read_double_buffered(const YAML::Node& root, const FieldPath& where) {
  const YAML::Node node = root["double_buffered"];
  // A missing key is a zombie node whose type yaml-cpp refuses to tell: ask IsDefined first.
  if (!node.IsDefined())
    where.child("double_buffered")
        .fail("missing required field", "true, false or " + std::string(kTensorList));
  if (node.IsSequence()) return read_tensor_list(node, where.child("double_buffered"));
  const bool all = read_bool(root, "double_buffered", where);
  return {all, all, all};
}

// L0 is one buffer (`l0_bytes: 512`) or one scratchpad per tensor (`l0_bytes: {input: 24, ...}`).
// Every tensor needs its own L0 space when partitioned: the MACs read operands and accumulate
// partial sums there, so a missing partition would leave that tensor nowhere.
void read_l0(const YAML::Node& buffers, const FieldPath& where, ArchSpec& arch) {
  const YAML::Node l0 = buffers["l0_bytes"];
  if (!l0.IsDefined() || !l0.IsMap()) {
    arch.l0_bytes = read_int(buffers, "l0_bytes", where, arch.word_bytes, kMaxL0Bytes);
    return;
  }
  const Section partitions =
      open_section(buffers, "l0_bytes", where, {"input", "weight", "output"});
  arch.l0_bytes = 0;
  for (Tensor tensor : kAllTensors) {
    const int64_t bytes = read_int(partitions.node, tensor_name(tensor), partitions.where,
                                   arch.word_bytes, kMaxL0Bytes);
    arch.l0_partition_bytes[static_cast<int>(tensor)] = bytes;
    arch.l0_bytes += bytes;
  }
}

// The composite fields of `buffers:` (l0_bytes and the bypass lists) around its plain sizes.
// Every level must hold at least one word, which is why word_bytes is read before this.
void read_buffers(const YAML::Node& root, const FieldPath& where, ArchSpec& arch) {
  const Section buffers = open_section(root, "buffers", where);
  read_l0(buffers.node, buffers.where, arch);
  read_plain_fields(buffers, "buffers", arch);
  if (buffers.node["l2_bypass"].IsDefined())
    arch.l2_bypass = read_tensor_list(buffers.node["l2_bypass"], buffers.where.child("l2_bypass"));
  if (buffers.node["l1_bypass"].IsDefined()) {
    const FieldPath field = buffers.where.child("l1_bypass");
    arch.l1_bypass = read_tensor_list(buffers.node["l1_bypass"], field);
    // Partial sums are reduced and drained through the cluster buffer; only operands can be
    // delivered straight into the PEs.
    if (flag_of(arch.l1_bypass, Tensor::Output))
      field.fail("output cannot bypass L1", "a list of input, weight");
  }
}

// An integer field in [min_value, max_value] that must also be a power of two (the DRAM address
// mapping takes banks, rows and bursts as bit fields).
int64_t read_power_of_two(const Section& section, const std::string& key, int64_t min_value,
                          int64_t max_value) {
  const int64_t value = read_int(section.node, key, section.where, min_value, max_value);
  if ((value & (value - 1)) != 0) {
    section.where.child(key).fail(
        std::to_string(value) + " is not a power of two",
        "a power of two in " + std::to_string(min_value) + ".." + std::to_string(max_value));
  }
  return value;
}

// Optional: without it the channel is ideal (DramTiming's defaults). With it, every field is
// required, so a preset cannot silently mix its numbers with the ideal channel's. The geometry
// is checked here; the timings are the table's plain fields.
void read_dram_timing(const YAML::Node& root, const FieldPath& where, ArchSpec& arch) {
  DramTiming& dram = arch.dram;
  if (!root["dram"].IsDefined()) return;
  const Section section = open_section(root, "dram", where);
  dram.banks = read_power_of_two(section, "banks", 1, kMaxDramBanks);
  dram.row_bytes = read_power_of_two(section, "row_bytes", kMinRowBytes, kMaxRowBytes);
  // A burst never straddles a row, so the row is a whole number of bursts.
  dram.burst_bytes = read_power_of_two(section, "burst_bytes", 1, dram.row_bytes);
  read_plain_fields(section, "dram", arch);
}

}  // namespace

ArchSpec load_arch(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath where{path, ""};
  require_map(root, where);
  require_known_keys(root, where, arch_yaml_keys(""));

  ArchSpec arch;
  arch.source = path;
  arch.name = read_string(root, "name", where);
  if (arch.name.empty()) where.child("name").fail("is empty", "a non-empty name");
  read_array_shape(root, where, arch);
  read_plain_fields({root, where}, "", arch);
  arch.double_buffered = read_double_buffered(root, where);
  read_buffers(root, where, arch);
  read_plain_fields(open_section(root, "bandwidth", where), "bandwidth", arch);
  read_dram_timing(root, where, arch);
  read_plain_fields(open_section(root, "energy", where), "energy", arch);
  return arch;
}

}  // namespace dcp
