#pragma once
// Plain-text tables: a header, rows of cells, columns padded to the widest cell.
#include <ostream>
#include <string>
#include <vector>

namespace dcp::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void add_rule() { rows_.emplace_back(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;  // an empty row draws a rule
};

// Number formatting shared by the commands: fixed decimals, or 3 significant digits with an
// exponent for very large or small values.
std::string format_fixed(double value, int decimals);
std::string format_number(double value);

}  // namespace dcp::cli
