#include "alerts/alert.h"

#include <unistd.h>

#include "crypto/random.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/time_format.h"

namespace medseal::alerts {

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "critical";
}

Alert make_alert(Severity severity, std::string kind, std::string summary) {
  uint8_t id[16];
  crypto::random_bytes(id, sizeof id);
  Alert alert;
  alert.id = hex_encode(std::string_view(reinterpret_cast<const char*>(id), sizeof id));
  alert.time_ms = system_clock().now_ms();
  alert.severity = severity;
  alert.kind = std::move(kind);
  alert.summary = std::move(summary);
  return alert;
}

nlohmann::json to_json(const Alert& alert) {
  return {{"id", alert.id},
          {"time", format_instant(alert.time_ms)},
          {"time_ms", alert.time_ms},
          {"severity", severity_name(alert.severity)},
          {"kind", alert.kind},
          {"summary", alert.summary},
          {"resources", alert.resources},
          {"indexes", alert.indexes},
          {"evidence", alert.evidence}};
}

void StderrSink::raise(const Alert& alert) {
  nlohmann::json line = {{"alert", to_json(alert)}};
  // Invalid UTF-8 (a URL a peer sent) is replaced rather than thrown on.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;  // nowhere left to report a failing stderr
}

void MemorySink::raise(const Alert& alert) {
  std::lock_guard lock(mu_);
  alerts_.push_back(alert);
}

std::vector<Alert> MemorySink::alerts() const {
  std::lock_guard lock(mu_);
  return alerts_;
}

}  // namespace medseal::alerts
