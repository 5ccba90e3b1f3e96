#include "mapper/trace_schema.hpp"

#include <stdexcept>

#include "arch/arch_fields.hpp"
#include "sim/result_fields.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {
namespace {

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

void bind_value(Statement& statement, int column, LayerType value) {
  statement.bind(column, std::string(layer_type_name(value)));
}
void bind_value(Statement& statement, int column, Bound value) {
  statement.bind(column, std::string(bound_name(value)));
}
template <typename Value>
void bind_value(Statement& statement, int column, const Value& value) {
  statement.bind(column, value);
}
void read_value(const Statement& statement, int column, LayerType& value) {
  value = parse_layer_type(statement.text(column));
}
void read_value(const Statement& statement, int column, Bound& value) {
  value = parse_bound(statement.text(column));
}
template <typename Value>
void read_value(const Statement& statement, int column, Value& value) {
  statement.read(column, value);
}

// ---- Columns: one per visited field, named as the field tables name them.

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

// Binds every visited field from column `first` on.
template <typename Value, typename VisitFields>
void bind_visited_fields(Statement& statement, int first, const Value& value,
                         VisitFields visit_fields) {
  int column = first;
  visit_fields(value, [&](const std::string&, const auto& field) {
    bind_value(statement, column++, field);
  });
}

template <typename Value, typename VisitFields>
void read_visited_fields(const Statement& statement, int first, Value& value,
                         VisitFields visit_fields, const std::string& path,
                         const RowName& row_name) {
  int column = first;
  visit_fields(value, [&](const std::string& name, auto& field) {
    try {
      read_value(statement, column++, field);
    } catch (const std::invalid_argument& error) {
      throw InputError(path, row_name() + "." + name, error.what());
    }
  });
}

template <typename Value, typename VisitFields>
TableSchema make_schema(const std::string& table, std::vector<Column> leading,
                        VisitFields visit_fields) {
  Value value{};
  visit_fields(value, [&](const std::string& name, const auto& field) {
    leading.push_back({name, sql_type(field)});
  });
  return {table, std::move(leading)};
}

// The field tables' entries under their column names.
const auto kArchFields = [](auto& arch, auto&& visit) {
  visit_arch_fields(arch, [&](const ArchField& field, auto& value) { visit(field.column, value); });
};
const auto kLayerFields = [](auto& layer, auto&& visit) { visit_layer_fields(layer, visit); };
const auto kResultFields = [](auto& result, auto&& visit) {
  visit_result_fields(result,
                      [&](const ResultField& field, auto& value) { visit(field.column, value); });
};

}  // namespace

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

void bind_fields(Statement& statement, int first, const ArchSpec& arch) {
  bind_visited_fields(statement, first, arch, kArchFields);
}
void bind_fields(Statement& statement, int first, const Layer& layer) {
  bind_visited_fields(statement, first, layer, kLayerFields);
}
void bind_fields(Statement& statement, int first, const Result& result) {
  bind_visited_fields(statement, first, result, kResultFields);
}

void read_fields(const Statement& statement, int first, ArchSpec& arch, const std::string& path,
                 const RowName& row_name) {
  read_visited_fields(statement, first, arch, kArchFields, path, row_name);
}
void read_fields(const Statement& statement, int first, Layer& layer, const std::string& path,
                 const RowName& row_name) {
  read_visited_fields(statement, first, layer, kLayerFields, path, row_name);
}
void read_fields(const Statement& statement, int first, Result& result, const std::string& path,
                 const RowName& row_name) {
  read_visited_fields(statement, first, result, kResultFields, path, row_name);
}

}  // namespace dcp
