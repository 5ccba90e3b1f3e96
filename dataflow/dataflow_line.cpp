#include "dataflow/dataflow_line.hpp"

#include <charconv>

#include "common/input_error.hpp"

namespace dcp {
namespace {

constexpr const char* kLineAllowed =
    "three levels '<spatial>:<order>:<K>,<C>,<Y>,<X>,<R>,<S>,<N>' joined by '|', <spatial> '-' "
    "or <dim><fan-out >= 2>[r|c] per unrolled dim";
// Written after a fan-out whose dim is bound to an array axis.
constexpr char kRowsMark = 'r';
constexpr char kColsMark = 'c';

// Parses the one-line dataflow form; every error names the character where it went wrong.
class LineParser {
 public:
  LineParser(const std::string& text, const std::string& source, const std::string& field)
      : text_(text),
        source_(source),
        field_(field),
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
    throw InputError(source_, field_,
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
  const std::string& field_;
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

Dataflow parse_dataflow_line(const std::string& text, const std::string& source,
                             const std::string& field) {
  return LineParser(text, source, field).parse();
}

}  // namespace dcp
