#include "sim/result_json.hpp"

#include "sim/result_fields.hpp"

namespace dcp {
namespace {

template <typename Value>
const Value& json_value(const Value& value) {
  return value;
}
const char* json_value(Bound bound) {
  return bound_name(bound);
}

}  // namespace

nlohmann::json result_to_json(const Result& result) {
  nlohmann::json json = nlohmann::json::object();
  visit_result_fields(result, [&](const ResultField& field, const auto& value) {
    json[field.json] = json_value(value);
  });
  // Derived, so not a stored field.
  json["edp"] = result.edp();
  return json;
}

}  // namespace dcp
