#pragma once
// The trace store's tables. Their columns come from the field tables of ArchSpec
// (arch/arch_fields.hpp), Layer (workloads/layer_identity.hpp) and Result (sim/result_fields.hpp):
// one visitor per struct serves the schema, the writer and the reader, so a new field cannot be
// stored but not read back.
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "mapper/sqlite_database.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace dcp {

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

const TableSchema& archs_schema();
const TableSchema& layers_schema();
const TableSchema& samples_schema();  // kSampleLeadingColumns, then the Result's fields
const std::array<const TableSchema*, 3>& data_schemas();
// Columns of a samples row before the Result's fields.
constexpr int kSampleLeadingColumns = 5;

// Binds every field of the struct from column `first` on.
void bind_fields(Statement& statement, int first, const ArchSpec& arch);
void bind_fields(Statement& statement, int first, const Layer& layer);
void bind_fields(Statement& statement, int first, const Result& result);

// Names a row ("samples[12]") for errors; called only on one: building the name for every row
// would slow reading 200k rows noticeably.
using RowName = std::function<std::string()>;
// Reads every field of the struct from column `first` on; a bad enum name becomes an InputError
// naming the file `path`, the row and the column.
void read_fields(const Statement& statement, int first, ArchSpec& arch, const std::string& path,
                 const RowName& row_name);
void read_fields(const Statement& statement, int first, Layer& layer, const std::string& path,
                 const RowName& row_name);
void read_fields(const Statement& statement, int first, Result& result, const std::string& path,
                 const RowName& row_name);

}  // namespace dcp
