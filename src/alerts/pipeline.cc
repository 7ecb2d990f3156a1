#include "alerts/pipeline.h"

#include <algorithm>
#include <array>

#include "alerts/ledger_sink.h"
#include "alerts/syslog_sink.h"
#include "alerts/webhook_sink.h"
#include "server/json_log.h"

namespace medseal::alerts {
namespace {

// A stream client this far behind is cut off; it can reconnect and read GET /alerts.
constexpr size_t kMaxQueuedPerSubscriber = 1000;

constexpr std::array<std::string_view, 5> kNonIntegrityKinds = {"witness-refusal", "access-anomaly", "break-glass",
                                                                 "auth-failure-burst", "disk-full"};

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP " + std::string(name) + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

bool is_integrity_kind(std::string_view kind) {
  return std::find(kNonIntegrityKinds.begin(), kNonIntegrityKinds.end(), kind) == kNonIntegrityKinds.end();
}

std::optional<Alert> Subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return closed_ || !queue_.empty(); });
  if (closed_ || queue_.empty()) return std::nullopt;
  Alert alert = std::move(queue_.front());
  queue_.pop_front();
  return alert;
}

bool Subscription::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void Subscription::push(const Alert& alert) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (queue_.size() >= kMaxQueuedPerSubscriber) {
      closed_ = true;
    } else {
      queue_.push_back(alert);
    }
  }
  cv_.notify_all();
}

void Subscription::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

Result<std::unique_ptr<Pipeline>> Pipeline::start(PipelineOptions options) {
  std::unique_ptr<Pipeline> p(new Pipeline(std::move(options)));
  auto outbox = Outbox::open(p->options_.outbox_path);
  if (!outbox) return outbox.status();
  p->outbox_ = std::move(*outbox);
  auto newest = p->outbox_->newest(p->options_.recent_capacity);
  if (!newest) return newest.status();
  p->recent_.assign(newest->rbegin(), newest->rend());
  // A restart must not clear the gauge: a tampered log stays tampered until someone looks.
  auto critical = p->outbox_->critical_kinds();
  if (!critical) return critical.status();
  for (const std::string& kind : *critical) p->integrity_ok_ = p->integrity_ok_ && !is_integrity_kind(kind);
  MEDSEAL_RETURN_IF_ERROR(p->start_workers());
  return p;
}

Status Pipeline::start_workers() {
  std::vector<std::unique_ptr<Destination>> destinations;
  if (options_.ledger) destinations.push_back(std::make_unique<LedgerDestination>(*options_.ledger));
  for (const std::string& url : options_.webhooks) {
    auto d = make_webhook_destination(url);
    if (!d) return d.status();
    destinations.push_back(std::move(*d));
  }
  for (const std::string& url : options_.syslogs) {
    auto d = make_syslog_destination(url);
    if (!d) return d.status();
    destinations.push_back(std::move(*d));
  }
  for (auto& d : destinations) {
    auto worker = DeliveryWorker::start(*outbox_, std::move(d), options_.backoff);
    if (!worker) return worker.status();
    workers_.push_back(std::move(*worker));
  }
  return Status::ok();
}

Pipeline::~Pipeline() {
  close_subscriptions();
  workers_.clear();  // before the outbox they read
}

void Pipeline::raise(const Alert& alert) {
  auto stored = outbox_->add(alert);
  if (!stored) {
    server::log_json("error", "alert not stored in the outbox", {{"id", alert.id}, {"error", stored.status().message()}});
  }
  if (options_.to_stderr) stderr_.raise(alert);
  remember(alert);
  if (!stored) {
    std::lock_guard lock(mu_);
    ++outbox_failures_;
    return;
  }
  for (auto& worker : workers_) worker->wake();
}

void Pipeline::remember(const Alert& alert) {
  std::vector<std::shared_ptr<Subscription>> live;
  {
    std::lock_guard lock(mu_);
    recent_.push_back(alert);
    while (recent_.size() > options_.recent_capacity) recent_.pop_front();
    ++counts_[{alert.kind, std::string(severity_name(alert.severity))}];
    if (alert.severity == Severity::kCritical && is_integrity_kind(alert.kind)) integrity_ok_ = false;
    std::erase_if(subscribers_, [](const std::weak_ptr<Subscription>& s) { return s.expired(); });
    for (auto& weak : subscribers_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->push(alert);
}

std::vector<Alert> Pipeline::recent(uint64_t since_ms, size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it) {
    if (it->time_ms > since_ms) out.push_back(*it);
  }
  return out;
}

std::shared_ptr<Subscription> Pipeline::subscribe() {
  std::lock_guard lock(mu_);
  std::erase_if(subscribers_, [](const std::weak_ptr<Subscription>& s) { return s.expired(); });
  if (subscribers_.size() >= options_.max_subscribers) return nullptr;
  auto s = std::make_shared<Subscription>();
  subscribers_.push_back(s);
  return s;
}

void Pipeline::close_subscriptions() {
  std::vector<std::weak_ptr<Subscription>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(subscribers_);
  }
  for (auto& weak : all) {
    if (auto s = weak.lock()) s->close();
  }
}

bool Pipeline::integrity_ok() const {
  std::lock_guard lock(mu_);
  return integrity_ok_;
}

std::string Pipeline::metrics_text() const {
  std::string out;
  std::lock_guard lock(mu_);
  family(out, "medseal_alerts_total", "counter", "Alerts raised since the server started, by kind and severity.");
  for (const auto& [key, count] : counts_) {
    out += "medseal_alerts_total{kind=\"" + label(key.first) + "\",severity=\"" + label(key.second) + "\"} " +
           std::to_string(count) + "\n";
  }
  family(out, "medseal_integrity_ok", "gauge",
         "1 while no critical integrity alert was ever raised (DATA/alerts.db), 0 after one.");
  out += "medseal_integrity_ok " + std::string(integrity_ok_ ? "1" : "0") + "\n";
  family(out, "medseal_alert_outbox_failures_total", "counter", "Alerts that could not be stored in the outbox.");
  out += "medseal_alert_outbox_failures_total " + std::to_string(outbox_failures_) + "\n";
  family(out, "medseal_alert_deliveries_total", "counter", "Alerts delivered, by destination.");
  for (const auto& w : workers_) {
    out += "medseal_alert_deliveries_total{destination=\"" + label(w->label()) + "\"} " +
           std::to_string(w->delivered()) + "\n";
  }
  family(out, "medseal_alert_delivery_failures_total", "counter", "Failed delivery attempts, by destination.");
  for (const auto& w : workers_) {
    out += "medseal_alert_delivery_failures_total{destination=\"" + label(w->label()) + "\"} " +
           std::to_string(w->failures()) + "\n";
  }
  family(out, "medseal_alert_stream_clients", "gauge", "Connected GET /alerts/stream clients.");
  size_t live = std::count_if(subscribers_.begin(), subscribers_.end(), [](auto& s) { return !s.expired(); });
  out += "medseal_alert_stream_clients " + std::to_string(live) + "\n";
  return out;
}

}  // namespace medseal::alerts
