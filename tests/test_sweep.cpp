// The sweep: the sampler covers the dataflow space with legal dataflows only and is a pure
// function of the seed; the trace store rejects files that are not intact stores of this sweep;
// an interrupted sweep plus its rerun, and shards plus their merge, equal one uninterrupted run.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <type_traits>

#include "arch/arch_fields.hpp"
#include "arch/arch_space.hpp"
#include "arch/arch_spec.hpp"
#include "common/input_error.hpp"
#include "dataflow/dataflow_line.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "mapper/content_id.hpp"
#include "mapper/sampler.hpp"
#include "mapper/sweep.hpp"
#include "mapper/trace_store.hpp"
#include "sim/result_fields.hpp"
#include "sim/result_json.hpp"
#include "workloads/layer_identity.hpp"

using namespace dcp;

namespace {

const std::string kSmallLayers = "tests/data/sweep_layers.yaml";
constexpr int64_t kSweepSamples = 120;

const ArchSpec& eyeriss() {
  static const ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  return arch;
}

SampleSpace model_space(uint64_t seed) {
  std::vector<Layer> layers = load_network("workloads/models/resnet50.yaml").layers;
  // MobileNet-V2 at batch 4, so that the batch dim too is tiled and unrolled.
  Network mobilenet = load_network("workloads/models/mobilenet_v2.yaml");
  set_batch(mobilenet, 4, "test");
  layers.insert(layers.end(), mobilenet.layers.begin(), mobilenet.layers.end());
  std::ostringstream warnings;
  SampleMix every_kind;
  every_kind.jump = 0.15;
  return make_sample_space({eyeriss(), load_arch("arch/presets/edge.yaml")}, layers, every_kind,
                           seed, warnings);
}

SweepConfig small_sweep(uint64_t seed = 1) {
  SweepConfig config;
  config.archs = {eyeriss()};
  config.layer_files = {kSmallLayers};
  config.samples = kSweepSamples;
  config.seed = seed;
  return config;
}

// A fresh directory per test case, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/dcp_test_sweep_XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

SweepSummary sweep_into(const std::string& path, const SweepConfig& config,
                        SweepOptions options = {}) {
  std::ostringstream warnings;
  options.jobs = 2;
  return run_sweep(config, path, options, warnings);
}

// Every column of every row of `table` in key order, doubles as exact hex floats.
std::vector<std::string> dump_table(const std::string& path, const std::string& table) {
  sqlite3* database = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &database, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* query = nullptr;
  REQUIRE(sqlite3_prepare_v2(database, ("SELECT * FROM " + table + " ORDER BY 1").c_str(), -1,
                             &query, nullptr) == SQLITE_OK);
  std::vector<std::string> rows;
  while (sqlite3_step(query) == SQLITE_ROW) {
    std::string row;
    for (int column = 0; column < sqlite3_column_count(query); ++column) {
      char number[64];
      switch (sqlite3_column_type(query, column)) {
        case SQLITE_FLOAT:
          std::snprintf(number, sizeof number, "%a", sqlite3_column_double(query, column));
          row += number;
          break;
        case SQLITE_NULL:
          row += "NULL";
          break;
        default:
          row += reinterpret_cast<const char*>(sqlite3_column_text(query, column));
      }
      row += '|';
    }
    rows.push_back(row);
  }
  sqlite3_finalize(query);
  sqlite3_close(database);
  return rows;
}

void require_same_store(const std::string& a, const std::string& b) {
  for (const std::string table : {"meta", "archs", "layers", "samples"})
    CHECK(dump_table(a, table) == dump_table(b, table));
}

void execute_sql(const std::string& path, const std::string& sql) {
  sqlite3* database = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &database) == SQLITE_OK);
  REQUIRE(sqlite3_exec(database, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(database);
}

// read_traces fails with one InputError line naming the file and containing `expected`.
void require_store_error(const std::string& path, const std::string& expected) {
  try {
    read_traces(path);
    FAIL("no error for " << path);
  } catch (const InputError& error) {
    const std::string message = error.what();
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find(expected) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

}  // namespace

TEST_CASE("sampler: only legal dataflows, spread over every spatial dim and loop order") {
  const SampleSpace space = model_space(7);
  constexpr int kDraws = 2000;
  // [level][dim]: spatial dims with a fan-out above 1, and outermost loops.
  std::array<std::set<Dim>, kNumLevels> spread_dims, outer_loops;
  std::array<int, kNumLevels> multi_dim_maps{};
  std::set<std::string> l2_orders;
  std::set<SampleKind> kinds;
  std::set<int> archs;
  for (int64_t index = 0; index < kDraws; ++index) {
    const Sample sample = draw_sample(space, index);
    const Layer& layer = space.layers[sample.layer];
    REQUIRE(legality_violations(layer, space.archs[sample.arch], sample.dataflow).empty());
    kinds.insert(sample.kind);
    archs.insert(sample.arch);
    for (int level = 0; level < kNumLevels; ++level) {
      const LevelMapping& mapping = sample.dataflow.levels[level];
      const std::vector<Dim> spatial = mapping.spatial_dims();
      spread_dims[level].insert(spatial.begin(), spatial.end());
      multi_dim_maps[level] += spatial.size() >= 2;
      outer_loops[level].insert(mapping.order.front());
    }
    std::string l2_order;
    for (const Dim dim : sample.dataflow.levels[0].order) l2_order += dim_letter(dim);
    l2_orders.insert(l2_order);
  }
  CHECK(kinds.size() == kNumSampleKinds);
  CHECK(archs.size() == 2);
  // The presets have one MAC lane per PE, so only L2 and L1 spread work.
  for (int level = 0; level < 2; ++level) {
    CHECK(spread_dims[level].size() == kNumDims);
    CHECK(multi_dim_maps[level] > kDraws / 20);  // several dims unrolled at once
  }
  for (int level = 0; level < kNumLevels; ++level) CHECK(outer_loops[level].size() == kNumDims);
  CHECK(l2_orders.size() > 300);  // of the 5040 permutations
}

TEST_CASE("sampler: --mix sets the listed shares and zeroes the rest; bad mixes are one line") {
  const SampleMix mix = parse_sample_mix("grown=0.5,jump=1.5");
  CHECK(mix.grown == 0.5);
  CHECK(mix.jump == 1.5);
  CHECK(mix.random + mix.code + mix.fixed + mix.neighbour == 0);
  for (const std::string bad :
       {"", "jump", "walk=1", "jump=-1", "jump=nan", "jump=inf", "jump=1x", "grown=0,jump=0"}) {
    try {
      parse_sample_mix(bad);
      FAIL("no error for '" << bad << "'");
    } catch (const InputError& error) {
      const std::string message = error.what();
      CHECK(message.find("sample mix") == 0);
      CHECK(message.find("random, code, fixed, neighbour, grown, jump") != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

// What single-step walks from a fixed dataflow need many steps for: a reduction over the input
// channels spread across (nearly) every PE, which the best dataflows of 1x1 convs use.
TEST_CASE("sampler: jumps are legal and reach a reduction over every PE in one step") {
  Layer pointwise;
  pointwise.name = "pointwise";
  pointwise.K = 960;
  pointwise.C = 160;
  pointwise.Y = pointwise.X = pointwise.in_h = pointwise.in_w = 7;
  const Dataflow start = make_fixed_dataflow("nvdla", pointwise, eyeriss());
  std::mt19937_64 rng(3), same_seed(3);
  int wide_reductions = 0;
  for (int draw = 0; draw < 2000; ++draw) {
    const Dataflow jumped = jump_dataflow(pointwise, eyeriss(), start, rng);
    REQUIRE(legality_violations(pointwise, eyeriss(), jumped).empty());
    CHECK(jumped == jump_dataflow(pointwise, eyeriss(), start, same_seed));
    if (jumped.levels[0].main_spatial_dim() == Dim::C && pes_used(jumped) >= 128) ++wide_reductions;
  }
  CHECK(wide_reductions > 10);
}

TEST_CASE("sampler: sample i depends only on the seed and i") {
  const SampleSpace space = model_space(3);
  const SampleSpace same_seed = model_space(3);
  const SampleSpace other_seed = model_space(4);
  int differing = 0;
  for (int64_t index = 199; index >= 0; --index) {
    const Sample sample = draw_sample(space, index);
    const Sample again = draw_sample(same_seed, index);
    CHECK(sample.dataflow == again.dataflow);
    CHECK(sample.layer == again.layer);
    CHECK(sample.kind == again.kind);
    if (!(draw_sample(other_seed, index).dataflow == sample.dataflow)) ++differing;
  }
  CHECK(differing > 190);
}

TEST_CASE("sampler: random layers look like real ones and repeat with the seed") {
  const std::vector<Layer> layers = random_layers(300, 5);
  std::set<LayerType> types;
  for (const Layer& layer : layers) {
    types.insert(layer.type);
    CHECK(layer.macs() > 0);
  }
  CHECK(types.size() == 4);
  CHECK(layer_key(random_layers(300, 5)[123]) == layer_key(layers[123]));
  CHECK(unique_layers(layers).size() > 250);

  Layer repeated = layers.front();
  repeated.repeat = 12;
  repeated.count = 3;
  const std::vector<Layer> unique = unique_layers({layers.front(), repeated});
  REQUIRE(unique.size() == 1);
  CHECK(unique.front().repeat == 1);
}

TEST_CASE("trace store: the one-line dataflow form round-trips and rejects bad text") {
  const SampleSpace space = model_space(1);
  int multi_dim = 0;
  for (int64_t index = 0; index < 100; ++index) {
    const Dataflow dataflow = draw_sample(space, index).dataflow;
    for (const LevelMapping& mapping : dataflow.levels)
      multi_dim += mapping.spatial_dims().size() >= 2;
    Dataflow parsed = parse_dataflow_line(format_dataflow_line(dataflow), "test");
    parsed.name = dataflow.name;
    CHECK(parsed == dataflow);
  }
  CHECK(multi_dim > 0);

  Dataflow bound;
  bound.levels[0].fanout = {4, 1, 1, 1, 1, 1, 3};
  bound.levels[0].axis[dim_index(Dim::N)] = Axis::Rows;
  bound.levels[0].tile = {64, 3, 56, 56, 3, 3, 3};
  bound.levels[1].fanout = {1, 2, 7, 1, 1, 1, 1};
  bound.levels[1].axis[dim_index(Dim::Y)] = Axis::Cols;
  bound.levels[1].tile = {16, 3, 8, 56, 3, 3, 1};
  bound.levels[2].order = {Dim::N, Dim::K, Dim::C, Dim::Y, Dim::R, Dim::S, Dim::X};
  bound.levels[2].tile = {4, 1, 1, 56, 3, 3, 1};
  const std::string line =
      "K4N3r:KCYXRSN:64,3,56,56,3,3,3|C2Y7c:KCYXRSN:16,3,8,56,3,3,1|"
      "-:NKCYRSX:4,1,1,56,3,3,1";
  CHECK(format_dataflow_line(bound) == line);
  Dataflow parsed = parse_dataflow_line(line, "test");
  parsed.name = bound.name;
  CHECK(parsed == bound);

  const std::string rest = "|-:KCYXRSN:1,1,1,1,1,1,1|-:KCYXRSN:1,1,1,1,1,1,1";
  for (const std::string& bad : std::vector<std::string>{
           "", "K12:KCYXRSN:1,1,1,1,1,1,1", "Q2:KCYXRSN:1,1,1,1,1,1,1" + rest,
           "-:KCYXRSK:1,1,1,1,1,1,1" + rest, "-:KCYXRSN:1,1,1,1,1,1,0" + rest,
           "K1:KCYXRSN:1,1,1,1,1,1,1" + rest,    // a fan-out of 1 is no spatial dim
           "K2K2:KCYXRSN:1,1,1,1,1,1,1" + rest,  // a dim twice in the map
           "K2x:KCYXRSN:1,1,1,1,1,1,1" + rest,   // no such axis mark
           "-:KCYXRS:1,1,1,1,1,1" + rest,        // a line of schema 1: six dims
           "K1:KCYXRS:1,1,1,1,1,1|K1:KCYXRS:1,1,1,1,1,1|K1:KCYXRS:1,1,1,1,1,1"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_dataflow_line(bad, "test"), InputError);
  }
}

namespace {

// Writes a store at `path` of one sample: `layer` on Eyeriss under NVDLA's dataflow, which it
// returns, with `result`.
Dataflow write_one_sample(const std::string& path, const Layer& layer, const Result& result = {}) {
  const Dataflow nvdla = make_fixed_dataflow("nvdla", layer, eyeriss());
  TraceWriter writer(path, {{"test", "one sample"}});
  writer.add_arch(eyeriss());
  writer.add_layer(0, layer);
  TraceRow row;
  row.arch_id = arch_content_id(eyeriss());
  row.sample_kind = "fixed";
  row.dataflow_line = format_dataflow_line(nvdla);
  row.result = result;
  writer.add_sample(row);
  return nvdla;
}

}  // namespace

TEST_CASE("trace store: a layer's batch is part of its identity and stored") {
  TempDir directory;
  const std::string path = directory.file("batch.sqlite");
  Layer batched = make_conv("test", "conv", 16, 32, 8, 8, 3, 3, 1, 1, 1);
  batched.N = 4;
  Layer single = batched;
  single.N = 1;
  CHECK(layer_key(batched) != layer_key(single));
  CHECK(layer_key(batched).find("N4") != std::string::npos);
  Dataflow nvdla = write_one_sample(path, batched);
  const std::vector<TraceRecord> records = read_traces(path);
  REQUIRE(records.size() == 1);
  CHECK(records[0].layer.N == 4);
  CHECK(records[0].layer_key == layer_key(batched));
  nvdla.name = records[0].dataflow.name;
  CHECK(records[0].dataflow == nvdla);
}

namespace {

// The value of the arch field `column`, as text, read through the field table.
std::string arch_field_text(const ArchSpec& arch, const std::string& column) {
  std::ostringstream text;
  text << std::setprecision(17);
  visit_arch_fields(arch, [&](const ArchField& field, const auto& value) {
    if (field.column == column) text << value;
  });
  return text.str();
}

// `arch` with the field `column` changed to another value load_arch accepts (doubling keeps
// powers of two and stays in range for the Eyeriss preset), and the fields that follow from it
// (the PE count, the L0 sum) kept consistent.
ArchSpec with_field_changed(ArchSpec arch, const std::string& column) {
  if (column == "l0_bytes") arch.l0_partition_bytes = {};
  visit_arch_fields(arch, [&](const ArchField& field, auto& value) {
    if (field.column != column) return;
    using Value = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<Value, std::string>)
      value += "-changed";
    else if constexpr (std::is_same_v<Value, bool>)
      value = !value;
    else
      value = value * 2;
  });
  if (column == "num_pes")
    arch.array_cols *= 2;
  else
    arch.num_pes = arch.array_rows * arch.array_cols;
  if (l0_partitioned(arch)) {
    arch.l0_bytes = 0;
    for (int64_t bytes : arch.l0_partition_bytes) arch.l0_bytes += bytes;
  }
  return arch;
}

}  // namespace

// Each consumer of the arch field table (arch/arch_fields.hpp) keeps every field: a field added to
// ArchSpec and the table but ignored by the YAML writer or reader, the trace store or the arch
// JSON fails here.
TEST_CASE("arch fields: every table entry survives YAML, the trace store and the arch JSON") {
  TempDir directory;
  ArchSpec base = eyeriss();
  base.l0_partition_bytes = {64, 128, 64};
  base.l0_bytes = 256;
  const Layer layer = make_conv("test", "conv", 16, 32, 8, 8, 3, 3, 1, 1, 1);
  const std::string dataflow = format_dataflow_line(make_fixed_dataflow("nvdla", layer, base));
  const std::string store = directory.file("fields.sqlite");
  std::vector<ArchSpec> changed;
  {
    TraceWriter writer(store, {{"test", "fields"}});
    writer.add_layer(0, layer);
    for (const ArchField& field : arch_fields()) {
      INFO(field.column);
      const ArchSpec arch = with_field_changed(base, field.column);
      REQUIRE(arch_field_text(arch, field.column) != arch_field_text(base, field.column));
      CHECK(arch_to_json(arch).at(field.column) != arch_to_json(base).at(field.column));
      std::ostringstream yaml;
      write_arch_yaml(arch, yaml);
      const std::string path = directory.file(std::string(field.column) + ".yaml");
      std::ofstream(path) << yaml.str();
      if (field.column == std::string("l1_bypass_output")) {
        // Partial sums always drain through L1: the reader refuses what the writer wrote.
        CHECK_THROWS_AS(load_arch(path), InputError);
      } else {
        CHECK(arch_field_text(load_arch(path), field.column) ==
              arch_field_text(arch, field.column));
      }
      writer.add_arch(arch);
      TraceRow row;
      row.sample_index = static_cast<int64_t>(changed.size());
      row.arch_id = arch_content_id(arch);
      row.sample_kind = "fixed";
      row.dataflow_line = dataflow;
      writer.add_sample(row);
      changed.push_back(arch);
    }
  }
  const std::vector<TraceRecord> records = read_traces(store);
  REQUIRE(records.size() == changed.size());
  for (const TraceRecord& record : records) {
    const std::string column = arch_fields()[static_cast<std::size_t>(record.sample_index)].column;
    INFO(column);
    CHECK(arch_field_text(record.arch, column) ==
          arch_field_text(changed[static_cast<std::size_t>(record.sample_index)], column));
  }
}

// The trace store and the JSON output take Result's fields from one list (sim/result_fields.hpp):
// every field is in the JSON at its place, the JSON holds nothing else but the derived EDP, and
// every field survives the store.
TEST_CASE("result fields: every field is in the JSON and survives the trace store") {
  Result result;
  int64_t next = 1;
  int64_t fields = 0;
  visit_result_fields(result, [&](const ResultField&, auto& value) {
    using Value = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<Value, Bound>)
      value = Bound::Dram;
    else
      value = static_cast<Value>(next++);
    ++fields;
  });
  const nlohmann::json json = result_to_json(result);
  visit_result_fields(result, [&](const ResultField& field, const auto& value) {
    INFO(field.column);
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Bound>)
      CHECK(json.at(field.json) == bound_name(value));
    else
      CHECK(json.at(field.json) == value);
  });
  CHECK(static_cast<int64_t>(json.flatten().size()) == fields + 1);

  TempDir directory;
  const std::string path = directory.file("result.sqlite");
  write_one_sample(path, make_conv("test", "conv", 16, 32, 8, 8, 3, 3, 1, 1, 1), result);
  const std::vector<TraceRecord> records = read_traces(path);
  REQUIRE(records.size() == 1);
  CHECK(result_to_json(records[0].result) == json);
}

TEST_CASE("an interrupted sweep rerun equals an uninterrupted one") {
  TempDir directory;
  const std::string whole = directory.file("whole.sqlite");
  const std::string resumed = directory.file("resumed.sqlite");
  const SweepSummary uninterrupted = sweep_into(whole, small_sweep());
  CHECK(uninterrupted.rows_written == kSweepSamples);

  SweepOptions interrupting;
  interrupting.commit_rows = 20;
  interrupting.keep_going = [](int64_t committed) { return committed < 40; };
  const SweepSummary first = sweep_into(resumed, small_sweep(), interrupting);
  CHECK(first.interrupted);
  // Every transaction holds exactly commit_rows rows, however many one read from a worker brings.
  REQUIRE(first.rows_written == 40);
  CHECK(read_traces(resumed).size() == static_cast<std::size_t>(first.rows_written));

  const SweepSummary second = sweep_into(resumed, small_sweep());
  CHECK(second.rows_present == first.rows_written);
  CHECK(second.rows_written == kSweepSamples - first.rows_written);
  require_same_store(whole, resumed);
  CHECK(sweep_into(resumed, small_sweep()).rows_written == 0);
}

TEST_CASE("a finished store is one file, also once it has been read") {
  TempDir directory;
  const std::string path = directory.file("store.sqlite");
  sweep_into(path, small_sweep());
  CHECK(read_traces(path).size() == static_cast<std::size_t>(kSweepSamples));
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory.path))
    files.push_back(entry.path().filename().string());
  CHECK(files == std::vector<std::string>{"store.sqlite"});
}

TEST_CASE("shards merged equal the single sweep") {
  TempDir directory;
  const std::string whole = directory.file("whole.sqlite");
  sweep_into(whole, small_sweep());
  std::vector<std::string> shards;
  for (int64_t number = 1; number <= 3; ++number) {
    shards.push_back(directory.file("shard" + std::to_string(number) + ".sqlite"));
    SweepOptions options;
    options.shard = {number, 3};
    CHECK(sweep_into(shards.back(), small_sweep(), options).rows_written == kSweepSamples / 3);
  }
  const std::string merged = directory.file("merged.sqlite");
  CHECK(merge_traces(shards, merged) == kSweepSamples);
  require_same_store(whole, merged);
  // Overlapping stores merge too: their shared rows agree.
  CHECK(merge_traces({whole, shards.front()}, merged) == 0);

  const std::string other = directory.file("other.sqlite");
  sweep_into(other, small_sweep(2));
  CHECK_THROWS_WITH(merge_traces({whole, other}, directory.file("bad.sqlite")),
                    Catch::Contains("meta.sweep.seed"));
}

TEST_CASE("traces read back as the simulator's results") {
  TempDir directory;
  const std::string path = directory.file("traces.sqlite");
  sweep_into(path, small_sweep());
  const std::vector<TraceRecord> records = read_traces(path);
  REQUIRE(records.size() == kSweepSamples);
  const SampleSpace space = make_sweep_space(small_sweep(), std::cerr);
  for (const TraceRecord& record : records) {
    const Sample sample = draw_sample(space, record.sample_index);
    CHECK(record.dataflow == sample.dataflow);
    CHECK(record.sample_kind == sample_kind_name(sample.kind));
    CHECK(record.layer_key == layer_key(space.layers[sample.layer]));
    CHECK(record.layer.dims() == space.layers[sample.layer].dims());
    CHECK(arch_to_json(record.arch) == arch_to_json(eyeriss()));
  }
  const TraceRecord& last = records.back();
  const Result result = evaluate(last.layer, last.arch, last.dataflow);
  CHECK(result.cycles == last.result.cycles);
  CHECK(result.total_energy_pj == last.result.total_energy_pj);
  CHECK(result.counts == last.result.counts);
  CHECK(result.stall_cycles == last.result.stall_cycles);
  CHECK(result.bound == last.result.bound);
}

TEST_CASE("trace store: files that are not intact stores of this sweep are one-line errors") {
  TempDir directory;
  const std::string store = directory.file("store.sqlite");
  sweep_into(store, small_sweep());

  SECTION("random bytes") {
    const std::string path = directory.file("random.sqlite");
    std::mt19937_64 rng(9);
    std::ofstream file(path, std::ios::binary);
    for (int i = 0; i < 8192; ++i) file.put(static_cast<char>(rng()));
    file.close();
    require_store_error(path, "not a database");
    CHECK_THROWS_AS(sweep_into(path, small_sweep()), InputError);
  }
  SECTION("truncated") {
    const std::string path = directory.file("truncated.sqlite");
    std::filesystem::copy_file(store, path);
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    require_store_error(path, "corrupt");
  }
  SECTION("foreign SQLite") {
    const std::string path = directory.file("foreign.sqlite");
    execute_sql(path, "CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')");
    require_store_error(path, "not a dcp trace store");
  }
  SECTION("another schema version") {
    execute_sql(store, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    require_store_error(store, "meta.schema_version");
  }
  SECTION("a store of schema 1 (six dims, one spatial dim per level)") {
    execute_sql(store, "UPDATE meta SET value = '1' WHERE key = 'schema_version'");
    require_store_error(store, "made with trace schema 1 (dims K..S, one spatial dim per level)");
    CHECK_THROWS_WITH(sweep_into(store, small_sweep()), Catch::Contains("trace schema 1"));
  }
  SECTION("a sweep with other parameters") {
    CHECK_THROWS_WITH(sweep_into(store, small_sweep(2)), Catch::Contains("meta.sweep.seed"));
    SweepConfig more = small_sweep();
    more.samples = 2 * kSweepSamples;
    CHECK_THROWS_WITH(sweep_into(store, more), Catch::Contains("meta.sweep.samples"));
  }
}

TEST_CASE("shards are k/n with 1 <= k <= n") {
  CHECK(parse_shard("3/16").number == 3);
  CHECK(parse_shard("3/16").count == 16);
  for (const std::string bad : {"0/4", "5/4", "x", "1/", "/4", "1/4x", "-1/4"})
    CHECK_THROWS_WITH(parse_shard(bad), Catch::StartsWith("shard: ") && Catch::Contains("1 <= k"));
}
