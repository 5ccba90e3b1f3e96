#pragma once
// Content identities: the same content gets the same id wherever it was read from (trace store
// keys, search traces' parameters).
#include <nlohmann/json.hpp>
#include <string>

#include "arch/arch_spec.hpp"

namespace dcp {

// 16 hex digits of a 64-bit FNV-1a hash: identifies content (arch fields, model files).
std::string content_hash(const std::string& bytes);
// Every ArchSpec field except `source` under its column name (arch/arch_fields.hpp), so that one
// arch read from two paths is one arch.
nlohmann::json arch_to_json(const ArchSpec& arch);
// content_hash of arch_to_json: the key of the trace store's `archs` table.
std::string arch_content_id(const ArchSpec& arch);

}  // namespace dcp
