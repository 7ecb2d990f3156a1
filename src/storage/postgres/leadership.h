// Leadership among medseal nodes that share one PostgreSQL database (issue 7 section 2): exactly
// one node sequences at a time. The leader holds a session-level advisory lock on a session of
// its own; PostgreSQL releases it when that session ends (the node died, was killed, or lost its
// network: the server's keepalives end the session), and a waiting node takes it within its poll
// interval. No home-made consensus: PostgreSQL's lock manager decides.
//
// Holding the lock is not enough on its own: a node that lost its session may not know it yet.
// So the store fences every commit with the lock (PostgresStoreOptions::leader_session): inside
// the batch's transaction, under the log_head table lock, it checks that the leadership session
// still holds the advisory lock, and refuses the batch if not. A deposed leader can therefore never
// commit, and a new leader's first batch waits for any batch the old one had in flight, then
// re-reads the head (the ledger reloads after a refused batch) before it signs anything committed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "storage/postgres/pg_conn.h"
#include "util/status.h"

namespace medseal::storage::postgres {

// The leadership lock's key, as SQL: one per log, that is per schema (the session's
// current_schema()), so logs in other schemas of one database lead independently.
inline constexpr std::string_view kLeaderLockKeySql =
    "hashtextextended('medseal-leader:' || current_schema(), 0)";
// A condition on pg_locks rows: the granted leadership lock of the log of this session's schema.
std::string leader_lock_held_sql();

class Leadership {
 public:
  // Waits until this process holds the leadership of the database at `url`, trying every `poll`;
  // kFailedPrecondition once `give_up()` returns true, kIoError if the server cannot be reached.
  static Result<std::unique_ptr<Leadership>> acquire(const std::string& url,
                                                     std::chrono::milliseconds poll,
                                                     const std::function<bool()>& give_up);

  // The holding session's backend process id, for PostgresStoreOptions::leader_session.
  int session_pid() const { return session_pid_; }
  // OK while the lock is still held; kFailedPrecondition once the session is gone (a round trip).
  Status check();
  // Returns once no transaction of a deposed leader can commit any more: takes log_head's table
  // lock once (what every commit holds while it checks its fence), so a batch the old leader had
  // in flight has either committed or will be refused. Call it after acquire(), before reading the
  // head to sign on from.
  Status wait_for_deposed_writers();
  // Publishes where this node takes forwarded requests ("http://host:port", at most 63 printable
  // ASCII bytes) as the application_name of the lock's session: the address lives and dies with
  // the lock, so no stale address outlives a dead leader.
  Status advertise(const std::string& address);

 private:
  Leadership(std::unique_ptr<Conn> conn, int pid) : conn_(std::move(conn)), session_pid_(pid) {}
  std::unique_ptr<Conn> conn_;
  int session_pid_;
};

// Creates table `definition` ("name (columns...)") in the session's schema unless it exists: the
// nodes' own tables beside the ledger's (not part of storage/schema.h's migrations, which both
// stores share), created by the first node that needs one.
Status create_cluster_table(Conn& conn, std::string_view definition);

// The cluster secret of the log of `url`'s schema (cluster/forwarded_identity.h): `bytes` random
// bytes generated once, by the first node that asks, into the table cluster_secret (nodes
// starting together each offer one; the first insert wins and all read it), and read by every
// node at start. Any role that may read the ledger's tables may read it.
Result<std::string> cluster_secret(const std::string& url, size_t bytes);

// The address the current leader advertised, read through `conn` (any session of the database);
// kNotFound while no session holds the lock or its holder has not advertised yet.
Result<std::string> find_leader_address(Conn& conn);

}  // namespace medseal::storage::postgres
