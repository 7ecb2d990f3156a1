// POSIX file helpers shared by the modules that keep small files of their own (keys, tokens).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal {

// A file descriptor, closed on every path out of a scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// Writes all of `data` (retrying short writes and EINTR); kIoError naming `path` otherwise.
Status write_all(int fd, std::string_view data, const std::string& path);

// Makes the creation, renaming or removal of files in `dir` durable.
Status fsync_dir(const std::string& dir);

}  // namespace medseal
