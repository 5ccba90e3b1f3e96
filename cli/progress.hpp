#pragma once
// A one-line progress display with rate and ETA for long jobs. It draws only when stderr is a
// terminal and the user did not ask for --quiet, so pipes and logs stay clean.
#include <chrono>
#include <cstdint>
#include <string>

namespace dcp::cli {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool quiet);
  ~Progress();
  void advance(int64_t items = 1);

 private:
  void draw(bool final);
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace dcp::cli
