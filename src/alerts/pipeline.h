// The one alert pipeline of `medseal serve` (DESIGN.md 7): every detector (the cosigner, the
// sentinel) raises its alerts on this AlertSink, and each alert goes to
//   - the durable outbox (DATA/alerts.db, outbox.h), fsynced before raise() returns; from there
//     delivery workers bring it, in order and at least once, to the ledger (a system entry,
//     ledger_sink.h), to every webhook (webhook_sink.h) and syslog server (syslog_sink.h);
//   - stderr as a JSON line ({"alert": ...});
//   - the recent alerts kept in memory for GET /alerts (loaded from the outbox at start) and
//     the subscribers of GET /alerts/stream;
//   - the Prometheus counters of GET /metrics.
// A failing sink never stops the others: an outbox that cannot be written is logged and counted
// (medseal_alert_outbox_failures_total) and the alert still reaches stderr, memory and streams.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alerts/alert.h"
#include "alerts/delivery.h"
#include "alerts/outbox.h"
#include "ledger/ledger.h"
#include "util/status.h"

namespace medseal::alerts {

inline constexpr const char* kOutboxFile = "alerts.db";

struct PipelineOptions {
  std::string outbox_path;                 // required: the outbox file
  ledger::Ledger* ledger = nullptr;        // null: alerts are not appended to a ledger
  std::vector<std::string> webhooks;       // http(s) URLs
  std::vector<std::string> syslogs;        // udp://HOST:PORT or tcp://HOST:PORT
  bool to_stderr = true;
  size_t recent_capacity = 1000;           // alerts kept for GET /alerts
  size_t max_subscribers = 32;             // concurrent /alerts/stream clients
  Backoff backoff;
};

// True for kinds that say the log or the records were tampered with (everything but
// witness-refusal, access-anomaly, break-glass, auth-failure-burst and disk-full, so a kind added later
// counts as integrity until said otherwise). A critical one of these sets the gauge
// medseal_integrity_ok to 0, for good: it is read back from the outbox at every start, and only
// moving DATA/alerts.db aside (an operator's deliberate act; the alerts stay in the ledger) resets it.
bool is_integrity_kind(std::string_view kind);

// What one /alerts/stream client receives: the alerts raised after it subscribed.
class Subscription {
 public:
  // The next alert, waiting up to `timeout`; nullopt on timeout or once closed.
  std::optional<Alert> next(std::chrono::milliseconds timeout);
  // True once the pipeline is closing or the client fell too far behind.
  bool closed() const;

 private:
  friend class Pipeline;
  void push(const Alert& alert);
  void close();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Alert> queue_;
  bool closed_ = false;
};

class Pipeline : public AlertSink {
 public:
  // Opens the outbox, loads its newest alerts and starts one delivery worker per destination.
  static Result<std::unique_ptr<Pipeline>> start(PipelineOptions options);
  ~Pipeline() override;  // closes subscriptions and stops the workers (delivery resumes at the next start)
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void raise(const Alert& alert) override;

  // Recent alerts with time_ms > since_ms, newest first, at most `limit`.
  std::vector<Alert> recent(uint64_t since_ms, size_t limit) const;
  // A new subscription; null when max_subscribers are already connected.
  std::shared_ptr<Subscription> subscribe();
  // Ends every subscription (streams end), e.g. before the HTTP server stops.
  void close_subscriptions();
  // The Prometheus text exposition (format 0.0.4) of the counters and gauges.
  std::string metrics_text() const;
  bool integrity_ok() const;

 private:
  explicit Pipeline(PipelineOptions options) : options_(std::move(options)) {}
  Status start_workers();
  void remember(const Alert& alert);  // memory, subscribers, counters

  PipelineOptions options_;
  std::unique_ptr<Outbox> outbox_;
  std::vector<std::unique_ptr<DeliveryWorker>> workers_;
  StderrSink stderr_;

  mutable std::mutex mu_;
  std::deque<Alert> recent_;                                   // oldest first
  std::vector<std::weak_ptr<Subscription>> subscribers_;
  std::map<std::pair<std::string, std::string>, uint64_t> counts_;  // (kind, severity) -> raised
  bool integrity_ok_ = true;
  uint64_t outbox_failures_ = 0;
};

}  // namespace medseal::alerts
