#include "mapper/trace_store.hpp"

#include <sqlite3.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>

#include "arch/arch_fields.hpp"
#include "common/hash.hpp"
#include "common/input_error.hpp"
#include "sim/result_fields.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {
namespace {

constexpr const char* kFormatMarker = "dcp-traces";
// 2: seven dims (the batch N joined K..S) and a fan-out per dim in the dataflow line.
constexpr int kSchemaVersion = 3;
constexpr const char* kStoreAllowed = "a trace store written by dcp sweep";
constexpr const char* kLineAllowed =
    "three levels '<spatial>:<order>:<K>,<C>,<Y>,<X>,<R>,<S>,<N>' joined by '|', <spatial> '-' "
    "or <dim><fan-out >= 2>[r|c] per unrolled dim";
// Written after a fan-out whose dim is bound to an array axis.
constexpr char kRowsMark = 'r';
constexpr char kColsMark = 'c';

// What a store of each schema version holds, for the error that refuses one of another version.
std::string schema_description(const std::string& version) {
  if (version == "1") return "trace schema 1 (dims K..S, one spatial dim per level)";
  if (version == "2") return "trace schema 2 (dims K..S and the batch N, a fan-out per dim)";
  if (version == "3")
    return "trace schema 3 (per-tensor double buffering, L0 partitions, L1 and L2 bypass)";
  return "trace schema " + version;
}

// ---- Fields of each stored struct, in column order. One visitor per struct serves the schema,
// the writer, the reader and the JSON, so a new field cannot be stored but not read back.

// ---- Enums stored as their names.

template <typename Enum, std::size_t N>
Enum parse_name(const std::string& text, const std::array<Enum, N>& values,
                const char* (*name_of)(Enum)) {
  for (const Enum value : values)
    if (text == name_of(value)) return value;
  std::string allowed;
  for (const Enum value : values)
    allowed += (allowed.empty() ? "" : ", ") + std::string(name_of(value));
  throw std::invalid_argument("unknown value '" + text + "' (allowed: " + allowed + ")");
}

LayerType parse_layer_type(const std::string& text) {
  return parse_name<LayerType, 4>(
      text, {LayerType::Conv, LayerType::DepthwiseConv, LayerType::Gemm, LayerType::Matmul},
      layer_type_name);
}

Bound parse_bound(const std::string& text) {
  return parse_name<Bound, 4>(text, {Bound::Compute, Bound::L2, Bound::Noc, Bound::Dram},
                              bound_name);
}

// ---- SQLite access.

const char* sql_type(const int64_t&) {
  return "INTEGER";
}
const char* sql_type(const bool&) {
  return "INTEGER";
}
const char* sql_type(const double&) {
  return "REAL";
}
const char* sql_type(const std::string&) {
  return "TEXT";
}
const char* sql_type(const LayerType&) {
  return "TEXT";
}
const char* sql_type(const Bound&) {
  return "TEXT";
}

class Connection {
 public:
  Connection(const std::string& path, int flags) : path_(path) {
    // One thread per connection: without SQLite's mutex every column read is cheaper.
    if (sqlite3_open_v2(path.c_str(), &handle_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      fail("cannot open");
    // Another process may be committing: wait for it rather than fail.
    sqlite3_busy_timeout(handle_, 10000);
  }
  ~Connection() { sqlite3_close_v2(handle_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(path_, "", what + ": " + sqlite3_errmsg(handle_), kStoreAllowed);
  }
  void execute(const std::string& sql) {
    if (sqlite3_exec(handle_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      fail("SQLite error");
  }
  sqlite3* handle() const { return handle_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* handle_ = nullptr;
};

class Statement {
 public:
  Statement(Connection& connection, const std::string& sql) : connection_(connection) {
    if (sqlite3_prepare_v2(connection.handle(), sql.c_str(), -1, &handle_, nullptr) != SQLITE_OK)
      connection.fail("SQLite error");
  }
  ~Statement() { sqlite3_finalize(handle_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // True while there is a row to read.
  bool step() {
    const int status = sqlite3_step(handle_);
    if (status == SQLITE_ROW) return true;
    if (status == SQLITE_DONE) return false;
    connection_.fail("SQLite error");
  }
  // Runs a statement that returns no rows and readies it for the next bindings.
  int run() {
    const int status = sqlite3_step(handle_);
    sqlite3_reset(handle_);
    if (status != SQLITE_DONE && status != SQLITE_CONSTRAINT) connection_.fail("SQLite error");
    return status;
  }

  void bind(int column, int64_t value) { sqlite3_bind_int64(handle_, column + 1, value); }
  void bind(int column, bool value) { bind(column, int64_t{value}); }
  void bind(int column, double value) { sqlite3_bind_double(handle_, column + 1, value); }
  void bind(int column, const std::string& value) {
    sqlite3_bind_text(handle_, column + 1, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
  }
  void bind(int column, LayerType value) { bind(column, std::string(layer_type_name(value))); }
  void bind(int column, Bound value) { bind(column, std::string(bound_name(value))); }

  void read(int column, int64_t& value) const { value = sqlite3_column_int64(handle_, column); }
  void read(int column, bool& value) const { value = sqlite3_column_int64(handle_, column) != 0; }
  void read(int column, double& value) const { value = sqlite3_column_double(handle_, column); }
  void read(int column, std::string& value) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(handle_, column));
    value.assign(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(handle_, column)));
  }
  void read(int column, LayerType& value) const { value = parse_layer_type(text(column)); }
  void read(int column, Bound& value) const { value = parse_bound(text(column)); }
  std::string text(int column) const {
    std::string value;
    read(column, value);
    return value;
  }
  int64_t integer(int column) const { return sqlite3_column_int64(handle_, column); }

 private:
  Connection& connection_;
  sqlite3_stmt* handle_ = nullptr;
};

// Binds every visited field from column `first` on.
template <typename Value, typename VisitFields>
void bind_fields(Statement& statement, int first, const Value& value, VisitFields visit_fields) {
  int column = first;
  visit_fields(value,
               [&](const std::string&, const auto& field) { statement.bind(column++, field); });
}

// Reads every visited field from column `first` on; a bad enum name becomes an InputError naming
// the table, the row and the column. `row_name` is called only then: building it for every row
// would slow reading 200k rows noticeably.
template <typename Value, typename VisitFields, typename RowName>
void read_fields(const Statement& statement, int first, Value& value, VisitFields visit_fields,
                 const std::string& path, const RowName& row_name) {
  int column = first;
  visit_fields(value, [&](const std::string& name, auto& field) {
    try {
      statement.read(column++, field);
    } catch (const std::invalid_argument& error) {
      throw InputError(path, row_name() + "." + name, error.what());
    }
  });
}

struct Column {
  std::string name;
  std::string type;
};

struct TableSchema {
  std::string name;
  std::vector<Column> columns;  // the primary key first

  std::string column_list(const std::string& prefix = "") const {
    std::string list;
    for (const Column& column : columns) list += (list.empty() ? "" : ", ") + prefix + column.name;
    return list;
  }
  std::string create_sql() const {
    std::string sql = "CREATE TABLE " + name + " (";
    for (std::size_t i = 0; i < columns.size(); ++i)
      sql += (i ? ", " : "") + columns[i].name + " " + columns[i].type + (i ? " NOT NULL" : "");
    return sql + ")";
  }
  std::string insert_sql(const std::string& verb) const {
    std::string placeholders;
    for (std::size_t i = 0; i < columns.size(); ++i) placeholders += i ? ",?" : "?";
    return verb + " INTO " + name + " (" + column_list() + ") VALUES (" + placeholders + ")";
  }
};

template <typename Value, typename VisitFields>
TableSchema make_schema(const std::string& table, std::vector<Column> leading,
                        VisitFields visit_fields) {
  Value value{};
  visit_fields(value, [&](const std::string& name, const auto& field) {
    leading.push_back({name, sql_type(field)});
  });
  return {table, std::move(leading)};
}

// The arch table's entries under their column names (arch/arch_fields.hpp).
const auto kArchFields = [](auto& arch, auto&& visit) {
  visit_arch_fields(arch, [&](const ArchField& field, auto& value) { visit(field.column, value); });
};
const auto kLayerFields = [](auto& layer, auto&& visit) { visit_layer_fields(layer, visit); };
const auto kResultFields = [](auto& result, auto&& visit) {
  visit_result_fields(result,
                      [&](const ResultField& field, auto& value) { visit(field.column, value); });
};

const TableSchema& archs_schema() {
  static const TableSchema schema =
      make_schema<ArchSpec>("archs", {{"arch_id", "TEXT PRIMARY KEY"}}, kArchFields);
  return schema;
}
const TableSchema& layers_schema() {
  static const TableSchema schema = make_schema<Layer>(
      "layers", {{"layer_id", "INTEGER PRIMARY KEY"}, {"layer_key", "TEXT"}}, kLayerFields);
  return schema;
}
// Columns before the Result's fields.
constexpr int kSampleLeadingColumns = 5;
const TableSchema& samples_schema() {
  static const TableSchema schema = make_schema<Result>("samples",
                                                        {{"sample_index", "INTEGER PRIMARY KEY"},
                                                         {"arch_id", "TEXT"},
                                                         {"layer_id", "INTEGER"},
                                                         {"sample_kind", "TEXT"},
                                                         {"dataflow", "TEXT"}},
                                                        kResultFields);
  return schema;
}
const std::array<const TableSchema*, 3>& data_schemas() {
  static const std::array<const TableSchema*, 3> schemas = {&archs_schema(), &layers_schema(),
                                                            &samples_schema()};
  return schemas;
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
  auto connection =
      std::make_unique<Connection>(path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
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

// Parses the one-line dataflow form; every error names the character where it went wrong.
class LineParser {
 public:
  // `sample_index`, when given, names the row in errors.
  LineParser(const std::string& text, const std::string& source,
             std::optional<int64_t> sample_index = std::nullopt)
      : text_(text),
        source_(source),
        sample_index_(sample_index),
        position_(text.data()),
        end_(text.data() + text.size()) {}

  Dataflow parse() {
    Dataflow dataflow;
    for (int level = 0; level < kNumLevels; ++level) {
      if (level > 0) expect('|');
      LevelMapping& mapping = dataflow.levels[level];
      spatial_map(mapping);
      expect(':');
      unsigned seen = 0;
      for (Dim& ordered : mapping.order) {
        ordered = dim();
        const unsigned bit = 1u << dim_index(ordered);
        if (seen & bit) fail("a dim repeated in the loop order");
        seen |= bit;
      }
      expect(':');
      for (int d = 0; d < kNumDims; ++d) {
        if (d > 0) expect(',');
        mapping.tile[d] = integer(1);
      }
    }
    if (position_ != end_) fail("the end of the line");
    return dataflow;
  }

 private:
  // '-', or per unrolled dim its letter, its fan-out and maybe its axis mark.
  void spatial_map(LevelMapping& mapping) {
    if (position_ != end_ && *position_ == '-') {
      ++position_;
      return;
    }
    do {
      const int d = dim_index(dim());
      if (mapping.fanout[d] != 1) fail("a dim not yet in the spatial map");
      mapping.fanout[d] = integer(2);
      if (position_ != end_ && (*position_ == kRowsMark || *position_ == kColsMark))
        mapping.axis[d] = *position_++ == kRowsMark ? Axis::Rows : Axis::Cols;
    } while (position_ != end_ && *position_ != ':');
  }

  [[noreturn]] void fail(const std::string& expected) const {
    const std::string field =
        sample_index_ ? "samples[" + std::to_string(*sample_index_) + "].dataflow" : "dataflow";
    throw InputError(source_, field,
                     "cannot parse '" + text_ + "' at character " +
                         std::to_string(position_ - text_.data() + 1) + ": expected " + expected,
                     kLineAllowed);
  }
  void expect(char separator) {
    if (position_ == end_ || *position_ != separator) fail(std::string("'") + separator + "'");
    ++position_;
  }
  Dim dim() {
    Dim parsed;
    if (position_ == end_ || !parse_dim(std::string(1, *position_), parsed)) fail("a dim letter");
    ++position_;
    return parsed;
  }
  int64_t integer(int64_t least) {
    int64_t value = 0;
    const auto [next, error] = std::from_chars(position_, end_, value);
    if (error != std::errc() || value < least) fail("an integer >= " + std::to_string(least));
    position_ = next;
    return value;
  }

  const std::string& text_;
  const std::string& source_;
  std::optional<int64_t> sample_index_;
  const char* position_;
  const char* end_;
};

}  // namespace

std::string format_dataflow_line(const Dataflow& dataflow) {
  std::string line;
  for (int level = 0; level < kNumLevels; ++level) {
    const LevelMapping& mapping = dataflow.levels[level];
    if (level > 0) line += '|';
    if (mapping.spatial_dims().empty()) line += '-';
    for (const Dim dim : mapping.spatial_dims()) {
      const int d = dim_index(dim);
      line += dim_letter(dim) + std::to_string(mapping.fanout[d]);
      if (mapping.axis[d] != Axis::Any)
        line += mapping.axis[d] == Axis::Rows ? kRowsMark : kColsMark;
    }
    line += ':';
    for (const Dim dim : mapping.order) line += dim_letter(dim);
    for (int d = 0; d < kNumDims; ++d)
      line += (d == 0 ? ':' : ',') + std::to_string(mapping.tile[d]);
  }
  return line;
}

Dataflow parse_dataflow_line(const std::string& text, const std::string& source) {
  return LineParser(text, source).parse();
}

std::string content_hash(const std::string& bytes) {
  const uint64_t hash = fnv1a_64(bytes);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

nlohmann::json arch_to_json(const ArchSpec& arch) {
  nlohmann::json fields = nlohmann::json::object();
  kArchFields(arch, [&](const char* column, const auto& value) { fields[column] = value; });
  return fields;
}

std::string arch_content_id(const ArchSpec& arch) {
  return content_hash(arch_to_json(arch).dump());
}

std::vector<TraceRecord> read_traces(const std::string& path) {
  const std::unique_ptr<Connection> connection = open_store(path, false);
  std::map<std::string, ArchSpec> archs;
  {
    Statement query(*connection, "SELECT " + archs_schema().column_list() + " FROM archs");
    while (query.step()) {
      ArchSpec arch;
      const std::string id = query.text(0);
      read_fields(query, 1, arch, kArchFields, path, [&] { return "archs[" + id + "]"; });
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
      read_fields(query, 2, layer, kLayerFields, path,
                  [&] { return "layers[" + std::to_string(id) + "]"; });
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
    record.dataflow = LineParser(query.text(4), path, record.sample_index).parse();
    record.dataflow.name = "sample_" + std::to_string(record.sample_index);
    read_fields(query, kSampleLeadingColumns, record.result, kResultFields, path, row);
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
    database_->connection =
        std::make_unique<Connection>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
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
  } catch (const InputError&) {
    // A destructor must not throw; the rows of a failed commit are redone by the next run.
  }
}

void TraceWriter::add_arch(const ArchSpec& arch) {
  begin();
  Statement& insert = *database_->insert_arch;
  insert.bind(0, arch_content_id(arch));
  bind_fields(insert, 1, arch, kArchFields);
  insert.run();
}

void TraceWriter::add_layer(int64_t layer_id, const Layer& layer) {
  begin();
  Statement& insert = *database_->insert_layer;
  insert.bind(0, layer_id);
  insert.bind(1, layer_key(layer));
  bind_fields(insert, 2, layer, kLayerFields);
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
  bind_fields(insert, kSampleLeadingColumns, row.result, kResultFields);
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
