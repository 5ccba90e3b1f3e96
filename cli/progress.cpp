#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace dcp::cli {

namespace {

std::string format_duration(double seconds) {
  const auto whole = static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", whole / 60, whole % 60);
  return text;
}

}  // namespace

Progress::Progress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)),
      total_(total),
      enabled_(!quiet && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (enabled_ && done_ > 0) draw(true);
}

void Progress::advance(int64_t items) {
  done_ += items;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redrawing more than ten times a second costs time and flickers.
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::draw(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
  std::fprintf(stderr, "\r%s %lld/%lld  %.1f/s  elapsed %s  ETA %s\033[K%s", label_.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), rate,
               format_duration(elapsed).c_str(), format_duration(eta).c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace dcp::cli
