// One of several `medseal serve` nodes sharing one PostgreSQL store (issue 7 section 2): the
// thread that waits for the leadership, takes it over, and watches it.
//
// Taking over, in this order: hold the advisory lock (storage/postgres/leadership.h); wait until
// no transaction of a deposed leader can still commit (take log_head's lock once: a batch the old
// leader had in flight either committed before or is refused by its fence); open the ledger over a
// store fenced by this node's lock, which re-reads and verifies the head, so the first checkpoint
// this node signs extends the last one committed; run `on_promoted` (the record layer reloads
// what it keeps in memory, while no request runs here); promote the node's ledger; only then advertise this node's address, so no request is forwarded
// here before it can sequence. Two different checkpoints of one size can never be signed: every
// commit is fenced, and each extends the size it read under the log_head lock.
//
// While leading, it appends the alerts followers handed over (alert_intake.h) every watch interval.
//
// A leader that finds its lock gone stops at once (`on_lost`, by default _Exit): its fenced
// store cannot commit any more, and its memory may be behind the new leader's writes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cluster/alert_intake.h"
#include "cluster/node_ledger.h"
#include "note/keys.h"
#include "util/status.h"

namespace medseal::cluster {

struct ClusterOptions {
  std::string store_url;   // the shared postgresql:// URL
  std::string advertise;   // where the other nodes forward to: "http://host:port"
  std::chrono::milliseconds poll{100};  // how often a follower tries for the lock
  std::chrono::milliseconds watch{250};  // how often a leader checks it still holds the lock
  // Runs once the ledger is opened, just before this node starts sequencing.
  std::function<Status()> on_promoted = [] { return Status::ok(); };
  std::function<void(const Status&)> on_lost;  // default: log and _Exit(75)
};

class ClusterNode {
 public:
  // Starts following at once; `ledger` is promoted when this node takes over. `ledger` must
  // outlive the node.
  ClusterNode(NodeLedger& ledger, note::SignerKey log_key, ClusterOptions options);
  // Stops the thread; a leader's lock session closes, so another node takes over.
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

 private:
  void run();
  Status lead_and_watch();
  // The alerts followers handed over (alert_intake.h), appended while leading.
  void append_handed_over_alerts(Result<std::unique_ptr<AlertIntake>>& intake);
  void sleep(std::chrono::milliseconds d) const;

  NodeLedger& ledger_;
  note::SignerKey key_;
  ClusterOptions options_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace medseal::cluster
