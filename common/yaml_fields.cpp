#include "common/yaml_fields.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace dcp {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : ", ") + item;
  return joined;
}

std::string describe(const YAML::Node& node) {
  // A missing key yields an invalid node whose Type() throws; IsDefined() is safe on it.
  if (!node.IsDefined()) return "nothing";
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a map";
  }
  return "an unknown node";
}

template <typename Number>
std::string number_text(Number value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// An unbounded maximum reads better as ">= min" than as a 19-digit number.
template <typename Number>
std::string range_text(Number min_value, Number max_value) {
  if (max_value == std::numeric_limits<Number>::max()) return ">= " + number_text(min_value);
  return number_text(min_value) + ".." + number_text(max_value);
}

// from_chars rather than yaml-cpp's conversion, which reads "010" as octal and "0x10" as hex:
// only plain decimal text, consumed in full, is a number here.
template <typename Number>
std::optional<Number> parse_number(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  Number value{};
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

// The part every typed read shares: a missing or null field takes the default or is reported
// as missing; otherwise the node must be a scalar that `parse` accepts.
template <typename Value, typename Parse>
Value read_scalar(const YAML::Node& map, const std::string& key, const FieldPath& where,
                  const std::optional<Value>& default_value, const std::string& expected,
                  const std::string& allowed, Parse parse) {
  require_map(map, where);
  const FieldPath field = where.child(key);
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) {
    if (default_value) return *default_value;
    field.fail("missing required field", allowed);
  }
  if (node.IsScalar()) {
    if (const std::optional<Value> value = parse(node)) return *value;
  }
  field.fail("expected " + expected + ", got " + describe(node), allowed);
}

template <typename Number>
Number read_number(const YAML::Node& map, const std::string& key, const FieldPath& where,
                   Number min_value, Number max_value, std::optional<Number> default_value,
                   const std::string& expected) {
  const std::string allowed = range_text(min_value, max_value);
  const Number value =
      read_scalar(map, key, where, default_value, expected, allowed, parse_number<Number>);
  // Written so that NaN fails too.
  if (!(value >= min_value && value <= max_value)) {
    where.child(key).fail(number_text(value) + " is out of range", allowed);
  }
  return value;
}

bool is_printable_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return false;
    // The lead byte gives the sequence length; overlong and surrogate forms are not checked, as
    // they print no worse than any other character.
    const int length = byte < 0x80           ? 1
                       : (byte >> 5) == 0x6  ? 2
                       : (byte >> 4) == 0xe  ? 3
                       : (byte >> 3) == 0x1e ? 4
                                             : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (int continuation = 1; continuation < length; ++continuation)
      if ((static_cast<unsigned char>(text[i + continuation]) >> 6) != 0x2) return false;
    i += static_cast<std::size_t>(length);
  }
  return true;
}

}  // namespace

FieldPath FieldPath::child(const std::string& key) const {
  return {file, path.empty() ? key : path + "." + key};
}

FieldPath FieldPath::index(std::size_t i) const {
  return {file, path + "[" + std::to_string(i) + "]"};
}

void FieldPath::fail(const std::string& problem, const std::string& allowed) const {
  throw InputError(file, path, problem, allowed);
}

YAML::Node load_yaml_file(const std::string& path) {
  std::ifstream stream(path);
  // A directory opens fine but throws from deep inside the parser on the first read.
  if (!stream || std::filesystem::is_directory(path)) {
    throw InputError(path, "", "cannot open file");
  }
  try {
    return YAML::Load(stream);
  } catch (const YAML::Exception& error) {
    const std::string line =
        error.mark.is_null() ? "" : "line " + std::to_string(error.mark.line + 1);
    throw InputError(path, line, error.msg);
  }
}

void require_map(const YAML::Node& node, const FieldPath& where) {
  // A missing key is an invalid node, whose IsMap() throws yaml-cpp's InvalidNode.
  if (!node.IsDefined()) where.fail("missing required field", "a map");
  if (!node.IsMap()) where.fail("expected a map, got " + describe(node));
}

void require_sequence(const YAML::Node& node, const FieldPath& where) {
  if (!node.IsDefined()) where.fail("missing required field", "a sequence");
  if (!node.IsSequence()) where.fail("expected a sequence, got " + describe(node));
}

void require_known_keys(const YAML::Node& map, const FieldPath& where,
                        const std::vector<std::string>& known) {
  require_map(map, where);
  for (const auto& entry : map) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : describe(entry.first);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      where.child(key).fail("unknown field", join(known));
    }
  }
}

int64_t read_int(const YAML::Node& map, const std::string& key, const FieldPath& where,
                 int64_t min_value, int64_t max_value, std::optional<int64_t> default_value) {
  return read_number(map, key, where, min_value, max_value, default_value, "an integer");
}

double read_double(const YAML::Node& map, const std::string& key, const FieldPath& where,
                   double min_value, double max_value, std::optional<double> default_value) {
  return read_number(map, key, where, min_value, max_value, default_value, "a number");
}

bool read_bool(const YAML::Node& map, const std::string& key, const FieldPath& where,
               std::optional<bool> default_value) {
  return read_scalar(map, key, where, default_value, "a boolean", "true, false",
                     [](const YAML::Node& node) -> std::optional<bool> {
                       bool value = false;
                       if (!YAML::convert<bool>::decode(node, value)) return std::nullopt;
                       return value;
                     });
}

std::string read_string(const YAML::Node& map, const std::string& key, const FieldPath& where,
                        std::optional<std::string> default_value) {
  const std::string text =
      read_scalar(map, key, where, default_value, "a string", "",
                  [](const YAML::Node& node) { return std::optional(node.Scalar()); });
  // Names and paths end up in tables, file names, YAML written back and one-line errors, where a
  // control character or a broken UTF-8 sequence would garble or split the line.
  if (!is_printable_utf8(text))
    where.child(key).fail("holds a control character or invalid UTF-8", "printable UTF-8 text");
  return text;
}

std::string read_choice(const YAML::Node& map, const std::string& key, const FieldPath& where,
                        const std::vector<std::string>& allowed,
                        std::optional<std::string> default_value) {
  return read_scalar(map, key, where, default_value, "one of the allowed values", join(allowed),
                     [&allowed](const YAML::Node& node) -> std::optional<std::string> {
                       const std::string& text = node.Scalar();
                       if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
                         return std::nullopt;
                       }
                       return text;
                     });
}

}  // namespace dcp
