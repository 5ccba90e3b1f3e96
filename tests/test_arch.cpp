#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "arch/arch_space.hpp"
#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"

namespace fs = std::filesystem;
using dcp::ArchSpec;
using dcp::InputError;
using dcp::load_arch;

namespace {

// A complete, valid arch file; each error case breaks exactly one line of it.
const std::string kValidArch = R"(name: fixture
num_pes: 168
array: {rows: 12, cols: 14}
macs_per_pe: 1
word_bytes: 2
double_buffered: true
systolic: false
mac_pipeline_depth: 2
buffers:
  l0_bytes: 512
  l1_bytes: 1024
  l2_bytes: 110592
bandwidth:
  l1: 8
  l2: 16
  noc: 16
  dram: 8
  dram_latency: 20
energy:
  mac: 1
  l0: 1
  l1: 2
  l2: 6
  noc_hop: 2
  dram: 200
  leakage_per_cycle: 50
)";

// The optional DRAM timing section, appended to kValidArch by the tests of its fields.
const std::string kDramSection = R"(dram:
  banks: 8
  row_bytes: 8192
  burst_bytes: 64
  t_rcd: 3
  t_rp: 3
  t_cas: 3
  t_wr: 3
  t_wtr: 2
  t_rtw: 1
)";

// The fixtures live in a fresh directory per test case, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() / ("dcp_test_arch_" + std::to_string(seed()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string write(const std::string& file_name, const std::string& text) const {
    const fs::path file = path_ / file_name;
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  fs::path path_;
};

std::string replace_line(std::string text, const std::string& old_line,
                         const std::string& new_line) {
  const std::size_t at = text.find(old_line + "\n");
  REQUIRE(at != std::string::npos);
  return text.replace(at, old_line.size() + 1, new_line.empty() ? "" : new_line + "\n");
}

// Loads `text` saved as `file_name` and returns the InputError message (empty if none was thrown).
std::string load_error(const TempDir& dir, const std::string& file_name, const std::string& text) {
  const std::string path = dir.write(file_name, text);
  try {
    load_arch(path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

void check_one_line_naming(const std::string& message, const std::string& file_name,
                           const std::string& field) {
  INFO("message: " << message);
  CHECK(message.find(file_name) != std::string::npos);
  CHECK(message.find(field) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("all presets load with their stated shapes and sizes", "[arch]") {
  const ArchSpec eyeriss = load_arch("arch/presets/eyeriss.yaml");
  CHECK(eyeriss.name == "eyeriss");
  CHECK(eyeriss.num_pes == 168);
  CHECK(eyeriss.array_rows == 12);
  CHECK(eyeriss.array_cols == 14);
  CHECK(eyeriss.word_bytes == 2);
  // The chip's ifmap, filter and psum spads: 12, 224 and 24 words.
  CHECK(eyeriss.l0_partition_bytes == std::array<int64_t, dcp::kNumTensors>{24, 448, 48});
  CHECK(eyeriss.l0_bytes == 520);
  CHECK(eyeriss.l1_bypass == dcp::TensorFlags{true, true, false});
  CHECK(eyeriss.l2_bypass == dcp::TensorFlags{false, true, false});
  CHECK(eyeriss.double_buffered == dcp::TensorFlags{false, false, true});
  CHECK(eyeriss.l2_bytes == 108 * 1024);
  CHECK_FALSE(eyeriss.systolic);

  const ArchSpec edge = load_arch("arch/presets/edge.yaml");
  CHECK(edge.num_pes == 256);
  CHECK(edge.array_rows == 16);
  CHECK(edge.array_cols == 16);

  const ArchSpec cloud = load_arch("arch/presets/cloud.yaml");
  CHECK(cloud.num_pes == 4096);
  CHECK(cloud.array_rows == 64);
  CHECK(cloud.array_cols == 64);

  const ArchSpec tpu = load_arch("arch/presets/tpu.yaml");
  CHECK(tpu.num_pes == 128 * 128);
  CHECK(tpu.array_rows == 128);
  CHECK(tpu.array_cols == 128);
  CHECK(tpu.systolic);
  CHECK(tpu.word_bytes == 1);
  CHECK(tpu.l2_bytes >= 24 * 1024 * 1024);

  for (const ArchSpec* arch : {&eyeriss, &edge, &cloud, &tpu}) {
    INFO(arch->source);
    CHECK(arch->source.find(arch->name + ".yaml") != std::string::npos);
    CHECK(arch->energy.mac_pj > 0);
    CHECK(arch->energy.leakage_pj_per_cycle > 0);
  }
}

TEST_CASE("every preset times its DRAM with banks, rows and turnarounds", "[arch]") {
  const dcp::DramTiming eyeriss = load_arch("arch/presets/eyeriss.yaml").dram;
  CHECK(eyeriss.banks == 8);  // DDR3-1600
  CHECK(eyeriss.row_bytes == 8192);
  CHECK(eyeriss.burst_bytes == 64);
  CHECK(eyeriss.t_rcd == 3);
  for (const std::string name : {"eyeriss", "edge", "cloud", "tpu"}) {
    const ArchSpec arch = load_arch("arch/presets/" + name + ".yaml");
    const dcp::DramTiming& dram = arch.dram;
    INFO(name);
    CHECK(dram.banks >= 8);
    CHECK(dram.burst_bytes <= dram.row_bytes);
    // A burst takes whole bus cycles, and a row lasts long enough to hide the next bank's
    // activate: the regime the presets' sources describe.
    const double burst_cycles = static_cast<double>(dram.burst_bytes) / arch.dram_bandwidth;
    CHECK(burst_cycles == std::floor(burst_cycles));
    CHECK(static_cast<double>(dram.row_bytes) / arch.dram_bandwidth > dram.t_rp + dram.t_rcd);
    for (const int64_t timing :
         {dram.t_rcd, dram.t_rp, dram.t_cas, dram.t_wr, dram.t_wtr, dram.t_rtw}) {
      CHECK(timing >= 1);
    }
  }
}

TEST_CASE("the dram section is optional; without it the channel is ideal", "[arch]") {
  const TempDir dir;
  const dcp::DramTiming ideal = load_arch(dir.write("ideal.yaml", kValidArch)).dram;
  const dcp::DramTiming defaults;
  CHECK(ideal.banks == 1);
  CHECK(ideal.burst_bytes == 1);
  CHECK(ideal.row_bytes == defaults.row_bytes);
  CHECK(ideal.t_rcd + ideal.t_rp + ideal.t_cas + ideal.t_wr + ideal.t_wtr + ideal.t_rtw == 0);

  const dcp::DramTiming timed = load_arch(dir.write("timed.yaml", kValidArch + kDramSection)).dram;
  CHECK(timed.banks == 8);
  CHECK(timed.row_bytes == 8192);
  CHECK(timed.burst_bytes == 64);
  CHECK(timed.t_rcd == 3);
  CHECK(timed.t_rp == 3);
  CHECK(timed.t_cas == 3);
  CHECK(timed.t_wr == 3);
  CHECK(timed.t_wtr == 2);
  CHECK(timed.t_rtw == 1);
}

TEST_CASE("bad dram sections give one-line errors naming the field and the allowed range",
          "[arch]") {
  const TempDir dir;
  const std::string valid = kValidArch + kDramSection;
  // Replaces one line of the section and returns the message, which must name `field`.
  const auto error_for = [&](const std::string& old_line, const std::string& new_line,
                             const std::string& field) {
    const std::string message =
        load_error(dir, "dram.yaml", replace_line(valid, old_line, new_line));
    check_one_line_naming(message, "dram.yaml", field);
    return message;
  };
  CHECK(error_for("  banks: 8", "  banks: 12", "dram.banks").find("a power of two in 1..1024") !=
        std::string::npos);
  CHECK(error_for("  banks: 8", "  banks: 0", "dram.banks").find("1..1024") != std::string::npos);
  CHECK(error_for("  row_bytes: 8192", "  row_bytes: 3000", "dram.row_bytes")
            .find("a power of two in 256..1048576") != std::string::npos);
  CHECK(error_for("  row_bytes: 8192", "  row_bytes: 128", "dram.row_bytes").find("256..") !=
        std::string::npos);
  // A burst may not exceed the row it is read from.
  CHECK(
      error_for("  burst_bytes: 64", "  burst_bytes: 16384", "dram.burst_bytes").find("1..8192") !=
      std::string::npos);
  CHECK(error_for("  burst_bytes: 64", "  burst_bytes: 48", "dram.burst_bytes")
            .find("power of two") != std::string::npos);
  CHECK(error_for("  t_rcd: 3", "  t_rcd: 0", "dram.t_rcd").find("1..1000") != std::string::npos);
  CHECK(error_for("  t_cas: 3", "  t_cas: -2", "dram.t_cas").find("1..1000") != std::string::npos);
  // Picoseconds where cycles belong.
  error_for("  t_wtr: 2", "  t_wtr: 7500", "dram.t_wtr");
  error_for("  t_rtw: 1", "  t_rtw: 1.5", "dram.t_rtw");
  error_for("  t_rp: 3", "", "dram.t_rp");             // every field of a present section
  error_for("  t_wr: 3", "  t_wrr: 3", "dram.t_wrr");  // misspelt
  check_one_line_naming(load_error(dir, "dram.yaml", kValidArch + "dram: 8\n"), "dram.yaml",
                        "dram");
}

TEST_CASE("eyeriss energies follow the Eyeriss normalisation", "[arch]") {
  // Chen et al., ISCA 2016: MAC 1x, register file 1x, PE-to-PE 2x, global buffer 6x, DRAM 200x.
  const dcp::EnergyTable energy = load_arch("arch/presets/eyeriss.yaml").energy;
  const auto relative_to_mac = [&energy](double pj) { return pj / energy.mac_pj; };
  CHECK(relative_to_mac(energy.l0_pj) == Approx(1).epsilon(0.05));
  CHECK(relative_to_mac(energy.l1_pj) == Approx(2).epsilon(0.05));
  CHECK(relative_to_mac(energy.noc_hop_pj) == Approx(2).epsilon(0.05));
  CHECK(relative_to_mac(energy.l2_pj) == Approx(6).epsilon(0.05));
  CHECK(relative_to_mac(energy.dram_pj) == Approx(200).epsilon(0.05));
}

TEST_CASE("the fixture itself is valid", "[arch]") {
  const TempDir dir;
  const ArchSpec arch = load_arch(dir.write("valid.yaml", kValidArch));
  CHECK(arch.num_pes == 168);
  CHECK(arch.noc_bandwidth == 16);
  CHECK(arch.dram_latency == 20);
  CHECK(arch.energy.l2_pj == 6);
}

TEST_CASE("num_pes is optional and derived from the array shape", "[arch]") {
  const TempDir dir;
  const std::string text = replace_line(kValidArch, "num_pes: 168", "");
  CHECK(load_arch(dir.write("derived.yaml", text)).num_pes == 12 * 14);
}

TEST_CASE("bad arch files give one-line errors naming the file and the field", "[arch]") {
  const TempDir dir;

  SECTION("malformed YAML") {
    const std::string text =
        replace_line(kValidArch, "array: {rows: 12, cols: 14}", "array: {rows: 12, cols: 14");
    const std::string message = load_error(dir, "malformed.yaml", text);
    INFO("message: " << message);
    CHECK(message.find("malformed.yaml") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  SECTION("missing field") {
    const std::string text = replace_line(kValidArch, "word_bytes: 2", "");
    check_one_line_naming(load_error(dir, "missing.yaml", text), "missing.yaml", "word_bytes");
  }
  SECTION("missing section") {
    std::string text = kValidArch;
    text.erase(text.find("energy:"));
    check_one_line_naming(load_error(dir, "no_energy.yaml", text), "no_energy.yaml", "energy");
  }
  SECTION("negative size") {
    const std::string text = replace_line(kValidArch, "  l1_bytes: 1024", "  l1_bytes: -4");
    check_one_line_naming(load_error(dir, "negative.yaml", text), "negative.yaml",
                          "buffers.l1_bytes");
  }
  SECTION("size below one word") {
    const std::string text = replace_line(kValidArch, "  l0_bytes: 512", "  l0_bytes: 1");
    check_one_line_naming(load_error(dir, "tiny.yaml", text), "tiny.yaml", "buffers.l0_bytes");
  }
  SECTION("zero bandwidth") {
    const std::string text = replace_line(kValidArch, "  noc: 16", "  noc: 0");
    check_one_line_naming(load_error(dir, "zero_bw.yaml", text), "zero_bw.yaml", "bandwidth.noc");
  }
  SECTION("negative energy") {
    const std::string text = replace_line(kValidArch, "  dram: 200", "  dram: -1");
    check_one_line_naming(load_error(dir, "energy.yaml", text), "energy.yaml", "energy.dram");
  }
  SECTION("rows * cols does not match num_pes") {
    const std::string text = replace_line(kValidArch, "num_pes: 168", "num_pes: 169");
    check_one_line_naming(load_error(dir, "mismatch.yaml", text), "mismatch.yaml", "num_pes");
  }
  SECTION("word size out of range") {
    const std::string text = replace_line(kValidArch, "word_bytes: 2", "word_bytes: 16");
    check_one_line_naming(load_error(dir, "word.yaml", text), "word.yaml", "word_bytes");
  }
  SECTION("misspelt field") {
    const std::string text = replace_line(kValidArch, "  l2_bytes: 110592", "  l2_byte: 110592");
    check_one_line_naming(load_error(dir, "typo.yaml", text), "typo.yaml", "buffers.l2_byte");
  }
  SECTION("missing file") {
    const std::string missing = (fs::temp_directory_path() / "dcp_no_such_arch.yaml").string();
    std::string message;
    try {
      load_arch(missing);
    } catch (const InputError& error) {
      message = error.what();
    }
    CHECK(message.find("dcp_no_such_arch.yaml") != std::string::npos);
  }
}

namespace {

auto dram_fields(const dcp::DramTiming& dram) {
  return std::make_tuple(dram.banks, dram.row_bytes, dram.burst_bytes, dram.t_rcd, dram.t_rp,
                         dram.t_cas, dram.t_wr, dram.t_wtr, dram.t_rtw);
}

bool same_arch(const ArchSpec& a, const ArchSpec& b) {
  return a.name == b.name && a.num_pes == b.num_pes && a.array_rows == b.array_rows &&
         a.array_cols == b.array_cols && a.macs_per_pe == b.macs_per_pe &&
         a.word_bytes == b.word_bytes && a.l0_bytes == b.l0_bytes && a.l1_bytes == b.l1_bytes &&
         a.l2_bytes == b.l2_bytes && a.l1_bandwidth == b.l1_bandwidth &&
         a.l2_bandwidth == b.l2_bandwidth && a.noc_bandwidth == b.noc_bandwidth &&
         a.dram_bandwidth == b.dram_bandwidth && a.dram_latency == b.dram_latency &&
         a.mac_pipeline_depth == b.mac_pipeline_depth && a.double_buffered == b.double_buffered &&
         a.l0_partition_bytes == b.l0_partition_bytes && a.l2_bypass == b.l2_bypass &&
         a.l1_bypass == b.l1_bypass && a.systolic == b.systolic &&
         a.energy.mac_pj == b.energy.mac_pj && a.energy.l0_pj == b.energy.l0_pj &&
         a.energy.l1_pj == b.energy.l1_pj && a.energy.l2_pj == b.energy.l2_pj &&
         a.energy.noc_hop_pj == b.energy.noc_hop_pj && a.energy.dram_pj == b.energy.dram_pj &&
         a.energy.leakage_pj_per_cycle == b.energy.leakage_pj_per_cycle &&
         dram_fields(a.dram) == dram_fields(b.dram);
}

std::string space_error(const TempDir& dir, const std::string& text) {
  dir.write("base.yaml", kValidArch);
  const std::string path = dir.write("space.yaml", text);
  try {
    dcp::load_arch_space(path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("arch-space configs stay in their ranges, are deterministic and round-trip as YAML",
          "[arch]") {
  const dcp::ArchSpace space = dcp::load_arch_space("arch/spaces/edge-to-cloud.yaml");
  const ArchSpec& base = space.base;
  const std::vector<ArchSpec> archs = dcp::sample_archs(space, 7, 40);
  const std::vector<ArchSpec> again = dcp::sample_archs(space, 7, 40);
  const TempDir dir;
  std::set<int64_t> pe_counts;
  for (size_t i = 0; i < archs.size(); ++i) {
    const ArchSpec& arch = archs[i];
    INFO(arch.name);
    CHECK(same_arch(arch, again[i]));
    CHECK(arch.name == "edge-to-cloud-" + std::to_string(i));
    CHECK(arch.array_rows * arch.array_cols == arch.num_pes);
    CHECK(arch.array_rows <= arch.array_cols);
    CHECK(arch.array_cols <= 2 * arch.array_rows);
    CHECK((arch.num_pes >= 64 && arch.num_pes <= 4096));
    CHECK((arch.l2_bytes >= 65536 && arch.l2_bytes <= 4194304));
    CHECK((arch.dram_bandwidth >= 8 && arch.dram_bandwidth <= 256));
    pe_counts.insert(arch.num_pes);
    // Buffer energy scales with the square root of capacity; what no range varies stays.
    CHECK(arch.energy.l2_pj ==
          Approx(base.energy.l2_pj * std::sqrt(double(arch.l2_bytes) / double(base.l2_bytes))));
    CHECK(arch.energy.mac_pj == base.energy.mac_pj);
    CHECK(arch.word_bytes == base.word_bytes);
    std::ostringstream yaml;
    dcp::write_arch_yaml(arch, yaml);
    ArchSpec loaded = load_arch(dir.write(arch.name + ".yaml", yaml.str()));
    loaded.source = arch.source;
    CHECK(same_arch(loaded, arch));
  }
  CHECK(pe_counts.size() >= 5);  // the draw covers the range
  CHECK_FALSE(same_arch(dcp::sample_arch(space, 8, 0), archs[0]));
}

TEST_CASE("bad arch spaces give one-line errors naming the file and the field", "[arch]") {
  const TempDir dir;
  const std::string head = "name: s\nbase: base.yaml\nparameters:\n";
  CHECK(space_error(dir, head + "  num_pes: {min: 64, max: 256}\n").empty());
  const auto check_error = [&](const std::string& parameters, const std::string& field) {
    check_one_line_naming(space_error(dir, head + parameters), "space.yaml", field);
  };
  check_error("  num_pes: {min: 48, max: 256}\n", "parameters.num_pes.min");
  check_error("  num_pes: {min: 512, max: 256}\n", "parameters.num_pes");
  check_error("  num_pe: {min: 64, max: 256}\n", "parameters.num_pe");
  check_error("  l0_bytes: {min: 1, max: 256}\n", "parameters.l0_bytes.min");
  check_error("  num_pes: {min: 64, max: 4194304}\n", "parameters.num_pes.max");
  check_error("  {}\n", "parameters");
  check_one_line_naming(space_error(dir,
                                    "name: s\nbase: nowhere.yaml\nparameters:\n"
                                    "  num_pes: {min: 64, max: 64}\n"),
                        "nowhere.yaml", "");
}

TEST_CASE("per-tensor allocation: double buffering, L0 scratchpads and L2 bypass", "[arch]") {
  const TempDir dir;
  std::string text = replace_line(kValidArch, "double_buffered: true", "double_buffered: [input]");
  text = replace_line(text, "  l0_bytes: 512", "  l0_bytes: {input: 24, weight: 448, output: 48}");
  text = replace_line(text, "  l2_bytes: 110592",
                      "  l2_bytes: 110592\n  l1_bypass: [weight]\n  l2_bypass: [weight]");
  const ArchSpec arch = load_arch(dir.write("allocation.yaml", text));
  CHECK(arch.double_buffered == dcp::TensorFlags{true, false, false});
  CHECK(arch.l0_partition_bytes == std::array<int64_t, 3>{24, 448, 48});
  CHECK(arch.l0_bytes == 24 + 448 + 48);
  CHECK(arch.l2_bypass == dcp::TensorFlags{false, true, false});
  CHECK(arch.l1_bypass == dcp::TensorFlags{false, true, false});
  CHECK(dcp::buffer_copies(arch, dcp::Tensor::Input) == 2);
  CHECK(dcp::buffer_copies(arch, dcp::Tensor::Weight) == 1);
  // The YAML writer keeps every allocation field.
  std::ostringstream yaml;
  dcp::write_arch_yaml(arch, yaml);
  ArchSpec reloaded = load_arch(dir.write("reloaded.yaml", yaml.str()));
  reloaded.source = arch.source;
  CHECK(same_arch(reloaded, arch));
  // A plain arch double-buffers everything, shares one L0 and bypasses nothing.
  const ArchSpec plain = load_arch(dir.write("plain.yaml", kValidArch));
  CHECK(plain.double_buffered == dcp::TensorFlags{true, true, true});
  CHECK_FALSE(dcp::l0_partitioned(plain));
  CHECK(plain.l2_bypass == dcp::TensorFlags{});
}

TEST_CASE("bad allocations give one-line errors naming the field", "[arch]") {
  const TempDir dir;
  const auto error_for = [&](const std::string& old_line, const std::string& new_line) {
    return load_error(dir, "bad.yaml", replace_line(kValidArch, old_line, new_line));
  };
  check_one_line_naming(error_for("double_buffered: true", "double_buffered: [input, psum]"),
                        "bad.yaml", "double_buffered[1]");
  check_one_line_naming(error_for("double_buffered: true", "double_buffered: [input, input]"),
                        "bad.yaml", "double_buffered[1]");
  // A partitioned L0 without a tensor's scratchpad would leave that tensor nowhere to be read.
  check_one_line_naming(error_for("  l0_bytes: 512", "  l0_bytes: {input: 24, weight: 448}"),
                        "bad.yaml", "buffers.l0_bytes.output");
  check_one_line_naming(
      error_for("  l0_bytes: 512", "  l0_bytes: {input: 1, weight: 448, output: 48}"), "bad.yaml",
      "buffers.l0_bytes.input");
  check_one_line_naming(
      error_for("  l0_bytes: 512", "  l0_bytes: {input: 24, weight: 448, output: 48, psum: 4}"),
      "bad.yaml", "psum");
  check_one_line_naming(
      error_for("  l2_bytes: 110592", "  l2_bytes: 110592\n  l2_bypass: [filter]"), "bad.yaml",
      "buffers.l2_bypass[0]");
  check_one_line_naming(error_for("  l2_bytes: 110592", "  l2_bypass: weight\n  l2_bytes: 110592"),
                        "bad.yaml", "buffers.l2_bypass");
  // Partial sums drain through the cluster buffer; only operands can skip it.
  check_one_line_naming(error_for("  l1_bytes: 1024", "  l1_bytes: 1024\n  l1_bypass: [output]"),
                        "bad.yaml", "buffers.l1_bypass");
  // Missing fields that may hold a list or a map are reported, not thrown from yaml-cpp.
  check_one_line_naming(error_for("double_buffered: true", ""), "bad.yaml", "double_buffered");
  check_one_line_naming(error_for("  l0_bytes: 512", ""), "bad.yaml", "buffers.l0_bytes");
  CHECK(error_for("double_buffered: true", "").find("missing") != std::string::npos);
}

TEST_CASE("an arch space over a partitioned L0 scales every scratchpad and round-trips", "[arch]") {
  dcp::ArchSpace space = dcp::load_arch_space("arch/spaces/edge-to-cloud.yaml");
  space.base.l0_partition_bytes = {64, 128, 64};
  space.base.l0_bytes = 256;
  space.base.l2_bypass = {false, true, false};
  const TempDir dir;
  for (const ArchSpec& arch : dcp::sample_archs(space, 3, 12)) {
    INFO(arch.name << " l0_bytes " << arch.l0_bytes);
    CHECK(arch.l0_partition_bytes[0] + arch.l0_partition_bytes[1] + arch.l0_partition_bytes[2] ==
          arch.l0_bytes);
    CHECK(arch.l0_partition_bytes[1] == 2 * arch.l0_partition_bytes[0]);
    std::ostringstream yaml;
    dcp::write_arch_yaml(arch, yaml);
    ArchSpec loaded = load_arch(dir.write(arch.name + ".yaml", yaml.str()));
    loaded.source = arch.source;
    CHECK(same_arch(loaded, arch));
  }
}
