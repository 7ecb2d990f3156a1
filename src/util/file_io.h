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

// The whole file at `path` through read_bounded; kNotFound if it does not exist.
Result<std::string> read_file_bounded(const std::string& path, size_t max_bytes);

// Replaces `path` with `bytes` through a temporary file (path.tmp, mode 0644) and a rename, so a
// reader sees the old file or the whole new one. With `durable`, the data and the rename are
// fsynced before it returns; without, durability is the caller's (e.g. one syncfs for many files).
Status replace_file(const std::string& path, std::string_view bytes, bool durable);

}  // namespace medseal
