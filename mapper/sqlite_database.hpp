#pragma once
// A thin RAII layer over SQLite: a connection whose every failure is an InputError naming the
// file, and prepared statements that bind and read the column types the trace store uses.
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "common/input_error.hpp"

namespace dcp {

class Connection {
 public:
  // `allowed` describes the files it may open, for errors.
  Connection(const std::string& path, int flags, const std::string& allowed)
      : path_(path), allowed_(allowed) {
    // One thread per connection: without SQLite's mutex every column read is cheaper.
    if (sqlite3_open_v2(path.c_str(), &handle_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      fail("cannot open");
    // Another process may be committing: wait for it rather than fail.
    sqlite3_busy_timeout(handle_, 10000);
  }
  ~Connection() { sqlite3_close_v2(handle_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[noreturn]] void fail(const std::string& what) const {
    const std::string problem = what + ": " + sqlite3_errmsg(handle_);
    // A full disk is no fault of the file: say what to do rather than which files are allowed.
    if (sqlite3_errcode(handle_) == SQLITE_FULL)
      throw InputError(path_, "", problem + "; free space on its disk and run the command again");
    throw InputError(path_, "", problem, allowed_);
  }
  void execute(const std::string& sql) {
    if (sqlite3_exec(handle_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      fail("SQLite error");
  }
  sqlite3* handle() const { return handle_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string allowed_;
  sqlite3* handle_ = nullptr;
};

class Statement {
 public:
  Statement(Connection& connection, const std::string& sql) : connection_(connection) {
    if (sqlite3_prepare_v2(connection.handle(), sql.c_str(), -1, &handle_, nullptr) != SQLITE_OK)
      connection.fail("SQLite error");
  }
  ~Statement() { sqlite3_finalize(handle_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // True while there is a row to read.
  bool step() {
    const int status = sqlite3_step(handle_);
    if (status == SQLITE_ROW) return true;
    if (status == SQLITE_DONE) return false;
    connection_.fail("SQLite error");
  }
  // Runs a statement that returns no rows and readies it for the next bindings.
  int run() {
    const int status = sqlite3_step(handle_);
    sqlite3_reset(handle_);
    if (status != SQLITE_DONE && status != SQLITE_CONSTRAINT) connection_.fail("SQLite error");
    return status;
  }

  void bind(int column, int64_t value) { sqlite3_bind_int64(handle_, column + 1, value); }
  void bind(int column, bool value) { bind(column, int64_t{value}); }
  void bind(int column, double value) { sqlite3_bind_double(handle_, column + 1, value); }
  void bind(int column, const std::string& value) {
    sqlite3_bind_text(handle_, column + 1, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
  }

  void read(int column, int64_t& value) const { value = sqlite3_column_int64(handle_, column); }
  void read(int column, bool& value) const { value = sqlite3_column_int64(handle_, column) != 0; }
  void read(int column, double& value) const { value = sqlite3_column_double(handle_, column); }
  void read(int column, std::string& value) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(handle_, column));
    value.assign(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(handle_, column)));
  }
  std::string text(int column) const {
    std::string value;
    read(column, value);
    return value;
  }
  int64_t integer(int column) const { return sqlite3_column_int64(handle_, column); }

 private:
  Connection& connection_;
  sqlite3_stmt* handle_ = nullptr;
};

}  // namespace dcp
