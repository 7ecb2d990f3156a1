#include "storage/postgres/leadership.h"

#include <string_view>
#include <thread>

#include "crypto/random.h"

namespace medseal::storage::postgres {

std::string leader_lock_held_sql() {
  // A bigint advisory key is held as classid (high 32 bits) and objid (low), objsubid 1.
  return "locktype = 'advisory' AND granted AND objsubid = 1 AND "
         "((classid::bigint << 32) | objid::bigint) = " + std::string(kLeaderLockKeySql) +
         " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
}

Result<std::unique_ptr<Leadership>> Leadership::acquire(const std::string& url,
                                                        std::chrono::milliseconds poll,
                                                        const std::function<bool()>& give_up) {
  Result<std::unique_ptr<Conn>> conn = Conn::connect(url);
  if (!conn) return conn.status();
  for (;;) {
    static const std::string kTryLock =
        "SELECT pg_try_advisory_lock(" + std::string(kLeaderLockKeySql) + ")::int";
    Result<Rows> got = (*conn)->query(kTryLock.c_str(), Params(), "lead");
    if (!got) return got.status();
    if (got->integer(0, 0) == 1) {
      const int pid = (*conn)->backend_pid();
      return std::unique_ptr<Leadership>(new Leadership(std::move(*conn), pid));
    }
    if (give_up()) return Status::precondition("gave up waiting for the leadership");
    std::this_thread::sleep_for(poll);
  }
}

Status Leadership::check() {
  // No reconnect here: a new session would not hold the lock.
  if (PQstatus(conn_->raw()) != CONNECTION_OK) return Status::precondition("leadership lost");
  static const std::string kHeld =
      "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND " + leader_lock_held_sql();
  Result<Rows> held = conn_->query(kHeld.c_str(), Params(), "check leadership");
  if (!held || held->integer(0, 0) == 0) return Status::precondition("leadership lost");
  return Status::ok();
}

namespace {
constexpr std::string_view kAdvertisedPrefix = "medseal-leader ";
}  // namespace

Status Leadership::wait_for_deposed_writers() {
  Status locked = conn_->exec("BEGIN; LOCK TABLE log_head IN SHARE ROW EXCLUSIVE MODE; COMMIT",
                              "wait for a deposed leader's commit");
  if (!locked.is_ok() && conn_->in_transaction()) (void)conn_->exec("ROLLBACK", "rollback");
  return locked;
}

Status Leadership::advertise(const std::string& address) {
  const std::string name = std::string(kAdvertisedPrefix) + address;
  if (name.size() > 63) return Status::invalid("the advertised address is longer than 48 bytes");
  for (char c : address) {
    if (c <= ' ' || c > '~') return Status::invalid("the advertised address must be printable ASCII");
  }
  Params p;
  return conn_->run("SELECT set_config('application_name', $1, false)", p.text(name), "advertise");
}

Status create_cluster_table(Conn& conn, std::string_view definition) {
  // Under an advisory lock: two nodes running CREATE TABLE IF NOT EXISTS at once may both try.
  const std::string create = "SELECT pg_advisory_xact_lock(hashtextextended('medseal-cluster-tables:' || "
                             "current_schema(), 0)); CREATE TABLE IF NOT EXISTS " + std::string(definition);
  MEDSEAL_RETURN_IF_ERROR(conn.exec("BEGIN", "create a cluster table"));
  Status made = conn.exec(create.c_str(), "create a cluster table");
  if (made) made = conn.exec("COMMIT", "create a cluster table");
  if (!made && conn.in_transaction()) (void)conn.exec("ROLLBACK", "rollback");
  return made;
}

Result<std::string> cluster_secret(const std::string& url, size_t bytes) {
  Result<std::unique_ptr<Conn>> conn = Conn::connect(url);
  if (!conn) return conn.status();
  Conn& c = **conn;
  MEDSEAL_RETURN_IF_ERROR(create_cluster_table(c, "cluster_secret (id SMALLINT PRIMARY KEY, secret BYTEA NOT NULL)"));
  std::string fresh(bytes, '\0');
  crypto::random_bytes(reinterpret_cast<uint8_t*>(fresh.data()), fresh.size());
  Params p;
  MEDSEAL_RETURN_IF_ERROR(c.run("INSERT INTO cluster_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                                p.bytea(fresh), "cluster secret"));
  Result<Rows> got = c.query("SELECT secret FROM cluster_secret WHERE id = 1", Params(), "cluster secret");
  if (!got) return got.status();
  if (got->count() != 1 || got->bytes(0, 0).size() < bytes) return Status::internal("postgres: the cluster secret is missing or short");
  return std::string(got->bytes(0, 0));
}

Result<std::string> find_leader_address(Conn& conn) {
  static const std::string kFind =
      "SELECT a.application_name FROM pg_stat_activity a WHERE a.pid IN "
      "(SELECT pid FROM pg_locks WHERE " + leader_lock_held_sql() + ")";
  Result<Rows> got = conn.query(kFind.c_str(), Params(), "find leader");
  if (!got) return got.status();
  for (int row = 0; row < got->count(); ++row) {
    std::string_view name = got->bytes(row, 0);
    if (name.starts_with(kAdvertisedPrefix)) return std::string(name.substr(kAdvertisedPrefix.size()));
  }
  return Status::not_found("no leader has advertised an address");
}

}  // namespace medseal::storage::postgres
