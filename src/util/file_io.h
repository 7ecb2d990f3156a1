// POSIX file helpers shared by the modules that keep small files of their own (keys, tokens).
#pragma once

#include <sys/stat.h>

#include <cstddef>
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

// The whole content of an open file, read from its start; kInvalidArgument if it holds more than
// `max_bytes` (such files are ours and small: a larger one is not what we wrote).
Result<std::string> read_bounded(const Fd& fd, const std::string& path, size_t max_bytes);

// kFailedPrecondition unless `st` describes a regular file that neither group nor others may
// access: secrets (keys, tokens) are refused rather than used when the mode leaks them.
Status check_private_file(const struct stat& st, const std::string& path);

// Makes the creation, renaming or removal of files in `dir` durable.
Status fsync_dir(const std::string& dir);

}  // namespace medseal
