#include "tests/fuzz/fuzz_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace dcp::fuzz {
namespace {

constexpr int kInputSlots = 2;

// One memfd per slot for the whole run: creating files per input would dominate the run time.
int slot_descriptor(int slot) {
  static std::array<int, kInputSlots> descriptors = [] {
    std::array<int, kInputSlots> created{};
    for (int& descriptor : created) {
      descriptor = memfd_create("dcp-fuzz-input", 0);
      if (descriptor < 0) {
        std::perror("memfd_create");
        std::abort();
      }
    }
    return created;
  }();
  return descriptors.at(slot);
}

}  // namespace

std::string write_input_file(const uint8_t* data, std::size_t size, int slot) {
  const int descriptor = slot_descriptor(slot);
  if (ftruncate(descriptor, 0) != 0 ||
      pwrite(descriptor, data, size, 0) != static_cast<ssize_t>(size)) {
    std::perror("writing the fuzz input");
    std::abort();
  }
  return "/proc/self/fd/" + std::to_string(descriptor);
}

std::string write_input_file(const std::string& bytes, int slot) {
  return write_input_file(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), slot);
}

void require_one_line(const InputError& error) {
  const std::string message = error.what();
  if (message.empty() || message.find_first_of("\n\r") != std::string::npos) {
    std::fprintf(stderr, "InputError is not one line: [%s]\n", message.c_str());
    std::abort();
  }
}

std::string source_path(const std::string& relative) {
  return std::string(DCP_SOURCE_DIR) + "/" + relative;
}

}  // namespace dcp::fuzz
