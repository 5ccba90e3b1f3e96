#pragma once
// Whole-buffer reads and writes on pipes between dcp and its forked children (sweep workers,
// ONNX shape inference): read() and write() may move fewer bytes than asked or be interrupted by
// a signal, so these loop until every byte has moved.
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace dcp {

namespace fd_io_detail {
template <typename Byte, typename Io>
bool move_all(int fd, Byte* bytes, std::size_t size, Io io) {
  while (size > 0) {
    const ssize_t moved = io(fd, bytes, size);
    if (moved < 0 && errno == EINTR) continue;
    if (moved <= 0) return false;
    bytes += moved;
    size -= static_cast<std::size_t>(moved);
  }
  return true;
}
}  // namespace fd_io_detail

// False on an error (or, for read_exact, end of file before `size` bytes).
inline bool write_all(int fd, const void* data, std::size_t size) {
  return fd_io_detail::move_all(fd, static_cast<const char*>(data), size, ::write);
}

inline bool read_exact(int fd, void* data, std::size_t size) {
  return fd_io_detail::move_all(fd, static_cast<char*>(data), size, ::read);
}

}  // namespace dcp
