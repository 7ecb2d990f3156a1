// medseal monitor --url URL: the remote monitor (sentinel/remote_monitor.h), polling on the main
// thread, which also waits for SIGINT/SIGTERM between polls.
//
// medseal monitor --data DIR: the sentinel (sentinel/sentinel.h) in a process of its own beside a
// running `medseal serve` on the same host, possibly as another user with read access to the data
// directory (with --store postgresql://...: beside servers on that PostgreSQL store,
// sentinel/pg_store_view.h). It takes no store lock and never writes the store's tables; its state is DIR/monitor.state
// (or --state FILE). SQLite in WAL mode needs the reader to open DIR/medseal.db-shm for writing:
// another user needs read access to DIR and the store files and write access to that one.
#include <pthread.h>
#include <signal.h>

#include <time.h>

#include <cstdio>
#include <memory>

#include "alerts/alert.h"
#include "alerts/pipeline.h"
#include "alerts/sinks.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "cli/progress.h"
#include "ledger/keyfile.h"
#include "sentinel/remote_monitor.h"
#include "sentinel/sentinel.h"
#include "server/json_log.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kMonitorStateFile = "monitor.state";

Result<sentinel::SentinelOptions> monitor_options(const MonitorArgs& args) {
  const std::string dir = args.data_dir;
  Result<note::VerifierKey> vkey =
      load_vkey(args.vkey.empty() ? dir + "/" + std::string(ledger::kLogVkeyFile) : args.vkey);
  if (!vkey) return vkey.status();
  sentinel::SentinelOptions o;
  o.db_path = args.store.empty() ? dir + "/" + std::string(kStoreFile) : args.store;
  o.state_path =
      args.state_file.empty() ? dir + "/" + std::string(kMonitorStateFile) : args.state_file;
  o.vkey = *vkey;
  o.poll = std::chrono::milliseconds(args.poll_ms);
  Result<sentinel::AccessRuleOptions> rules = access_rule_options(args.anomalies);
  if (!rules) return rules.status();
  o.access_rules = *rules;
  return o;
}

// One whole pass with progress on a terminal, and its throughput.
int run_full_pass(const sentinel::SentinelOptions& options, alerts::AlertSink& sink) {
  Result<sentinel::FullPassReport> report = Status::internal("not run");
  {
    Progress progress("verifying store entries");
    report = sentinel::verify_store(options, sink, [&progress](uint64_t done, uint64_t total) {
      progress.update(done, total);
    });
    if (report) progress.finish(report->entries, report->entries);
  }
  if (!report) return fail("monitor", report.status());
  const double mb = static_cast<double>(report->bytes) / 1e6;
  std::printf("verified %llu entries, %.1f MB read in %.3f s (%.0f MB/s; %.0f MB/s of CPU time); "
              "%zu alerts\n",
              static_cast<unsigned long long>(report->entries), mb, report->seconds,
              report->seconds > 0 ? mb / report->seconds : 0.0,
              report->cpu_seconds > 0 ? mb / report->cpu_seconds : 0.0, report->findings);
  return report->findings == 0 ? kExitOk : kExitFailure;
}

Result<sentinel::RemoteMonitorOptions> remote_options(const MonitorArgs& args) {
  if (args.vkey.empty()) return Status::invalid("--url needs --vkey");
  if (args.state_file.empty()) return Status::invalid("--url needs --state DIR");
  if (args.full) return Status::invalid("--full needs --data");
  sentinel::RemoteMonitorOptions o;
  Result<note::VerifierKey> vkey = load_vkey(args.vkey);
  if (!vkey) return vkey.status();
  o.log.log_key = std::move(*vkey);
  Result<std::vector<note::VerifierKey>> witnesses = load_vkeys(args.witnesses);
  if (!witnesses) return witnesses.status();
  o.log.witnesses = std::move(*witnesses);
  o.log.quorum = args.quorum == 0 ? o.log.witnesses.size() : args.quorum;
  o.state_dir = args.state_file;
  o.recheck = std::chrono::milliseconds(args.recheck_ms);
  return o;
}

// The first line of the token file, without its line end.
Result<std::string> read_token(const std::string& path) {
  if (path.empty()) return Status::invalid("--url needs --token-file (an auditor's token)");
  Result<std::string> text = read_input_file(path, 4096);
  if (!text) return text.status();
  std::string token = text->substr(0, text->find_first_of("\r\n"));
  if (token.empty()) return Status::invalid(path + ": no token on its first line");
  return token;
}

// True if a stop signal arrived within `ms` (the signals are blocked).
bool stop_requested_within(uint64_t ms) {
  sigset_t set = shutdown_signals();
  timespec wait{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
  return sigtimedwait(&set, nullptr, &wait) > 0;
}

int run_remote(const MonitorArgs& args, alerts::AlertSink& to_file) {
  // Before any thread exists (the alert pipeline starts some), so every thread inherits the mask.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Result<sentinel::RemoteMonitorOptions> options = remote_options(args);
  if (!options) return fail("monitor", options.status());
  Status dir = make_private_dir(options->state_dir);
  if (!dir) return fail("monitor", dir);
  // Stderr, webhooks and syslog through serve's pipeline: its outbox in the state directory makes
  // delivery survive a restart.
  alerts::PipelineOptions delivery;
  delivery.outbox_path = options->state_dir + "/" + alerts::kOutboxFile;
  delivery.webhooks = args.alert_webhooks;
  delivery.syslogs = args.alert_syslogs;
  auto pipeline = alerts::Pipeline::start(std::move(delivery));
  if (!pipeline) return fail("monitor", pipeline.status());
  alerts::FanOutSink sink({pipeline->get(), &to_file});
  Result<std::string> token = read_token(args.token_file);
  if (!token) return fail("monitor", token.status());
  std::string base = args.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto log = tlog_client::open_http_source(base + "/log");
  if (!log) return fail("monitor", log.status());
  auto statements = sentinel::open_http_statements(base, std::move(*token));
  if (!statements) return fail("monitor", statements.status());
  auto monitor = sentinel::RemoteMonitor::open(*options, sink);
  if (!monitor) return fail("monitor", monitor.status());
  std::printf("monitoring %s (state in %s)\n", base.c_str(), options->state_dir.c_str());
  std::fflush(stdout);
  std::string last_error;  // logged once until another error comes
  do {
    sentinel::PollReport report = (*monitor)->poll(**log, **statements);
    for (const std::string& e : report.errors) {
      if (e == last_error) continue;
      server::log_json("warning", "monitor poll failed", {{"error", e}});
      last_error = e;
    }
  } while (!stop_requested_within(args.poll_ms));
  return kExitOk;
}

}  // namespace

int run_monitor(const MonitorArgs& args) {
  if (args.poll_ms < 1 || args.poll_ms > 60'000) return fail("monitor", "--poll-ms must be 1..60000", kExitUsage);
  if (args.url.empty() == args.data_dir.empty()) {
    return fail("monitor", "give exactly one of --data and --url", kExitUsage);
  }
  if (!args.url.empty() && args.poll_ms < 10) return fail("monitor", "--poll-ms must be 10..60000 with --url", kExitUsage);
  alerts::StderrSink to_stderr;
  std::unique_ptr<alerts::JsonLinesFileSink> to_file;
  std::vector<alerts::AlertSink*> sinks = {&to_stderr};
  if (!args.alerts_file.empty()) {
    to_file = std::make_unique<alerts::JsonLinesFileSink>(args.alerts_file);
    sinks.push_back(to_file.get());
  }
  alerts::FanOutSink sink(sinks);
  if (!args.url.empty()) {
    alerts::FanOutSink file_only(sinks.size() > 1 ? std::vector<alerts::AlertSink*>{to_file.get()}
                                                   : std::vector<alerts::AlertSink*>{});
    return run_remote(args, file_only);
  }
  Result<sentinel::SentinelOptions> options = monitor_options(args);
  if (!options) return fail("monitor", options.status());
  if (args.full) return run_full_pass(*options, sink);

  // Block the shutdown signals before the sentinel's thread exists, then wait for one here.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Result<std::unique_ptr<sentinel::Sentinel>> running = sentinel::Sentinel::start(*options, sink);
  if (!running) return fail("monitor", running.status());
  std::printf("monitoring %s (state in %s)\n",
              args.store.empty() ? options->db_path.c_str() : "the PostgreSQL store",
              options->state_path.c_str());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  running->reset();
  return kExitOk;
}

}  // namespace medseal::cli
