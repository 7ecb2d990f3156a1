// The alert model (DESIGN.md section 7) and where alerts go. Anything that detects something an
// auditor must see (a witness refusing a checkpoint, a mirror seeing a fork, the sentinel finding a
// changed row) builds an Alert and hands it to an AlertSink.
//
// Summaries and evidence carry ids, indexes, hashes and checkpoints only, never health data.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace medseal::alerts {

enum class Severity { kInfo, kWarning, kCritical };
std::string_view severity_name(Severity severity);  // "info", "warning", "critical"

struct Alert {
  std::string id;        // unique; make_alert draws 16 random bytes, hex
  uint64_t time_ms = 0;  // Unix milliseconds
  Severity severity = Severity::kCritical;
  std::string kind;      // e.g. "witness-refusal", "fork", "log-rollback", "bad-signature"
  std::string summary;   // one line
  std::vector<std::string> resources;  // "Patient/123/_history/2", a witness name, a URL
  std::vector<uint64_t> indexes;       // affected ledger indexes
  nlohmann::json evidence = nlohmann::json::object();  // expected/found hashes, checkpoints, ...
};

// An alert with a fresh id and the current time.
Alert make_alert(Severity severity, std::string kind, std::string summary);

// {"id","time" (RFC 3339 UTC),"time_ms","severity","kind","summary","resources","indexes","evidence"}
nlohmann::json to_json(const Alert& alert);

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  // Must not block for long and must be thread-safe: detectors call it from their own threads.
  virtual void raise(const Alert& alert) = 0;
};

// One JSON line per alert on stderr ({"alert": to_json(alert)}), written in one call.
class StderrSink : public AlertSink {
 public:
  void raise(const Alert& alert) override;
};

// Keeps every alert in memory, for tests and for serving recent alerts.
class MemorySink : public AlertSink {
 public:
  void raise(const Alert& alert) override;
  std::vector<Alert> alerts() const;

 private:
  mutable std::mutex mu_;
  std::vector<Alert> alerts_;
};

}  // namespace medseal::alerts
