#include "sentinel/pg_store_view.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include "crypto/sha256.h"
#include "storage/extras_codec.h"
#include "storage/postgres/pg_store.h"

namespace medseal::sentinel {
namespace {

using storage::postgres::Conn;
using storage::postgres::Params;
using storage::postgres::Rows;

// Every table the ledger commits to; each carries the watch trigger.
constexpr const char* kWatched[] = {"entry_extras", "entry_keys", "log_head", "record_versions",
                                    "tiles"};
constexpr size_t kRecordsPerQuery = 512;  // bounds one result's memory (records hold FHIR JSON)

// Under a transaction-scoped advisory lock, so the sentinels of several nodes install it once.
constexpr char kInstall[] = R"sql(
BEGIN;
SELECT pg_advisory_xact_lock(4856235130);
CREATE TABLE IF NOT EXISTS medseal_sentinel_journal (
  id BIGSERIAL PRIMARY KEY,
  tx XID8 NOT NULL DEFAULT pg_current_xact_id(),
  tbl TEXT NOT NULL,
  op TEXT NOT NULL,
  who TEXT NOT NULL DEFAULT session_user,
  at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS medseal_sentinel_journal_by_tx ON medseal_sentinel_journal (tx);
CREATE OR REPLACE FUNCTION medseal_sentinel_note() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
BEGIN
  INSERT INTO medseal_sentinel_journal (tbl, op) VALUES (TG_TABLE_NAME, TG_OP);
  RETURN NULL;
END
$fn$;
)sql";
constexpr char kTrigger[] =
    "CREATE OR REPLACE TRIGGER medseal_sentinel_watch AFTER INSERT OR UPDATE OR DELETE OR "
    "TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION medseal_sentinel_note();\n";

// One line per watched table (and the journal): name, oid, relfilenode, the trigger's state.
constexpr char kLayout[] =
    "SELECT coalesce(string_agg(c.relname || ':' || c.oid::text || ':' || "
    "coalesce(pg_relation_filenode(c.oid)::text, '-') || ':' || coalesce((SELECT t.tgenabled::text "
    "FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'medseal_sentinel_watch'), '-'), "
    "',' ORDER BY c.relname), '') FROM pg_class c WHERE c.oid = ANY (ARRAY[ "
    "to_regclass('entry_extras'), to_regclass('entry_keys'), to_regclass('log_head'), "
    "to_regclass('record_versions'), to_regclass('tiles'), "
    "to_regclass('medseal_sentinel_journal')]::oid[])";
// The horizon and the journal rows at or past it, in one snapshot.
constexpr char kJournal[] =
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, j.id, j.tx::text, j.tbl, j.op, j.who "
    "FROM (SELECT 1) one LEFT JOIN medseal_sentinel_journal j ON j.tx >= $1::text::xid8 "
    "ORDER BY j.id";
constexpr char kPrune[] =
    "DELETE FROM medseal_sentinel_journal WHERE tx < $1::text::xid8 "
    "AND at < now() - interval '2 minutes'";

constexpr char kHead[] = "SELECT size, checkpoint FROM log_head WHERE id = 0";
constexpr char kTile[] =
    "SELECT width, bytes FROM tiles WHERE entries = $1 AND level = $2 AND idx = $3";
constexpr char kExtras[] =
    "SELECT first_idx, count, data FROM entry_extras WHERE first_idx >= $1 AND first_idx < $2 "
    "ORDER BY first_idx";
constexpr char kRecords[] =
    "SELECT ledger_idx, type, id, version, updated_ms, deleted, compartment, bytes "
    "FROM record_versions WHERE ledger_idx >= $1 AND ledger_idx < $2 ORDER BY ledger_idx LIMIT $3";
// Byte order, as SQLite compares keys.
constexpr char kKeys[] =
    "SELECT key, idx FROM entry_keys WHERE idx >= $1 AND idx < $2 ORDER BY idx, key COLLATE \"C\"";

int64_t as_sql(uint64_t v) { return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v); }

uint64_t parse_xid(std::string_view text) {
  uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// True when every watched table carries an enabled watch trigger and the journal exists.
bool healthy(const std::string& layout) {
  size_t watched = 0;
  bool journal = false;
  size_t start = 0;
  while (start < layout.size()) {
    size_t end = layout.find(',', start);
    if (end == std::string::npos) end = layout.size();
    const std::string line = layout.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("medseal_sentinel_journal:")) journal = true;
    if (line.ends_with(":O") || line.ends_with(":A")) ++watched;
  }
  return journal && watched == std::size(kWatched);
}

}  // namespace

Result<std::unique_ptr<PgStoreView>> PgStoreView::open(const std::string& url) {
  Result<std::unique_ptr<Conn>> conn = Conn::connect(url);
  if (!conn) return conn.status();
  std::unique_ptr<PgStoreView> view(new PgStoreView(std::move(*conn)));
  Result<std::string> layout = view->layout();
  if (!layout) return layout.status();
  if (!healthy(*layout)) {
    MEDSEAL_RETURN_IF_ERROR(view->install());
    layout = view->layout();
    if (!layout) return layout.status();
  }
  view->layout_ = *layout;
  // What committed before the sentinel started is the full pass's business, not attribution's.
  Result<int64_t> first = view->data_version();
  if (!first) return first.status();
  view->pending_.clear();
  return view;
}

Result<std::string> PgStoreView::layout() {
  Result<Rows> rows = conn_->query(kLayout, Params(), "read table layout");
  if (!rows) return rows.status();
  return std::string(rows->bytes(0, 0));
}

Status PgStoreView::install() {
  std::string sql = kInstall;
  for (const char* table : kWatched) {
    char line[256];
    std::snprintf(line, sizeof line, kTrigger, table);
    sql += line;
  }
  sql += "COMMIT;";
  Status s = conn_->exec(sql.c_str(), "install the sentinel's change journal");
  if (!s && conn_->in_transaction()) (void)conn_->exec("ROLLBACK", "install rollback");
  if (!s) {
    return Status::precondition(s.message() + " (the sentinel's role needs CREATE on the schema and "
                            "TRIGGER on the ledger's tables once; serve --no-sentinel runs without)");
  }
  return s;
}

Status PgStoreView::begin_snapshot() {
  return conn_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin snapshot");
}

void PgStoreView::end_snapshot() {
  if (conn_->in_transaction()) (void)conn_->exec("COMMIT", "end snapshot");
}

Result<bool> PgStoreView::replaced() {
  Result<std::string> now = layout();
  if (!now) return now.status();
  if (*now == layout_) {
    // Once more at the poll after a change: a snapshot taken before a TRUNCATE or re-created
    // table committed reads the new, empty file (neither is MVCC-safe), so the head rule runs
    // again on a snapshot that sees the committed state.
    if (!settle_) return false;
    settle_ = false;
    ++counter_;
    return true;
  }
  layout_changed_ = true;
  settle_ = true;
  if (!healthy(*now)) {
    Status installed = install();  // may be refused to a role that only reads: then alert only
    if (installed) {
      now = layout();
      if (!now) return now.status();
    }
  }
  layout_ = *now;
  ++counter_;
  return true;
}

Result<int64_t> PgStoreView::data_version() {
  Params p;
  Result<Rows> rows = conn_->query(kJournal, p.text(horizon_), "read change journal");
  if (!rows) return rows.status();
  for (int r = 0; r < rows->count(); ++r) {
    if (rows->is_null(r, 1)) continue;  // no journal row: only the horizon
    const int64_t id = rows->integer(r, 1);
    const uint64_t tx = parse_xid(rows->bytes(r, 2));
    if (!seen_.emplace(id, tx).second) continue;
    ++counter_;
    Touched& t = pending_[tx];
    const std::string table(rows->bytes(r, 3)), op(rows->bytes(r, 4));
    t.tables.insert(table);
    t.ops.insert(op);
    t.roles.insert(std::string(rows->bytes(r, 5)));
    if (table == "log_head" && op == "INSERT") t.wrote_head = true;
  }
  if (rows->count() > 0) {
    horizon_ = std::string(rows->bytes(0, 0));
    const uint64_t horizon = parse_xid(horizon_);
    std::erase_if(seen_, [horizon](const auto& kv) { return kv.second < horizon; });
  }
  if (!conn_->in_transaction()) MEDSEAL_RETURN_IF_ERROR(prune());
  return counter_;
}

// Drops journal rows older than two minutes once a minute, where the role may: they only serve
// attribution, which reads the rows of transactions that were running at the last poll.
Status PgStoreView::prune() {
  using namespace std::chrono;
  const int64_t now_s = duration_cast<seconds>(steady_clock::now().time_since_epoch()).count();
  if (!may_prune_ || now_s - last_prune_s_ < 60) return Status::ok();
  last_prune_s_ = now_s;
  Params p;
  if (!conn_->run(kPrune, p.text(horizon_), "prune change journal")) may_prune_ = false;
  return Status::ok();
}

Result<std::optional<bool>> PgStoreView::foreign_commits() {
  nlohmann::json transactions = nlohmann::json::array();
  for (const auto& [tx, t] : pending_) {
    if (t.wrote_head) continue;
    if (transactions.size() < 20) {
      transactions.push_back({{"tx", std::to_string(tx)}, {"tables", t.tables}, {"ops", t.ops},
                              {"roles", t.roles}});
    }
  }
  pending_.clear();
  const bool foreign = !transactions.empty() || layout_changed_;
  evidence_ = nlohmann::json::object();
  if (!transactions.empty()) evidence_["transactions"] = std::move(transactions);
  if (layout_changed_) {
    evidence_["layout"] = "a table was re-created or rewritten, or its watch trigger changed";
  }
  layout_changed_ = false;
  return std::optional<bool>(foreign);
}

Result<storage::LogHead> PgStoreView::head() {
  Result<Rows> rows = conn_->query(kHead, Params(), "read head");
  if (!rows) return rows.status();
  storage::LogHead h;
  if (rows->count() > 0) {
    h.size = static_cast<uint64_t>(rows->integer(0, 0));
    h.checkpoint = std::string(rows->bytes(0, 1));
  }
  return h;
}

Result<std::optional<storage::StoredTile>> PgStoreView::tile(bool entries, uint8_t level,
                                                             uint64_t index) {
  Params p;
  p.i64(entries ? 1 : 0).i64(level).i64(as_sql(index));
  Result<Rows> rows = conn_->query(kTile, p, "read tile");
  if (!rows) return rows.status();
  if (rows->count() == 0) return std::optional<storage::StoredTile>();
  storage::StoredTile t{static_cast<uint32_t>(rows->integer(0, 0)), std::string(rows->bytes(0, 1)),
                        ""};
  bytes_read_ += t.bytes.size();
  return std::optional<storage::StoredTile>(std::move(t));
}

Result<std::vector<ExtrasRow>> PgStoreView::extras(uint64_t from, uint64_t to) {
  Params p;
  p.i64(as_sql(from - from % storage::kExtrasRunLimit)).i64(as_sql(to));
  Result<Rows> rows = conn_->query(kExtras, p, "read extras");
  if (!rows) return rows.status();
  std::vector<ExtrasRow> out;
  for (int r = 0; r < rows->count(); ++r) {
    out.push_back({static_cast<uint64_t>(rows->integer(r, 0)),
                   static_cast<uint64_t>(rows->integer(r, 1)), std::string(rows->bytes(r, 2))});
    bytes_read_ += out.back().data.size();
  }
  return out;
}

Result<std::vector<RecordRow>> PgStoreView::records(uint64_t from, uint64_t to) {
  std::vector<RecordRow> out;
  for (uint64_t next = from; next < to;) {
    Params p;
    p.i64(as_sql(next)).i64(as_sql(to)).i64(kRecordsPerQuery);
    Result<Rows> rows = conn_->query(kRecords, p, "read records");
    if (!rows) return rows.status();
    for (int i = 0; i < rows->count(); ++i) {
      RecordRow r;
      r.ledger_index = static_cast<uint64_t>(rows->integer(i, 0));
      r.type = std::string(rows->bytes(i, 1));
      r.id = std::string(rows->bytes(i, 2));
      r.version = static_cast<uint64_t>(rows->integer(i, 3));
      r.updated_ms = static_cast<uint64_t>(rows->integer(i, 4));
      r.deleted = rows->integer(i, 5) != 0;
      r.compartment = std::string(rows->bytes(i, 6));
      const std::string_view bytes = rows->bytes(i, 7);
      r.bytes_size = bytes.size();
      r.bytes_sha256 = crypto::sha256(bytes);
      bytes_read_ += bytes.size() + r.type.size() + r.id.size() + r.compartment.size() + 40;
      out.push_back(std::move(r));
    }
    if (static_cast<size_t>(rows->count()) < kRecordsPerQuery) break;
    next = out.back().ledger_index + 1;
  }
  return out;
}

Result<std::vector<KeyRow>> PgStoreView::keys(uint64_t from, uint64_t to) {
  Params p;
  Result<Rows> rows = conn_->query(kKeys, p.i64(as_sql(from)).i64(as_sql(to)), "read keys");
  if (!rows) return rows.status();
  std::vector<KeyRow> out;
  for (int r = 0; r < rows->count(); ++r) {
    out.push_back({std::string(rows->bytes(r, 0)), static_cast<uint64_t>(rows->integer(r, 1))});
    bytes_read_ += out.back().key.size() + 8;
  }
  return out;
}

Result<std::unique_ptr<SentinelView>> open_sentinel_view(const std::string& location) {
  if (storage::is_postgres_url(location)) {
    Result<std::unique_ptr<PgStoreView>> pg = PgStoreView::open(location);
    if (!pg) return pg.status();
    return std::unique_ptr<SentinelView>(std::move(*pg));
  }
  Result<StoreView> sqlite = StoreView::open(location);
  if (!sqlite) return sqlite.status();
  return std::unique_ptr<SentinelView>(std::make_unique<StoreView>(std::move(*sqlite)));
}

}  // namespace medseal::sentinel
