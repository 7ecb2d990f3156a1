// A medseal program running in the background for a test: `medseal serve`, `witness`, `mirror`.
// The program must print "listening on URL" as its first stdout line; it counts as ready once
// something answers HTTP there. Stopped with SIGTERM (then SIGKILL) when the object goes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace medseal::testing {

class Background {
 public:
  // Runs `medseal <args...>` with stderr appended to `err_path`; waits up to 20 s until ready.
  Background(std::vector<std::string> args, std::string err_path);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  bool ready() const { return !base_.empty(); }
  const std::string& base() const { return base_; }  // http://127.0.0.1:PORT
  const std::string& first_lines() const { return out_; }  // stdout read while starting
  // Its stderr; when it ended before it was ready, also how (exit status or signal).
  std::string stderr_text() const;
  // True once stderr contains `text`, waiting up to `limit_s` seconds.
  bool wait_for_stderr(const std::string& text, int limit_s) const;
  pid_t pid() const { return pid_; }

  // SIGTERM and the exit status; SIGKILL if it has not stopped within 20 s (then -1).
  int stop();
  // SIGKILL, as a crash; returns once the process is gone, with 128 + SIGKILL (-1 if not running).
  int kill();

 private:
  void wait_until_ready();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_, base_, err_path_;
  std::string ended_;  // how it ended before it was ready, else ""
};

}  // namespace medseal::testing
