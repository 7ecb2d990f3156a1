// medseal mirror: flags in main.cc, the follower in mirror/mirror.h. One round at a time on the
// main thread, which also waits for SIGINT/SIGTERM between rounds; the HTTP server has its own.
#include <signal.h>

#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "alerts/sinks.h"
#include "mirror/mirror.h"
#include "server/http_server.h"
#include "server/json_log.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kCommand = "mirror";

struct Sources {
  std::unique_ptr<tlog_client::TileSource> log;
  std::vector<std::unique_ptr<tlog_client::TileSource>> peers;
  std::vector<tlog_client::TileSource*> peer_ptrs;
};

Result<Sources> open_sources(const MirrorArgs& args) {
  Sources sources;
  auto log = tlog_client::open_http_source(args.url);
  if (!log) return log.status();
  sources.log = std::move(*log);
  for (const std::string& url : args.peers) {
    auto peer = tlog_client::open_http_source(url);
    if (!peer) return peer.status();
    sources.peer_ptrs.push_back(peer->get());
    sources.peers.push_back(std::move(*peer));
  }
  return sources;
}

Result<mirror::MirrorConfig> load_config(const MirrorArgs& args) {
  mirror::MirrorConfig config;
  auto log_key = load_vkey(args.vkey);
  if (!log_key) return log_key.status();
  config.log_key = std::move(*log_key);
  for (const std::string& text : args.witnesses) {
    auto key = load_vkey(text);
    if (!key) return key.status();
    config.witnesses.push_back(std::move(*key));
  }
  config.quorum = args.quorum == 0 ? config.witnesses.size() : args.quorum;  // 0: all given
  return config;
}

// One round, logged: what was adopted and anything that could not be checked.
mirror::SyncReport run_round(mirror::Mirror& m, Sources& sources) {
  mirror::SyncReport report = m.sync(*sources.log, sources.peer_ptrs);
  if (report.adopted) {
    server::log_json("info", "mirrored", {{"size", report.size}, {"fetched", report.fetched}});
  }
  if (report.awaiting_quorum) server::log_json("info", "newer checkpoint lacks the witness quorum");
  for (const std::string& error : report.errors) {
    server::log_json("warning", "sync failed", {{"error", error}});
  }
  return report;
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// True if a stop signal arrived within `interval_ms` (the signals are blocked in every thread).
bool stop_requested_within(uint64_t interval_ms) {
  sigset_t set = stop_signals();
  timespec wait{static_cast<time_t>(interval_ms / 1000), static_cast<long>(interval_ms % 1000) * 1'000'000};
  return sigtimedwait(&set, nullptr, &wait) > 0;
}

int serve_and_follow(const MirrorArgs& args, mirror::Mirror& m, Sources& sources) {
  ListenAddress addr;
  if (!parse_listen_address(args.listen, &addr)) {
    return fail(kCommand, "--listen must be HOST:PORT (IPv6 as [ADDR]:PORT): " + args.listen, kExitUsage);
  }
  std::unique_ptr<ledger::Ledger> view = mirror::serving_ledger(m);
  server::HttpServer http(*view, server::HttpOptions{addr.host, addr.port, 16, false});
  auto port = http.bind();
  if (!port) return fail(kCommand, port.status());
  std::string host = addr.host.find(':') != std::string::npos ? "[" + addr.host + "]" : addr.host;
  std::printf("listening on http://%s:%d\n", host.c_str(), *port);
  std::fflush(stdout);
  Status served;
  std::thread server_thread([&] { served = http.run(); });
  do {
    run_round(m, sources);
  } while (!stop_requested_within(args.interval_ms));
  server::log_json("info", "shutting down");
  http.stop();
  server_thread.join();
  if (!served) return fail(kCommand, served);
  return kExitOk;
}

}  // namespace

int run_mirror(const MirrorArgs& args) {
  if (args.interval_ms < 10 || args.interval_ms > 86'400'000) {
    return fail(kCommand, "--interval-ms must be 10..86400000", kExitUsage);
  }
  // Before any thread exists, so every thread inherits the mask and sigtimedwait gets the signals.
  sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = load_config(args);
  if (!config) return fail(kCommand, config.status());
  auto sources = open_sources(args);
  if (!sources) return fail(kCommand, sources.status());
  auto dir = DataDir::open(args.data_dir);
  if (!dir) return fail(kCommand, dir.status());
  auto store = mirror::MirrorStore::open(dir->path());
  if (!store) return fail(kCommand, store.status());
  alerts::StderrSink to_stderr;
  alerts::JsonLinesFileSink to_file(dir->file("alerts.jsonl"));
  alerts::FanOutSink sink({&to_stderr, &to_file});
  auto m = mirror::Mirror::open(std::move(*store), std::move(*config), sink);
  if (!m) return fail(kCommand, m.status());
  if (!args.once) return serve_and_follow(args, **m, *sources);
  mirror::SyncReport report = run_round(**m, *sources);
  return report.alerts == 0 && report.errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace medseal::cli
