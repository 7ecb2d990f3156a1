#include "cluster/alert_intake.h"

#include <string_view>
#include <vector>

#include "storage/postgres/leadership.h"

namespace medseal::cluster {

using storage::postgres::Params;
using storage::postgres::Rows;

bool is_alert_entry(const ledger::AppendRequest& request) {
  return request.kind == ledger::EntryKind::kSystem && std::string_view(request.statement).starts_with(R"({"v":1,"op":"alert",)");
}

Result<std::unique_ptr<AlertIntake>> AlertIntake::open(const std::string& url) {
  auto conn = storage::postgres::Conn::connect(url);
  if (!conn) return conn.status();
  MEDSEAL_RETURN_IF_ERROR(storage::postgres::create_cluster_table(
      **conn, "cluster_intake (id BIGSERIAL PRIMARY KEY, time_ms BIGINT NOT NULL, statement BYTEA NOT NULL)"));
  return std::unique_ptr<AlertIntake>(new AlertIntake(std::move(*conn)));
}

Status AlertIntake::put(const ledger::AppendRequest& request) {
  std::lock_guard lock(mu_);
  Params p;
  p.i64(static_cast<int64_t>(request.time_ms)).bytea(request.statement);
  return conn_->run("INSERT INTO cluster_intake (time_ms, statement) VALUES ($1, $2)", p, "hand an alert to the leader");
}

Result<size_t> AlertIntake::drain(ledger::Ledger& leader, size_t max) {
  std::lock_guard lock(mu_);
  Params p;
  Result<Rows> rows = conn_->query("SELECT id, time_ms, statement FROM cluster_intake ORDER BY id LIMIT $1",
                                   p.i64(static_cast<int64_t>(max)), "read handed-over alerts");
  if (!rows) return rows.status();
  if (rows->count() == 0) return size_t{0};
  std::vector<ledger::AppendRequest> entries;
  for (int row = 0; row < rows->count(); ++row) {
    ledger::AppendRequest entry;
    entry.kind = ledger::EntryKind::kSystem;
    entry.time_ms = static_cast<uint64_t>(rows->integer(row, 1));
    entry.statement = std::string(rows->bytes(row, 2));
    entries.push_back(std::move(entry));
  }
  Result<uint64_t> appended = leader.append_all(std::move(entries));
  if (!appended) return appended.status();
  Params last;
  MEDSEAL_RETURN_IF_ERROR(conn_->run("DELETE FROM cluster_intake WHERE id <= $1",
                                     last.i64(rows->integer(rows->count() - 1, 0)), "delete handed-over alerts"));
  return static_cast<size_t>(rows->count());
}

}  // namespace medseal::cluster
