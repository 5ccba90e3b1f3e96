#include "arch/arch_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/yaml_fields.hpp"

namespace dcp {
namespace {

// Upper limits are far beyond any real design; they exist to catch unit mistakes (a size in bits,
// a bandwidth in bytes/second) and to keep products such as PEs x bytes inside int64.
constexpr int64_t kMaxPes = int64_t{1} << 20;
constexpr int64_t kMaxMacsPerPe = 1024;
constexpr int64_t kMaxWordBytes = 8;
constexpr int64_t kMaxPipelineDepth = 1024;
constexpr int64_t kMaxL0Bytes = int64_t{1} << 24;  // 16 MiB per PE
constexpr int64_t kMaxL1Bytes = int64_t{1} << 30;  // 1 GiB per cluster
constexpr int64_t kMaxL2Bytes = int64_t{1} << 36;  // 64 GiB
// A bandwidth must be strictly positive (the simulator divides by it); read_double's minimum is
// inclusive, so the floor is one byte per thousand cycles, slower than any real link.
constexpr double kMinBandwidth = 1e-3;
constexpr double kMaxBandwidth = 1e6;
constexpr int64_t kMaxDramLatency = 1'000'000;
// DRAM organisation. Ganged HBM channels give the widest real rows and bursts (16 channels of
// 2 KiB rows are 32 KiB); a row of at least 256 bytes keeps the model's work per request, one
// step per row, small for tile-sized transfers.
constexpr int64_t kMaxDramBanks = 1024;
constexpr int64_t kMinRowBytes = 256;
constexpr int64_t kMaxRowBytes = int64_t{1} << 20;
// A DRAM timing in cycles: real ones stay below 100 even at a 5 GHz core clock, so 1000 catches
// most values given in picoseconds (tRCD, tRP and CL are above 10000 ps in every standard).
constexpr int64_t kMaxDramTiming = 1000;
constexpr double kMaxEnergyPj = 1e6;

// A nested map of the schema (array, buffers, bandwidth, dram, energy) with its location for
// errors.
struct Section {
  YAML::Node node;
  FieldPath where;
};

Section open_section(const YAML::Node& parent, const std::string& key,
                     const FieldPath& parent_where, const std::vector<std::string>& known_keys) {
  Section section{parent[key], parent_where.child(key)};
  // yaml-cpp throws its own InvalidNode when asked the type of an absent key, so absence is
  // reported here first.
  if (!section.node.IsDefined()) section.where.fail("missing required field");
  require_map(section.node, section.where);
  require_known_keys(section.node, section.where, known_keys);
  return section;
}

// The PE count follows from the array shape; an explicit num_pes is optional and only
// cross-checks the shape, so a preset can state the headline figure without risking drift.
void read_array_shape(const YAML::Node& root, const FieldPath& where, ArchSpec& arch) {
  const Section array = open_section(root, "array", where, {"rows", "cols"});
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

// Every level must hold at least one word, which is why word_bytes is read before this.
void read_buffers(const YAML::Node& root, const FieldPath& where, ArchSpec& arch) {
  const Section buffers = open_section(
      root, "buffers", where, {"l0_bytes", "l1_bytes", "l2_bytes", "l1_bypass", "l2_bypass"});
  read_l0(buffers.node, buffers.where, arch);
  arch.l1_bytes = read_int(buffers.node, "l1_bytes", buffers.where, arch.word_bytes, kMaxL1Bytes);
  arch.l2_bytes = read_int(buffers.node, "l2_bytes", buffers.where, arch.word_bytes, kMaxL2Bytes);
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

void read_bandwidths(const YAML::Node& root, const FieldPath& where, ArchSpec& arch) {
  const Section bandwidth =
      open_section(root, "bandwidth", where, {"l1", "l2", "noc", "dram", "dram_latency"});
  const auto read_bandwidth = [&bandwidth](const std::string& key) {
    return read_double(bandwidth.node, key, bandwidth.where, kMinBandwidth, kMaxBandwidth);
  };
  arch.l1_bandwidth = read_bandwidth("l1");
  arch.l2_bandwidth = read_bandwidth("l2");
  arch.noc_bandwidth = read_bandwidth("noc");
  arch.dram_bandwidth = read_bandwidth("dram");
  arch.dram_latency = read_int(bandwidth.node, "dram_latency", bandwidth.where, 0, kMaxDramLatency);
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
// required, so a preset cannot silently mix its numbers with the ideal channel's.
void read_dram_timing(const YAML::Node& root, const FieldPath& where, DramTiming& dram) {
  if (!root["dram"].IsDefined()) return;
  const Section section = open_section(
      root, "dram", where,
      {"banks", "row_bytes", "burst_bytes", "t_rcd", "t_rp", "t_cas", "t_wr", "t_wtr", "t_rtw"});
  dram.banks = read_power_of_two(section, "banks", 1, kMaxDramBanks);
  dram.row_bytes = read_power_of_two(section, "row_bytes", kMinRowBytes, kMaxRowBytes);
  // A burst never straddles a row, so the row is a whole number of bursts.
  dram.burst_bytes = read_power_of_two(section, "burst_bytes", 1, dram.row_bytes);
  const auto read_timing = [&section](const std::string& key) {
    return read_int(section.node, key, section.where, 1, kMaxDramTiming);
  };
  dram.t_rcd = read_timing("t_rcd");
  dram.t_rp = read_timing("t_rp");
  dram.t_cas = read_timing("t_cas");
  dram.t_wr = read_timing("t_wr");
  dram.t_wtr = read_timing("t_wtr");
  dram.t_rtw = read_timing("t_rtw");
}

void read_energy(const YAML::Node& root, const FieldPath& where, EnergyTable& energy) {
  const Section table = open_section(
      root, "energy", where, {"mac", "l0", "l1", "l2", "noc_hop", "dram", "leakage_per_cycle"});
  const auto read_pj = [&table](const std::string& key) {
    return read_double(table.node, key, table.where, 0.0, kMaxEnergyPj);
  };
  energy.mac_pj = read_pj("mac");
  energy.l0_pj = read_pj("l0");
  energy.l1_pj = read_pj("l1");
  energy.l2_pj = read_pj("l2");
  energy.noc_hop_pj = read_pj("noc_hop");
  energy.dram_pj = read_pj("dram");
  energy.leakage_pj_per_cycle = read_pj("leakage_per_cycle");
}

}  // namespace

ArchSpec load_arch(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  const FieldPath where{path, ""};
  require_map(root, where);
  require_known_keys(root, where,
                     {"name", "num_pes", "array", "macs_per_pe", "word_bytes", "double_buffered",
                      "systolic", "mac_pipeline_depth", "buffers", "bandwidth", "dram", "energy"});

  ArchSpec arch;
  arch.source = path;
  arch.name = read_string(root, "name", where);
  if (arch.name.empty()) where.child("name").fail("is empty", "a non-empty name");
  read_array_shape(root, where, arch);
  arch.macs_per_pe = read_int(root, "macs_per_pe", where, 1, kMaxMacsPerPe);
  arch.word_bytes = read_int(root, "word_bytes", where, 1, kMaxWordBytes);
  arch.double_buffered = read_double_buffered(root, where);
  arch.systolic = read_bool(root, "systolic", where);
  arch.mac_pipeline_depth = read_int(root, "mac_pipeline_depth", where, 1, kMaxPipelineDepth);
  read_buffers(root, where, arch);
  read_bandwidths(root, where, arch);
  read_dram_timing(root, where, arch.dram);
  read_energy(root, where, arch.energy);
  return arch;
}

}  // namespace dcp
