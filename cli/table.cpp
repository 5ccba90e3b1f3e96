#include "cli/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>

namespace dcp::cli {

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], cells[i].size());
  };
  widen(header_);
  for (const auto& row : rows_) widen(row);
  auto print_row = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      // First column (names) left-aligned, numbers right-aligned.
      out << (i == 0 ? std::left : std::right) << std::setw(static_cast<int>(widths[i])) << cell
          << (i + 1 < widths.size() ? "  " : "\n");
    }
  };
  auto print_rule = [&] {
    std::size_t total = 0;
    for (std::size_t width : widths) total += width + 2;
    out << std::string(total - 2, '-') << "\n";
  };
  print_row(header_);
  print_rule();
  for (const auto& row : rows_) {
    if (row.empty())
      print_rule();
    else
      print_row(row);
  }
}

std::string format_fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string format_number(double value) {
  char text[64];
  const double magnitude = std::fabs(value);
  if (magnitude != 0 && (magnitude >= 1e7 || magnitude < 1e-2))
    std::snprintf(text, sizeof text, "%.3g", value);
  else
    std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

}  // namespace dcp::cli
