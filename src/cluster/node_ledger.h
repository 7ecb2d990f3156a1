// The ledger as one node of several sharing a PostgreSQL store sees it (issue 7 section 2).
//
// Until promote(), the node follows: head, tiles and receipts come straight from the shared store
// (what the leader last committed), and appends are refused with kFailedPrecondition (the node's
// FHIR requests go to the leader instead, cluster/leader_forwarder.h), except the node's own
// alerts: with an intake, append() hands an alert's entry to the leader (alert_intake.h) and
// returns kHandedOver, since its index is not known yet. promote() hands it the
// ledger this node sequences with once it holds the leadership; from then on everything goes to
// that ledger. A node is never demoted: a leader that loses the lock exits (cluster_node.h).
#pragma once

#include <memory>
#include <mutex>

#include "cluster/alert_intake.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "storage/store.h"

namespace medseal::cluster {

// What append() returns for an entry handed to the leader while following.
inline constexpr uint64_t kHandedOver = UINT64_MAX;

class NodeLedger : public ledger::Ledger {
 public:
  // `store` (the node's shared store, for following) must outlive this object. `log_key` signs
  // only the empty tree's checkpoint while the store holds no log (the same bytes on every node).
  // `intake`: where alerts go while following; null: they are refused like other appends.
  NodeLedger(storage::Store& store, note::SignerKey log_key, std::unique_ptr<AlertIntake> intake = nullptr);

  // Sequences from now on with `leader` over `leader_store` (opened fenced by this node's
  // leadership), both owned from now on.
  void promote(std::unique_ptr<storage::Store> leader_store, std::unique_ptr<ledger::Ledger> leader);
  bool leads() const;

  Result<uint64_t> append(ledger::AppendRequest request) override;
  Result<uint64_t> append_all(std::vector<ledger::AppendRequest> requests) override;
  storage::LogHead head() const override;
  Result<std::string> read_tile(const merkle::TileId& id) override;
  Result<std::string> receipt(uint64_t index) override;

  ~NodeLedger() override;

 private:
  ledger::Ledger* leader() const;

  storage::Store& store_;
  note::SignerKey key_;
  std::unique_ptr<AlertIntake> intake_;
  mutable std::mutex mu_;
  std::unique_ptr<storage::Store> leader_store_;  // declared before leader_: destroyed after it
  std::unique_ptr<ledger::Ledger> leader_;
  mutable storage::LogHead last_head_;  // the newest head read from the store while following
};

}  // namespace medseal::cluster
