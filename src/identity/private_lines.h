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
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

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

// The state built from a private-lines file by applying its lines in order, shared by readers on
// many threads and re-read when the file changes. This process's appends and re-reads are ordered
// by file_mutex(); readers take only the state's own shared lock.
template <typename State>
class WatchedLines {
 public:
  using ApplyLine = Status (*)(std::string_view line, State& state);

  // Reads the file at `path`, creating it (mode 0600, its directory fsynced) if absent. A line
  // `apply` refuses makes open fail naming the line: a damaged file is not guessed at.
  static Result<std::unique_ptr<WatchedLines>> open(std::string path, size_t max_bytes, ApplyLine apply) {
    const bool absent = stamp_of_path(path).size < 0;
    std::unique_ptr<WatchedLines> w(new WatchedLines(std::move(path), max_bytes, apply));
    std::lock_guard lock(w->file_mu_);
    MEDSEAL_RETURN_IF_ERROR(w->reread(true, true));
    if (absent) MEDSEAL_RETURN_IF_ERROR(fsync_parent_dir(w->path_));
    return w;
  }

  std::mutex& file_mutex() { return file_mu_; }
  const std::string& path() const { return path_; }

  // With file_mutex() held: re-reads the file if it changed. `strict`: a damaged file is an
  // error; otherwise what was read before stays in force.
  Status refresh(bool strict) { return reread(strict, false); }

  // `fn` with the state, under the shared (read) or exclusive (update) lock.
  template <typename Fn>
  auto read(Fn fn) const {
    std::shared_lock lock(state_mu_);
    return fn(static_cast<const State&>(state_));
  }
  template <typename Fn>
  auto update(Fn fn) {
    std::unique_lock lock(state_mu_);
    return fn(state_);
  }

 private:
  WatchedLines(std::string path, size_t max_bytes, ApplyLine apply)
      : path_(std::move(path)), max_bytes_(max_bytes), apply_(apply) {}

  Status reread(bool strict, bool create) {
    if (!create && stamp_of_path(path_) == stamp_) return Status::ok();
    FileStamp stamp;
    State fresh;
    Result<std::string> text = read_private_lines(path_, create, max_bytes_, &stamp);
    Status s = text ? for_each_line(*text, path_, [&](std::string_view line) { return apply_(line, fresh); })
                    : text.status();
    if (!s) return strict ? s : Status::ok();
    stamp_ = stamp;
    update([&](State& state) { state = std::move(fresh); });
    return Status::ok();
  }

  const std::string path_;
  const size_t max_bytes_;
  const ApplyLine apply_;
  std::mutex file_mu_;  // orders this process's appends and re-reads; guards stamp_
  FileStamp stamp_;     // of the content state_ was read from
  mutable std::shared_mutex state_mu_;
  State state_;
};

// Members of a parsed line: the string or unsigned number at `key`, or null if absent or of
// another type.
const std::string* json_string(const nlohmann::json& object, const char* key);
const nlohmann::json* json_unsigned(const nlohmann::json& object, const char* key);

}  // namespace medseal::identity
