#include "storage/postgres/pg_store.h"

#include <mutex>
#include <utility>
#include <vector>

#include "storage/extras_codec.h"
#include "storage/postgres/leadership.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_records.h"
#include "storage/record_rows.h"
#include "storage/schema.h"
#include "storage/session_pool.h"
#include "storage/sqlite/sqlite_store.h"

namespace medseal::storage {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

// A migration of storage/schema.h in PostgreSQL's spelling: BLOB is BYTEA, and the rowid key
// "INTEGER PRIMARY KEY" a BIGINT key.
std::string postgres_dialect(std::string sql) {
  const std::pair<std::string_view, std::string_view> spellings[] = {
      {" BLOB", " BYTEA"}, {"INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY"}};
  for (auto [from, to] : spellings) {
    for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size())) {
      sql.replace(at, from.size(), to);
    }
  }
  return sql;
}

// Serializes schema changes of every medseal process on one database ("meds" in ASCII).
constexpr char kLockMigrations[] = "SELECT pg_advisory_xact_lock(1835361395)";

constexpr char kSelectHead[] = "SELECT size, checkpoint FROM log_head WHERE id = 0";
constexpr char kSelectTile[] =
    "SELECT width, bytes, nodes FROM tiles WHERE entries = $1 AND level = $2 AND idx = $3";
constexpr char kSelectExtras[] =
    "SELECT first_idx, count, data FROM entry_extras WHERE first_idx <= $1 "
    "ORDER BY first_idx DESC LIMIT 1";
constexpr char kUpsertTile[] =
    "INSERT INTO tiles (entries, level, idx, width, bytes, nodes) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (entries, level, idx) DO UPDATE SET width = excluded.width, "
    "bytes = excluded.bytes, nodes = excluded.nodes";
constexpr char kInsertExtras[] =
    "INSERT INTO entry_extras (first_idx, count, data) VALUES ($1, $2, $3)";
constexpr char kUpdateExtras[] = "UPDATE entry_extras SET data = $2 WHERE first_idx = $1";
constexpr char kUpsertHead[] =
    "INSERT INTO log_head (id, size, checkpoint) VALUES (0, $1, $2) "
    "ON CONFLICT (id) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint";

Result<LogHead> query_head(Conn& c) {
  Result<Rows> rows = c.query(kSelectHead, Params{}, "read head");
  if (!rows) return rows.status();
  LogHead head;
  if (rows->count() > 0) {
    head.size = static_cast<uint64_t>(rows->integer(0, 0));
    head.checkpoint = std::string(rows->bytes(0, 1));
  }
  return head;
}

// 0 for a database without the schema_version table (new, or not ours yet).
Result<int64_t> schema_version(Conn& c) {
  // A scan of the catalog, not to_regclass(): its cache is not refreshed by taking an advisory
  // lock, so under the migration lock it could still miss a table another node just created.
  Result<Rows> exists = c.query(
      "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
      "AND tablename = 'schema_version'",
      Params{}, "read schema");
  if (!exists) return exists.status();
  if (exists->integer(0, 0) == 0) return 0;
  Result<Rows> v = c.query("SELECT version FROM schema_version", Params{}, "read schema");
  if (!v) return v.status();
  if (v->count() != 1) return Status::internal("postgres: schema_version does not hold one row");
  return v->integer(0, 0);
}

Status check_not_newer(int64_t version) {
  if (version <= kSchemaVersion) return Status::ok();
  return Status::precondition("database schema version " + std::to_string(version) +
                              " is newer than this program's " + std::to_string(kSchemaVersion));
}

Status apply_migrations(Conn& c) {
  MEDSEAL_RETURN_IF_ERROR(c.run(kLockMigrations, Params{}, "migrate schema"));
  Result<int64_t> version = schema_version(c);  // re-read under the lock
  if (!version) return version.status();
  MEDSEAL_RETURN_IF_ERROR(check_not_newer(*version));
  for (int64_t v = *version; v < kSchemaVersion; ++v) {
    MEDSEAL_RETURN_IF_ERROR(c.exec(postgres_dialect(kMigrations[v]).c_str(), "migrate schema"));
    Params p;
    MEDSEAL_RETURN_IF_ERROR(
        c.run("UPDATE schema_version SET version = $1", p.i64(v + 1), "migrate schema"));
  }
  return Status::ok();
}

// Creates or upgrades the schema; takes no lock when there is nothing to do, so a role that may
// only read can still open the store.
Status migrate(Conn& c) {
  Result<int64_t> version = schema_version(c);
  if (!version) return version.status();
  MEDSEAL_RETURN_IF_ERROR(check_not_newer(*version));
  if (*version == kSchemaVersion) return Status::ok();
  MEDSEAL_RETURN_IF_ERROR(c.exec("BEGIN", "migrate schema"));
  Status s = apply_migrations(c);
  if (s) s = c.exec("COMMIT", "migrate schema");
  if (!s && c.in_transaction()) (void)c.exec("ROLLBACK", "migrate schema");
  return s;
}

Result<StoredTile> query_tile(Conn& c, const TileRef& ref) {
  Params p;
  p.i64(ref.entries ? 1 : 0).i64(ref.level).i64(static_cast<int64_t>(ref.index));
  Result<Rows> rows = c.query(kSelectTile, p, "read tile");
  if (!rows) return rows.status();
  if (rows->count() == 0) return Status::not_found("no such tile in the store");
  return StoredTile{static_cast<uint32_t>(rows->integer(0, 0)), std::string(rows->bytes(0, 1)),
                    std::string(rows->bytes(0, 2))};
}

// The extras row holding `index`: its first index, count and data; kNotFound if none.
struct ExtrasRow {
  uint64_t first = 0;
  std::string data;
};
Result<ExtrasRow> query_extras_row(Conn& c, uint64_t index) {
  Params p;
  Result<Rows> rows = c.query(kSelectExtras, p.i64(static_cast<int64_t>(index)), "read extras");
  if (!rows) return rows.status();
  const uint64_t first = rows->count() > 0 ? static_cast<uint64_t>(rows->integer(0, 0)) : 0;
  if (rows->count() == 0 || index - first >= static_cast<uint64_t>(rows->integer(0, 1))) {
    return Status::not_found("no extras stored for entry " + std::to_string(index));
  }
  return ExtrasRow{first, std::string(rows->bytes(0, 2))};
}

Status write_tile(Conn& c, const TileBlob& t) {
  MEDSEAL_RETURN_IF_ERROR(check_tile(t));
  Params p;
  p.i64(t.id.entries ? 1 : 0).i64(t.id.level).i64(static_cast<int64_t>(t.id.index));
  p.i64(t.id.width).bytea(t.bytes);
  if (t.nodes.empty()) {
    p.null_bytea();
  } else {
    p.bytea(t.nodes);
  }
  return c.run(kUpsertTile, p, "write tile");
}

// Rewrites the extras row holding `index` with that entry marked erased.
Status erase_extra(Conn& c, uint64_t index) {
  Result<ExtrasRow> row = query_extras_row(c, index);
  if (row.status().code() == Code::kNotFound) {
    return Status::internal("no extras row holds erased entry " + std::to_string(index));
  }
  if (!row) return row.status();
  Result<std::string> data = erase_extra_at(row->data, index - row->first);
  if (!data) return data.status();
  Params p;
  return c.run(kUpdateExtras, p.i64(static_cast<int64_t>(row->first)).bytea(*data),
               "erase extras");
}

// kFailedPrecondition unless session `pid` holds the leadership lock (postgres/leadership.h).
Status check_fence(Conn& c, int pid) {
  static const std::string kHeld =
      "SELECT count(*) FROM pg_locks WHERE pid = $1 AND " + postgres::leader_lock_held_sql();
  Params p;
  Result<Rows> held = c.query(kHeld.c_str(), p.i64(pid), "check leadership");
  if (!held) return held.status();
  if (held->integer(0, 0) == 0) return Status::precondition("this node no longer leads the log");
  return Status::ok();
}

// The batch's writes in one transaction; the caller rolls back on error. With a leader session
// (PostgresStoreOptions), only while that session holds the leadership.
Status write_batch(Conn& c, const Batch& batch, const std::vector<ExtrasRun>& runs,
                   int leader_session) {
  MEDSEAL_RETURN_IF_ERROR(c.exec("BEGIN", "begin"));
  // Taken before the size is read, so no other writer can slip in between; readers do not wait.
  MEDSEAL_RETURN_IF_ERROR(c.exec("LOCK TABLE log_head IN SHARE ROW EXCLUSIVE MODE", "lock head"));
  if (leader_session != 0) MEDSEAL_RETURN_IF_ERROR(check_fence(c, leader_session));
  Result<LogHead> stored = query_head(c);
  if (!stored) return stored.status();
  if (stored->size != batch.old_size) {
    return Status::precondition("the store holds " + std::to_string(stored->size) +
                                " entries, the batch extends " + std::to_string(batch.old_size));
  }
  for (const TileBlob& t : batch.tiles) MEDSEAL_RETURN_IF_ERROR(write_tile(c, t));
  for (const ExtrasRun& r : runs) {
    Params p;
    p.i64(static_cast<int64_t>(r.first_index)).i64(static_cast<int64_t>(r.count)).bytea(r.data);
    MEDSEAL_RETURN_IF_ERROR(c.run(kInsertExtras, p, "write extras"));
  }
  MEDSEAL_RETURN_IF_ERROR(postgres::write_records(c, batch));
  // After the batch's own rows, so an erasure may name an entry of this batch.
  for (const Erasure& e : batch.erasures) {
    MEDSEAL_RETURN_IF_ERROR(postgres::erase_record(c, e));
    for (uint64_t index : e.indexes) MEDSEAL_RETURN_IF_ERROR(erase_extra(c, index));
  }
  Params h;
  h.i64(static_cast<int64_t>(batch.new_size)).bytea(batch.checkpoint);
  MEDSEAL_RETURN_IF_ERROR(c.run(kUpsertHead, h, "write checkpoint"));
  return c.exec("COMMIT", "commit");
}

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, PostgresStoreOptions options)
      : url_(std::move(url)), options_(options) {}

  Status open() {
    Result<std::unique_ptr<Conn>> c = Conn::connect(url_);
    if (!c) return c.status();
    writer_ = std::move(*c);
    return migrate(*writer_);
  }

  Status commit(const Batch& batch) override {
    Result<std::vector<ExtrasRun>> runs = check_batch(batch);
    if (!runs) return runs.status();
    std::lock_guard lock(writer_mu_);
    Status s = write_batch(*writer_, batch, *runs, options_.leader_session);
    if (!s && writer_->in_transaction()) (void)writer_->exec("ROLLBACK", "rollback");
    return s;
  }

  Result<LogHead> head() override {
    return with_reader([](Conn& c) { return query_head(c); });
  }

  Result<StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) override {
    return with_reader([&](Conn& c) { return query_tile(c, {entries, level, index}); });
  }

  Result<std::vector<StoredTile>> read_tiles(std::span<const TileRef> refs) override {
    return with_snapshot([&](Conn& c) -> Result<std::vector<StoredTile>> {
      std::vector<StoredTile> out;
      out.reserve(refs.size());
      for (const TileRef& ref : refs) {
        Result<StoredTile> t = query_tile(c, ref);
        if (!t) return t.status();
        out.push_back(std::move(*t));
      }
      return out;
    });
  }

  Result<EntryExtra> read_extra(uint64_t index) override {
    return with_reader([&](Conn& c) -> Result<EntryExtra> {
      Result<ExtrasRow> row = query_extras_row(c, index);
      if (!row) return row.status();
      return decode_extra_at(row->data, index - row->first);
    });
  }

  Result<RecordVersion> read_record(std::string_view type, std::string_view id,
                                    uint64_t version) override {
    return with_reader([&](Conn& c) { return postgres::read_record(c, type, id, version); });
  }

  Result<RecordPage> record_history(std::string_view type, std::string_view id, uint64_t offset,
                                    uint64_t limit) override {
    return with_snapshot(
        [&](Conn& c) { return postgres::record_history(c, type, id, offset, limit); });
  }

  Result<RecordPage> search_records(const RecordQuery& query) override {
    return with_snapshot([&](Conn& c) { return postgres::search_records(c, query); });
  }

  Result<std::vector<uint64_t>> entries_with_key(std::string_view key, uint64_t offset,
                                                 uint64_t limit) override {
    return with_reader(
        [&](Conn& c) { return postgres::entries_with_key(c, key, offset, limit); });
  }

 private:
  // Runs fn on a reader inside one read-only REPEATABLE READ transaction: one snapshot.
  template <typename Fn>
  auto with_snapshot(Fn&& fn) -> decltype(fn(std::declval<Conn&>())) {
    return with_reader([&](Conn& c) -> decltype(fn(c)) {
      MEDSEAL_RETURN_IF_ERROR(
          c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin read"));
      auto result = fn(c);
      if (result) {
        Status s = c.exec("COMMIT", "end read");
        if (!s) result = s;
      }
      if (c.in_transaction()) (void)c.exec("ROLLBACK", "end read");
      return result;
    });
  }

  template <typename Fn>
  auto with_reader(Fn&& fn) -> decltype(fn(std::declval<Conn&>())) {
    return readers_.with(std::forward<Fn>(fn));
  }

  const std::string url_;
  const PostgresStoreOptions options_;
  std::mutex writer_mu_;  // the writer session
  std::unique_ptr<Conn> writer_;
  SessionPool<Conn> readers_{options_.idle_readers, [this] { return Conn::connect(url_); }};
};

}  // namespace

bool is_postgres_url(const std::string& s) {
  return s.starts_with("postgresql://") || s.starts_with("postgres://");
}

Result<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                   const PostgresStoreOptions& options) {
  auto store = std::make_unique<PostgresStore>(url, options);
  MEDSEAL_RETURN_IF_ERROR(store->open());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> open_store_at(const std::string& location) {
  return is_postgres_url(location) ? open_postgres_store(location) : open_sqlite_store(location);
}

}  // namespace medseal::storage
