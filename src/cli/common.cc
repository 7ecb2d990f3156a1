#include "cli/common.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "cli/commands.h"
#include "ledger/keyfile.h"
#include "note/witness_quorum.h"
#include "tlog_client/verify.h"
#include "server/json_log.h"

namespace medseal::cli {
namespace {

// While alive, waits for a shutdown signal on its own thread and then calls `stop` once.
class SignalWaiter {
 public:
  explicit SignalWaiter(std::function<void()> stop)
      : thread_([this, stop = std::move(stop)] { wait(stop); }) {}
  ~SignalWaiter() {
    done_ = true;
    thread_.join();
  }
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

 private:
  void wait(const std::function<void()>& stop) {
    sigset_t set = shutdown_signals();
    timespec tick{0, 200'000'000};
    while (!done_) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig > 0) {
        server::log_json("info", "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        stop();
        return;
      }
    }
  }

  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

int fail(std::string_view command, const std::string& reason, int code) {
  std::fprintf(stderr, "medseal %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               reason.c_str());
  return code;
}

int fail(std::string_view command, const Status& status) {
  return fail(command, status.message(),
              status.code() == Code::kInvalidArgument ? kExitUsage : kExitFailure);
}

Result<note::VerifierKey> load_vkey(const std::string& text_or_file, std::string_view flag) {
  auto parsed = note::parse_verifier_key(text_or_file);
  if (parsed) return parsed;
  auto from_file = ledger::read_verifier_key_file(text_or_file);
  if (from_file || from_file.status().code() != Code::kNotFound) return from_file;
  return Status::invalid(std::string(flag) + " is neither a verifier key nor a file: " + text_or_file);
}

Result<std::vector<note::VerifierKey>> load_vkeys(const std::vector<std::string>& texts) {
  std::vector<note::VerifierKey> keys;
  for (const std::string& text : texts) {
    auto key = load_vkey(text);
    if (!key) return key.status();
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<note::Checkpoint> open_checkpoint_with_quorum(std::string_view checkpoint_note, const note::VerifierKey& vkey,
                                                     const std::vector<note::VerifierKey>& witnesses, size_t quorum) {
  if (witnesses.empty()) return tlog_client::open_checkpoint(checkpoint_note, vkey);
  auto report = note::check_witness_quorum(checkpoint_note, vkey, witnesses, quorum == 0 ? witnesses.size() : quorum);
  if (!report) return report.status();
  return std::move(report->checkpoint);
}

Status write_text_file(const std::string& path, const std::string& text, bool append) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << text;
  out.close();
  if (!out) return Status::io("cannot write " + path);
  return Status::ok();
}

Result<std::unique_ptr<tlog_client::TileSource>> open_tile_source(const std::string& url, const std::string& dir) {
  if (url.empty() == dir.empty()) return Status::invalid("give exactly one of --url and --dir");
  if (!url.empty()) return tlog_client::open_http_source(url);
  return tlog_client::open_dir_source(dir);
}

Result<std::string> read_input_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid("cannot read " + path);
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) return Status::invalid(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (in.bad()) return Status::invalid("cannot read " + path);
  return text;
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int serve_until_signal(std::string_view command, const std::function<Status()>& run,
                       const std::function<void()>& stop) {
  Status ran;
  {
    SignalWaiter waiter(stop);
    ran = run();
  }
  server::log_json("info", "stopped");
  if (!ran) return fail(command, ran);
  return kExitOk;
}

}  // namespace medseal::cli
