// A follower's own alerts, handed to the leader through the shared database (issue 7 section 2).
// Every node raises alerts of its own (a refused client certificate, its sentinel, its witnesses'
// refusals), and every alert becomes a ledger entry (alerts/ledger_sink.h); only the leader
// appends. So while a node follows, NodeLedger hands an alert's system entry to put(): one row in
// the table cluster_intake, committed before put() returns (the alert's outbox delivery then counts
// it done). The leader's ClusterNode drains the table every watch interval: appends the rows, in
// order, as system entries with their own times, then deletes them. A leader that dies between the
// two leaves the rows for the next one, so an alert may be appended twice (at least once, as the
// outbox delivers; its "id" tells the copies apart), and none is lost.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "ledger/ledger.h"
#include "storage/postgres/pg_conn.h"
#include "util/status.h"

namespace medseal::cluster {

// True for the system entries that are handed over: alert statements (alerts/ledger_sink.h).
bool is_alert_entry(const ledger::AppendRequest& request);

class AlertIntake {
 public:
  // Connects to the shared database at `url` and creates the table if this is the first node.
  static Result<std::unique_ptr<AlertIntake>> open(const std::string& url);

  // Stores one entry for the leader to append; OK once committed. Thread-safe.
  Status put(const ledger::AppendRequest& request);
  // Appends up to `max` stored entries to `leader`, oldest first, then deletes them; returns how
  // many. Thread-safe.
  Result<size_t> drain(ledger::Ledger& leader, size_t max);

 private:
  explicit AlertIntake(std::unique_ptr<storage::postgres::Conn> conn) : conn_(std::move(conn)) {}
  std::mutex mu_;
  std::unique_ptr<storage::postgres::Conn> conn_;  // under mu_
};

}  // namespace medseal::cluster
