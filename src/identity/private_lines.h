// An append-only file of one JSON object per line that only its owner may read or write (mode
// 0600), shared between a running server and the CLI commands that add to it (DATA/tokens,
// DATA/users). Appends are whole lines under an exclusive flock; reads take a shared flock, so a
// line being appended is never seen half-written. A reader notices a change by the file's stamp.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal::identity {

// What identifies one content of an append-only file: a new line changes the size.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// The stamp of `path` now; a default stamp if it cannot be looked at.
FileStamp stamp_of_path(const std::string& path);

// The whole file (created empty with mode 0600 if `create` and absent), of at most `max_bytes`,
// read under a shared lock; `*stamp` is the file's stamp as read. A file others may read or write
// is refused.
Result<std::string> read_private_lines(const std::string& path, bool create, size_t max_bytes, FileStamp* stamp);

// Calls `parse_line` for every line of `text` (without its newline). A line without a newline at
// its end, or one `parse_line` refuses, fails with "PATH line N: <reason>".
Status for_each_line(std::string_view text, const std::string& path,
                     const std::function<Status(std::string_view line)>& parse_line);

// Appends `line` (which ends in '\n') under an exclusive lock and fsyncs; a failed write is cut
// back off so the file never keeps half a line.
Status append_private_line(const std::string& path, std::string_view line);

// fsyncs the directory holding `path`, so a newly created file survives a crash.
Status fsync_parent_dir(const std::string& path);

// True for one caller per interval: how often a reader may look at its file's stamp.
class RecheckGate {
 public:
  explicit RecheckGate(std::chrono::nanoseconds interval) : interval_(interval.count()) {}
  bool due() {
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    int64_t next = next_.load(std::memory_order_relaxed);
    if (now < next) return false;
    return next_.compare_exchange_strong(next, now + interval_);
  }

 private:
  const int64_t interval_;
  std::atomic<int64_t> next_{0};
};

}  // namespace medseal::identity
