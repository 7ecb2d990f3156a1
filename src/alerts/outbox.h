// The durable alert outbox: every alert is stored (and fsynced) before raise() returns, and each
// destination (webhook, syslog, the ledger) has a delivery cursor, so a restart resumes delivery
// of whatever was not yet acknowledged. At-least-once: a crash between a delivery and its
// acknowledgement delivers that alert again; receivers deduplicate by the alert id.
//
// One small SQLite file (DATA/alerts.db), WAL with synchronous=FULL:
//   alerts(seq INTEGER PRIMARY KEY, id TEXT UNIQUE, json TEXT)   seq: 1, 2, 3, ... in raise order
//   cursors(destination TEXT PRIMARY KEY, delivered INTEGER)     the last seq acknowledged
// Rows are never deleted (alerts are rare); `medseal serve` loads the newest for GET /alerts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "util/status.h"

namespace medseal::alerts {

struct StoredAlert {
  uint64_t seq = 0;
  Alert alert;
};

class Outbox {
 public:
  // Opens or creates the outbox file. Fails on a file that is not an outbox.
  static Result<std::unique_ptr<Outbox>> open(const std::string& path);
  virtual ~Outbox() = default;

  // Stores the alert durably; returns its seq. An alert id already stored is kConflict.
  virtual Result<uint64_t> add(const Alert& alert) = 0;
  // Starts a cursor for `destination` at the current end if it has none (a destination added
  // later does not receive the alerts raised before it existed). Returns its cursor.
  virtual Result<uint64_t> register_destination(const std::string& destination) = 0;
  // Up to `limit` alerts after the destination's cursor, oldest first.
  virtual Result<std::vector<StoredAlert>> pending(const std::string& destination, size_t limit) = 0;
  // Moves the destination's cursor to `seq` (never backwards).
  virtual Status acknowledge(const std::string& destination, uint64_t seq) = 0;
  // The seq of the newest alert (0: none).
  virtual Result<uint64_t> last_seq() = 0;
  // The newest `limit` alerts, newest first.
  virtual Result<std::vector<Alert>> newest(size_t limit) = 0;
  // The distinct kinds of every critical alert ever stored.
  virtual Result<std::vector<std::string>> critical_kinds() = 0;
};

// The alert from to_json's object; kInvalidArgument for anything else.
Result<Alert> alert_from_json(const nlohmann::json& j);

}  // namespace medseal::alerts
