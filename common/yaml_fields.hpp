#pragma once
// Typed, range-checked reads of YAML fields. All loaders (arch, workloads, dataflows) go through
// these so that every malformed value produces the same one-line InputError format.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/input_error.hpp"

namespace dcp {

// Where a node lives: the file it came from and the dotted path inside it ("layers[3].K").
struct FieldPath {
  std::string file;
  std::string path;

  FieldPath child(const std::string& key) const;
  FieldPath index(std::size_t i) const;
  [[noreturn]] void fail(const std::string& problem, const std::string& allowed = "") const;
};

// Parses a YAML file; a missing file or a syntax error becomes an InputError naming the file
// (and line for syntax errors).
YAML::Node load_yaml_file(const std::string& path);

// Required map / sequence at `node`.
void require_map(const YAML::Node& node, const FieldPath& where);
void require_sequence(const YAML::Node& node, const FieldPath& where);
// Fails on any key of `map` outside `known`, so that a misspelt optional field is reported
// instead of silently taking its default.
void require_known_keys(const YAML::Node& map, const FieldPath& where,
                        const std::vector<std::string>& known);

// Integer field in [min_value, max_value]. With no default the field is required.
int64_t read_int(const YAML::Node& map, const std::string& key, const FieldPath& where,
                 int64_t min_value, int64_t max_value,
                 std::optional<int64_t> default_value = std::nullopt);
double read_double(const YAML::Node& map, const std::string& key, const FieldPath& where,
                   double min_value, double max_value,
                   std::optional<double> default_value = std::nullopt);
bool read_bool(const YAML::Node& map, const std::string& key, const FieldPath& where,
               std::optional<bool> default_value = std::nullopt);
std::string read_string(const YAML::Node& map, const std::string& key, const FieldPath& where,
                        std::optional<std::string> default_value = std::nullopt);
// String that must be one of `allowed`.
std::string read_choice(const YAML::Node& map, const std::string& key, const FieldPath& where,
                        const std::vector<std::string>& allowed,
                        std::optional<std::string> default_value = std::nullopt);

}  // namespace dcp
