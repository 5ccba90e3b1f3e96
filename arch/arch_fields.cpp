#include "arch/arch_fields.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace dcp {

std::string arch_yaml_section(const ArchField& field) {
  const char* dot = std::strchr(field.yaml, '.');
  return dot ? std::string(field.yaml, dot) : "";
}

std::string arch_yaml_key(const ArchField& field) {
  const char* dot = std::strchr(field.yaml, '.');
  return dot ? dot + 1 : field.yaml;
}

const std::vector<ArchField>& arch_fields() {
  static const std::vector<ArchField> kFields = [] {
    std::vector<ArchField> fields;
    const ArchSpec any;
    visit_arch_fields(any, [&](const ArchField& field, const auto&) { fields.push_back(field); });
    return fields;
  }();
  return kFields;
}

std::vector<std::string> arch_yaml_keys(const std::string& section) {
  std::vector<std::string> keys;
  for (const ArchField& field : arch_fields()) {
    const std::string field_section = arch_yaml_section(field);
    // A top-level listing names each section once, where its first field is.
    const std::string key = section.empty() && !field_section.empty() ? field_section
                            : field_section == section                ? arch_yaml_key(field)
                                                                      : "";
    if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return keys;
}

std::size_t arch_field_position(const std::string& column) {
  const std::vector<ArchField>& fields = arch_fields();
  for (std::size_t position = 0; position < fields.size(); ++position)
    if (fields[position].column == column) return position;
  throw std::logic_error("no arch field '" + column + "'");
}

std::vector<double> arch_field_numbers(const ArchSpec& arch) {
  std::vector<double> numbers;
  visit_arch_fields(arch, [&](const ArchField&, const auto& value) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(value)>>)
      numbers.push_back(static_cast<double>(value));
    else
      numbers.push_back(std::numeric_limits<double>::quiet_NaN());
  });
  return numbers;
}

}  // namespace dcp
