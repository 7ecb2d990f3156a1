// The sentinel's view of a PostgreSQL store (storage/postgres): the same rows as StoreView reads
// from SQLite, through parameterised statements on a session of its own, each check inside one
// REPEATABLE READ READ ONLY transaction (one snapshot). Its reads change nothing it watches.
//
// How it notices a change at once (a poll costs two small queries, every 50 ms by default):
//  - a change journal. At open the view makes sure a statement-level trigger
//    (medseal_sentinel_watch: AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE) sits on each table the
//    ledger commits to (log_head, tiles, entry_extras, record_versions, entry_keys) and appends one
//    row per statement to medseal_sentinel_journal: the transaction id, table, operation and
//    session_user. The trigger function is SECURITY DEFINER and owned by the role that installed
//    it (the sentinel's), so a role allowed to write the ledger's tables needs no right on the
//    journal and cannot write or delete there. The row commits or rolls back with the change it
//    notes, so data_version() changes exactly when a transaction touching those tables commits.
//    Journal rows are read by transaction id from the oldest transaction still running at the
//    previous poll (pg_snapshot_xmin), so one committing later than a newer one is not missed.
//  - the tables' layout: oid, relfilenode and the watch trigger's enabled state. A table dropped
//    and re-created (pg_restore --clean), rewritten (TRUNCATE, VACUUM FULL, CLUSTER) or whose
//    trigger was disabled or dropped changes it: replaced() reinstalls what is missing and the
//    change counts as foreign. Neither TRUNCATE nor a re-created table is MVCC-safe (an older
//    snapshot reads the new, empty table), so replaced() reports the change once more at the next
//    poll and the head rule runs again on the committed state.
//  - attribution: the server's commit (storage/postgres/pg_store.cc write_batch) always ends with
//    INSERT ... ON CONFLICT DO UPDATE on log_head. A journalled transaction without an INSERT on
//    log_head is foreign (foreign_commits()), whatever else commits in the same poll interval,
//    and the foreign-write alert names its tables, operations and database role.
//
// What an attacker can and cannot hide, by privilege:
//  - a role with INSERT/UPDATE/DELETE/TRUNCATE on the tables (the attacker of the tests): nothing;
//    each committed statement is journalled, foreign-write within one poll, and the sweep names
//    what changed.
//  - the tables' owner: can ALTER TABLE ... DISABLE TRIGGER or drop and re-create the tables;
//    that changes the layout, so the act itself is a foreign-write alert at the next poll (and the
//    trigger is reinstalled when the sentinel's role may). Writes in the same transaction as the
//    disabling are found by the rolling full pass, not named by the journal.
//  - a superuser (or a role with session_replication_role rights): can set
//    session_replication_role = replica, which skips triggers without changing the layout, or
//    edit the journal. Such writes are found only by the rolling full pass (content, order,
//    missing and extra rows: within one pass), and a write that changes nothing the ledger
//    commits to (the `latest` flag) is not seen at all. Reads made directly in SQL are never seen.
//  - a superuser who can sign (the key) is outside this view's reach (witnesses, DESIGN.md 2).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sentinel/store_view.h"
#include "storage/postgres/pg_conn.h"

namespace medseal::sentinel {

class PgStoreView final : public SentinelView {
 public:
  // Connects to `url` (as `medseal serve --store` takes it) and installs the change journal and
  // watch triggers where they are missing, which needs CREATE on the schema and TRIGGER on the
  // tables (once; a role that may only read works once another role installed them).
  static Result<std::unique_ptr<PgStoreView>> open(const std::string& url);

  Status begin_snapshot() override;
  void end_snapshot() override;
  Result<storage::LogHead> head() override;
  uint64_t bytes_read() const override { return bytes_read_; }

  Result<int64_t> data_version() override;
  Result<bool> replaced() override;
  Result<std::optional<bool>> foreign_commits() override;
  nlohmann::json foreign_evidence() override { return evidence_; }

  Result<std::optional<storage::StoredTile>> tile(bool entries, uint8_t level,
                                                  uint64_t index) override;
  Result<std::vector<ExtrasRow>> extras(uint64_t from, uint64_t to) override;
  Result<std::vector<RecordRow>> records(uint64_t from, uint64_t to) override;
  Result<std::vector<KeyRow>> keys(uint64_t from, uint64_t to) override;

 private:
  struct Touched {  // what one journalled transaction did
    std::set<std::string> tables, ops, roles;
    bool wrote_head = false;
  };

  explicit PgStoreView(std::unique_ptr<storage::postgres::Conn> conn) : conn_(std::move(conn)) {}
  Result<std::string> layout();
  Status install();
  Status prune();

  std::unique_ptr<storage::postgres::Conn> conn_;
  std::string layout_;
  std::string horizon_ = "0";              // xid8: the oldest transaction that may still commit
  std::map<int64_t, uint64_t> seen_;       // journal id -> its transaction, at or past horizon_
  std::map<uint64_t, Touched> pending_;    // observed, not yet attributed
  bool layout_changed_ = false;
  bool settle_ = false;  // replaced() reports the change again at the next poll
  nlohmann::json evidence_ = nlohmann::json::object();
  int64_t counter_ = 0;
  int64_t last_prune_s_ = 0;
  bool may_prune_ = true;
  uint64_t bytes_read_ = 0;
};

}  // namespace medseal::sentinel
