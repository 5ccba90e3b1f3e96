#include "mapper/trace_store.hpp"

#include <filesystem>
#include <map>
#include <optional>

#include "common/input_error.hpp"
#include "dataflow/dataflow_line.hpp"
#include "mapper/content_id.hpp"
#include "mapper/sqlite_database.hpp"
#include "mapper/trace_schema.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {
namespace {

constexpr const char* kFormatMarker = "dcp-traces";
// 2: seven dims (the batch N joined K..S) and a fan-out per dim in the dataflow line.
constexpr int kSchemaVersion = 3;
constexpr const char* kStoreAllowed = "a trace store written by dcp sweep";

// What a store of each schema version holds, for the error that refuses one of another version.
std::string schema_description(const std::string& version) {
  if (version == "1") return "trace schema 1 (dims K..S, one spatial dim per level)";
  if (version == "2") return "trace schema 2 (dims K..S and the batch N, a fan-out per dim)";
  if (version == "3")
    return "trace schema 3 (per-tensor double buffering, L0 partitions, L1 and L2 bypass)";
  return "trace schema " + version;
}

std::optional<std::string> meta_value(Connection& connection, const std::string& key) {
  Statement query(connection, "SELECT value FROM meta WHERE key = ?");
  query.bind(0, key);
  if (!query.step()) return std::nullopt;
  return query.text(0);
}

// Opens an existing store and checks that it is an intact dcp trace store of this version.
std::unique_ptr<Connection> open_store(const std::string& path, bool writable) {
  if (!std::filesystem::is_regular_file(path))
    throw InputError(path, "", "no such file", kStoreAllowed);
  auto connection = std::make_unique<Connection>(
      path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, kStoreAllowed);
  std::string verdict;
  try {
    Statement check(*connection, "PRAGMA quick_check");
    verdict = check.step() ? check.text(0) : "no verdict";
  } catch (const InputError&) {
    verdict = sqlite3_errmsg(connection->handle());
  }
  if (verdict != "ok")
    throw InputError(path, "", "corrupt or not an SQLite file: " + verdict, kStoreAllowed);
  std::optional<std::string> format;
  {
    Statement tables(*connection,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    if (tables.step() && tables.integer(0) == 1) format = meta_value(*connection, "format");
  }
  if (format != std::string(kFormatMarker))
    throw InputError(path, "meta.format", "not a dcp trace store", kStoreAllowed);
  const std::string version = meta_value(*connection, "schema_version").value_or("missing");
  const std::string supported = std::to_string(kSchemaVersion);
  if (version != supported)
    throw InputError(path, "meta.schema_version",
                     "made with " + schema_description(version) + ", this dcp reads " +
                         schema_description(supported) + "; sweep it again with this dcp",
                     supported);
  return connection;
}

nlohmann::json stored_sweep_parameters(Connection& connection) {
  const std::string text = meta_value(connection, "sweep").value_or("");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw InputError(connection.path(), "meta.sweep", "is not JSON", kStoreAllowed);
  }
}

// The path of the first leaf where two parameter sets differ, with both values.
struct Difference {
  std::string field;
  std::string stored;
  std::string wanted;
};

std::optional<Difference> first_difference(const nlohmann::json& stored,
                                           const nlohmann::json& wanted, const std::string& field) {
  if (stored == wanted) return std::nullopt;
  if (stored.is_object() && wanted.is_object()) {
    for (const auto* side : {&stored, &wanted})
      for (const auto& entry : side->items()) {
        const std::string& key = entry.key();
        if (!stored.contains(key) || !wanted.contains(key))
          return Difference{field + "." + key,
                            stored.contains(key) ? stored[key].dump() : "nothing",
                            wanted.contains(key) ? wanted[key].dump() : "nothing"};
        if (auto difference = first_difference(stored[key], wanted[key], field + "." + key))
          return difference;
      }
  }
  if (stored.is_array() && wanted.is_array() && stored.size() == wanted.size()) {
    for (std::size_t i = 0; i < stored.size(); ++i)
      if (auto difference =
              first_difference(stored[i], wanted[i], field + "[" + std::to_string(i) + "]"))
        return difference;
  }
  if (stored.is_array() && wanted.is_array())
    return Difference{field, std::to_string(stored.size()) + " entries",
                      std::to_string(wanted.size()) + " entries"};
  return Difference{field, stored.dump(), wanted.dump()};
}

void require_same_parameters(const std::string& path, const nlohmann::json& stored,
                             const nlohmann::json& wanted, const std::string& wanted_label,
                             const std::string& allowed) {
  if (auto difference = first_difference(stored, wanted, "meta.sweep"))
    throw InputError(
        path, difference->field,
        "the store holds " + difference->stored + ", " + wanted_label + " " + difference->wanted,
        allowed);
}

}  // namespace

std::vector<TraceRecord> read_traces(const std::string& path) {
  const std::unique_ptr<Connection> connection = open_store(path, false);
  std::map<std::string, ArchSpec> archs;
  {
    Statement query(*connection, "SELECT " + archs_schema().column_list() + " FROM archs");
    while (query.step()) {
      ArchSpec arch;
      const std::string id = query.text(0);
      read_fields(query, 1, arch, path, [&] { return "archs[" + id + "]"; });
      arch.source = path;
      archs.emplace(id, std::move(arch));
    }
  }
  std::map<int64_t, std::pair<std::string, Layer>> layers;
  {
    Statement query(*connection, "SELECT " + layers_schema().column_list() + " FROM layers");
    while (query.step()) {
      Layer layer;
      const int64_t id = query.integer(0);
      read_fields(query, 2, layer, path, [&] { return "layers[" + std::to_string(id) + "]"; });
      layers.emplace(id, std::make_pair(query.text(1), std::move(layer)));
    }
  }
  std::vector<TraceRecord> records;
  {
    Statement count(*connection, "SELECT count(*) FROM samples");
    if (count.step()) records.reserve(static_cast<std::size_t>(count.integer(0)));
  }
  Statement query(*connection, "SELECT " + samples_schema().column_list() +
                                   " FROM samples ORDER BY sample_index");
  while (query.step()) {
    TraceRecord record;
    record.sample_index = query.integer(0);
    const auto row = [&] { return "samples[" + std::to_string(record.sample_index) + "]"; };
    const auto arch = archs.find(query.text(1));
    if (arch == archs.end()) throw InputError(path, row() + ".arch_id", "no such arch in archs");
    const auto layer = layers.find(query.integer(2));
    if (layer == layers.end())
      throw InputError(path, row() + ".layer_id", "no such layer in layers");
    record.arch = arch->second;
    record.layer_key = layer->second.first;
    record.layer = layer->second.second;
    record.sample_kind = query.text(3);
    record.dataflow = parse_dataflow_line(query.text(4), path, row() + ".dataflow");
    record.dataflow.name = "sample_" + std::to_string(record.sample_index);
    read_fields(query, kSampleLeadingColumns, record.result, path, row);
    records.push_back(std::move(record));
  }
  return records;
}

nlohmann::json read_sweep_parameters(const std::string& path) {
  return stored_sweep_parameters(*open_store(path, false));
}

struct TraceWriter::Database {
  std::unique_ptr<Connection> connection;
  nlohmann::json sweep_parameters;
  bool in_transaction = false;
  std::unique_ptr<Statement> insert_arch, insert_layer, insert_sample;
};

TraceWriter::TraceWriter(const std::string& path, const nlohmann::json& sweep_parameters)
    : database_(std::make_unique<Database>()) {
  database_->sweep_parameters = sweep_parameters;
  // An empty file is what an interrupted creation leaves behind: creating it again loses nothing.
  const bool exists = std::filesystem::exists(path) && std::filesystem::file_size(path) > 0;
  if (exists) {
    database_->connection = open_store(path, true);
    require_same_parameters(path, stored_sweep_parameters(*database_->connection), sweep_parameters,
                            "this sweep has",
                            "the parameters the store was swept with, or another store");
  } else {
    database_->connection = std::make_unique<Connection>(
        path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kStoreAllowed);
  }
  Connection& connection = *database_->connection;
  // WAL: readers (dcp train) see committed rows while a sweep appends; NORMAL sync keeps every
  // commit across a crash of the process, which is what resuming relies on.
  connection.execute("PRAGMA journal_mode = WAL");
  connection.execute("PRAGMA synchronous = NORMAL");
  if (!exists) {
    connection.execute("BEGIN");
    connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    for (const TableSchema* schema : data_schemas()) connection.execute(schema->create_sql());
    Statement insert(connection, "INSERT INTO meta (key, value) VALUES (?, ?)");
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"format", kFormatMarker},
             {"schema_version", std::to_string(kSchemaVersion)},
             {"sweep", sweep_parameters.dump()}}) {
      insert.bind(0, key);
      insert.bind(1, value);
      insert.run();
    }
    connection.execute("COMMIT");
  }
  database_->insert_arch =
      std::make_unique<Statement>(connection, archs_schema().insert_sql("INSERT OR IGNORE"));
  database_->insert_layer =
      std::make_unique<Statement>(connection, layers_schema().insert_sql("INSERT OR IGNORE"));
  database_->insert_sample =
      std::make_unique<Statement>(connection, samples_schema().insert_sql("INSERT"));
}

TraceWriter::~TraceWriter() {
  try {
    commit();
    // A finished store is one file. Readers open it read-only, so in WAL mode each of them would
    // leave an empty -wal and a -shm file beside it that it may not remove. A reader still open
    // keeps WAL mode (the change needs the only connection, and is not worth waiting for).
    database_->insert_arch.reset();
    database_->insert_layer.reset();
    database_->insert_sample.reset();
    sqlite3_busy_timeout(database_->connection->handle(), 0);
    database_->connection->execute("PRAGMA journal_mode = DELETE");
  } catch (const InputError&) {
    // A destructor must not throw; the rows of a failed commit are redone by the next run.
  }
}

void TraceWriter::add_arch(const ArchSpec& arch) {
  begin();
  Statement& insert = *database_->insert_arch;
  insert.bind(0, arch_content_id(arch));
  bind_fields(insert, 1, arch);
  insert.run();
}

void TraceWriter::add_layer(int64_t layer_id, const Layer& layer) {
  begin();
  Statement& insert = *database_->insert_layer;
  insert.bind(0, layer_id);
  insert.bind(1, layer_key(layer));
  bind_fields(insert, 2, layer);
  insert.run();
}

std::vector<int64_t> TraceWriter::sample_indices() {
  std::vector<int64_t> indices;
  Statement query(*database_->connection, "SELECT sample_index FROM samples ORDER BY sample_index");
  while (query.step()) indices.push_back(query.integer(0));
  return indices;
}

void TraceWriter::begin() {
  if (database_->in_transaction) return;
  database_->connection->execute("BEGIN");
  database_->in_transaction = true;
}

void TraceWriter::add_sample(const TraceRow& row) {
  begin();
  Statement& insert = *database_->insert_sample;
  insert.bind(0, row.sample_index);
  insert.bind(1, row.arch_id);
  insert.bind(2, row.layer_id);
  insert.bind(3, row.sample_kind);
  insert.bind(4, row.dataflow_line);
  bind_fields(insert, kSampleLeadingColumns, row.result);
  if (insert.run() == SQLITE_CONSTRAINT)
    throw InputError(database_->connection->path(),
                     "samples[" + std::to_string(row.sample_index) + "]", "is already stored");
  ++uncommitted_rows_;
}

void TraceWriter::commit() {
  if (!database_->in_transaction) return;
  database_->connection->execute("COMMIT");
  database_->in_transaction = false;
  uncommitted_rows_ = 0;
}

int64_t TraceWriter::merge_from(const std::string& path) {
  require_same_parameters(path, read_sweep_parameters(path), database_->sweep_parameters,
                          "the merged store has", "shards of one sweep (equal parameters)");
  commit();
  Connection& connection = *database_->connection;
  {
    Statement attach(connection, "ATTACH DATABASE ? AS source");
    attach.bind(0, path);
    attach.run();
  }
  int64_t rows_added = 0;
  try {
    connection.execute("BEGIN");
    for (const TableSchema* schema : data_schemas()) {
      // Rows both stores hold must agree in every column (IS compares NULLs too).
      const std::string key = schema->columns.front().name;
      std::string same = "1";
      for (const Column& column : schema->columns)
        same += " AND s." + column.name + " IS m." + column.name;
      Statement conflict(connection, "SELECT s." + key + " FROM source." + schema->name +
                                         " s JOIN main." + schema->name + " m ON s." + key +
                                         " = m." + key + " WHERE NOT (" + same + ") LIMIT 1");
      if (conflict.step())
        throw InputError(path, schema->name + "[" + conflict.text(0) + "]",
                         "differs from the row already in " + connection.path(),
                         "shards of one sweep, which agree on every row they share");
      const int before = sqlite3_total_changes(connection.handle());
      connection.execute("INSERT OR IGNORE INTO main." + schema->name + " (" +
                         schema->column_list() + ") SELECT " + schema->column_list() +
                         " FROM source." + schema->name);
      if (schema == &samples_schema())
        rows_added = sqlite3_total_changes(connection.handle()) - before;
    }
    connection.execute("COMMIT");
  } catch (const InputError&) {
    connection.execute("ROLLBACK");
    connection.execute("DETACH DATABASE source");
    throw;
  }
  connection.execute("DETACH DATABASE source");
  return rows_added;
}

int64_t merge_traces(const std::vector<std::string>& inputs, const std::string& out_path) {
  if (inputs.empty()) throw InputError("merge", "", "no stores to merge", "one or more stores");
  // Merged into a copy that replaces `out_path` only when every input merged: a failed merge
  // leaves the output as it was, or absent.
  const std::string partial = out_path + ".merging";
  std::filesystem::remove(partial);
  try {
    if (std::filesystem::exists(out_path)) std::filesystem::copy_file(out_path, partial);
    int64_t rows_added = 0;
    {
      TraceWriter writer(partial, read_sweep_parameters(inputs.front()));
      for (const std::string& input : inputs) rows_added += writer.merge_from(input);
    }
    std::filesystem::rename(partial, out_path);
    return rows_added;
  } catch (...) {
    std::filesystem::remove(partial);
    throw;
  }
}

}  // namespace dcp
