#include "mapper/content_id.hpp"

#include <cstdio>

#include "arch/arch_fields.hpp"
#include "common/hash.hpp"

namespace dcp {

std::string content_hash(const std::string& bytes) {
  const uint64_t hash = fnv1a_64(bytes);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

nlohmann::json arch_to_json(const ArchSpec& arch) {
  nlohmann::json fields = nlohmann::json::object();
  visit_arch_fields(
      arch, [&](const ArchField& field, const auto& value) { fields[field.column] = value; });
  return fields;
}

std::string arch_content_id(const ArchSpec& arch) {
  return content_hash(arch_to_json(arch).dump());
}

}  // namespace dcp
