// What every subcommand needs: one-line failure reports and reading its input files and keys.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "note/keys.h"
#include "util/status.h"

namespace medseal::cli {

// Prints "medseal <command>: <reason>" on stderr and returns `code`.
int fail(std::string_view command, const std::string& reason, int code);
// The same for a Status: kInvalidArgument is a usage error (kExitUsage), anything else kExitFailure.
int fail(std::string_view command, const Status& status);

// A verifier key given as its text, or the name of a file holding one (as log.vkey does).
// kInvalidArgument if it is neither; the message names the command-line `flag` it came from.
Result<note::VerifierKey> load_vkey(const std::string& text_or_file, std::string_view flag = "--vkey");

// The whole of a file of at most `max_bytes`; kInvalidArgument if it cannot be read or is larger.
Result<std::string> read_input_file(const std::string& path, size_t max_bytes);

// A host as it appears in a URL: an IPv6 address in brackets.
std::string url_host(const std::string& host);

// SIGINT and SIGTERM, to be blocked in every thread (block them before starting any) and taken by
// one SignalWaiter, so shutdown runs as ordinary code rather than in a signal handler.
sigset_t shutdown_signals();

// While alive, waits for SIGINT or SIGTERM on its own thread and then calls `stop` once (which
// must make the server's run() return). Destroying it ends the wait.
class SignalWaiter {
 public:
  explicit SignalWaiter(std::function<void()> stop);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

 private:
  void wait(const std::function<void()>& stop);

  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace medseal::cli
