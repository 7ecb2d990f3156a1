#include "storage/postgres/leadership.h"

#include <thread>

namespace medseal::storage::postgres {

Result<std::unique_ptr<Leadership>> Leadership::acquire(const std::string& url,
                                                        std::chrono::milliseconds poll,
                                                        const std::function<bool()>& give_up) {
  Result<std::unique_ptr<Conn>> conn = Conn::connect(url);
  if (!conn) return conn.status();
  for (;;) {
    Params p;
    Result<Rows> got =
        (*conn)->query("SELECT pg_try_advisory_lock($1)::int", p.i64(kLeaderLockKey), "lead");
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
  Params p;
  Result<Rows> held = conn_->query(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
      "pid = pg_backend_pid() AND objid = $1",
      p.i64(kLeaderLockKey), "check leadership");
  if (!held || held->integer(0, 0) == 0) return Status::precondition("leadership lost");
  return Status::ok();
}

}  // namespace medseal::storage::postgres
