// medseal monitor --data DIR: the sentinel (sentinel/sentinel.h) in a process of its own beside a
// running `medseal serve` on the same host, possibly as another user with read access to the data
// directory. It takes no store lock and never writes the store; its state is DIR/monitor.state
// (or --state FILE). SQLite in WAL mode needs the reader to open DIR/medseal.db-shm for writing:
// another user needs read access to DIR and the store files and write access to that one.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>

#include "alerts/alert.h"
#include "alerts/sinks.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "cli/progress.h"
#include "ledger/keyfile.h"
#include "sentinel/sentinel.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kMonitorStateFile = "monitor.state";

Result<sentinel::SentinelOptions> monitor_options(const MonitorArgs& args) {
  const std::string dir = args.data_dir;
  Result<note::VerifierKey> vkey =
      load_vkey(args.vkey.empty() ? dir + "/" + std::string(ledger::kLogVkeyFile) : args.vkey);
  if (!vkey) return vkey.status();
  sentinel::SentinelOptions o;
  o.db_path = dir + "/" + std::string(kStoreFile);
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

}  // namespace

int run_monitor(const MonitorArgs& args) {
  if (args.poll_ms < 1 || args.poll_ms > 60'000) return fail("monitor", "--poll-ms must be 1..60000", kExitUsage);
  Result<sentinel::SentinelOptions> options = monitor_options(args);
  if (!options) return fail("monitor", options.status());
  alerts::StderrSink to_stderr;
  std::unique_ptr<alerts::JsonLinesFileSink> to_file;
  std::vector<alerts::AlertSink*> sinks = {&to_stderr};
  if (!args.alerts_file.empty()) {
    to_file = std::make_unique<alerts::JsonLinesFileSink>(args.alerts_file);
    sinks.push_back(to_file.get());
  }
  alerts::FanOutSink sink(sinks);
  if (args.full) return run_full_pass(*options, sink);

  // Block the shutdown signals before the sentinel's thread exists, then wait for one here.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Result<std::unique_ptr<sentinel::Sentinel>> running = sentinel::Sentinel::start(*options, sink);
  if (!running) return fail("monitor", running.status());
  std::printf("monitoring %s (state in %s)\n", options->db_path.c_str(), options->state_path.c_str());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  running->reset();
  return kExitOk;
}

}  // namespace medseal::cli
