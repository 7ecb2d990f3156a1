#include "storage/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <utility>
#include <vector>

#include "storage/extras_codec.h"
#include "storage/record_rows.h"
#include "storage/sqlite/checkpointer.h"
#include "storage/schema.h"
#include "storage/session_pool.h"
#include "storage/sqlite/record_sql.h"
#include "storage/sqlite/sqlite_db.h"
#include "util/file_io.h"

namespace medseal::storage {
namespace {

using sqlite::Db;
using sqlite::Stmt;

constexpr char kSelectHead[] = "SELECT size, checkpoint FROM log_head WHERE id = 0";
constexpr char kSelectTile[] =
    "SELECT width, bytes, nodes FROM tiles WHERE entries = ?1 AND level = ?2 AND idx = ?3";
constexpr char kSelectExtras[] =
    "SELECT first_idx, count, data FROM entry_extras WHERE first_idx <= ?1 "
    "ORDER BY first_idx DESC LIMIT 1";
constexpr char kUpsertTile[] =
    "INSERT INTO tiles (entries, level, idx, width, bytes, nodes) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (entries, level, idx) DO UPDATE SET width = excluded.width, "
    "bytes = excluded.bytes, nodes = excluded.nodes";
constexpr char kInsertExtras[] =
    "INSERT INTO entry_extras (first_idx, count, data) VALUES (?1, ?2, ?3)";
constexpr char kUpdateExtras[] = "UPDATE entry_extras SET data = ?2 WHERE first_idx = ?1";
constexpr char kUpsertHead[] =
    "INSERT INTO log_head (id, size, checkpoint) VALUES (0, ?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint";

// The head as stored, or size 0 with no checkpoint for a log never written.
Result<LogHead> query_head(Stmt& stmt) {
  Result<bool> row = stmt.start().step("read head");
  if (!row) return row.status();
  LogHead head;
  if (*row) {
    head.size = static_cast<uint64_t>(stmt.column_int(0));
    head.checkpoint = std::string(stmt.column_blob(1));
  }
  stmt.start();  // end the read transaction now rather than at the next use
  return head;
}

// One integer from a query that returns one row.
Result<int64_t> query_int(Db& db, const char* sql, std::string_view what) {
  Result<Stmt> stmt = Stmt::prepare(db, sql);
  if (!stmt) return stmt.status();
  Result<bool> row = stmt->start().step(what);
  if (!row) return row.status();
  if (!*row) return Status::internal("sqlite: " + std::string(what) + ": no result");
  return stmt->column_int(0);
}

// 0 for a file without the schema_version table (new, or not ours yet).
Result<int64_t> schema_version(Db& db) {
  Result<int64_t> exists = query_int(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
      "read schema");
  if (!exists || *exists == 0) return exists;
  return query_int(db, "SELECT version FROM schema_version", "read schema");
}

Status apply_migrations(Db& db) {
  Result<int64_t> version = schema_version(db);  // re-read under the write lock
  if (!version) return version.status();
  for (int64_t v = *version; v < kSchemaVersion; ++v) {
    MEDSEAL_RETURN_IF_ERROR(db.exec(kMigrations[v], "migrate schema"));
    const std::string bump = "UPDATE schema_version SET version = " + std::to_string(v + 1);
    MEDSEAL_RETURN_IF_ERROR(db.exec(bump.c_str(), "migrate schema"));
  }
  return Status::ok();
}

// Creates or upgrades the schema. Only takes the write lock when there is something to do, so a
// file that cannot be written can still be opened for reading.
Status migrate(Db& db) {
  Result<int64_t> version = schema_version(db);
  if (!version) return version.status();
  if (*version > kSchemaVersion) {
    return Status::precondition("database schema version " + std::to_string(*version) +
                                " is newer than this program's " + std::to_string(kSchemaVersion));
  }
  if (*version == kSchemaVersion) return Status::ok();
  MEDSEAL_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE", "migrate schema"));
  Status s = apply_migrations(db);
  if (s) s = db.exec("COMMIT", "migrate schema");
  if (!s && db.in_transaction()) (void)db.exec("ROLLBACK", "migrate schema");
  return s;
}

Status configure_writer(Db& db, uint32_t page_size) {
  // page_size only takes effect on a file that has no tables yet, and must precede WAL mode.
  const std::string pragma = "PRAGMA page_size = " + std::to_string(page_size);
  MEDSEAL_RETURN_IF_ERROR(db.exec(pragma.c_str(), "set page size"));
  return sqlite::use_wal_synced_by_caller(db);  // SqliteStoreImpl::sync()
}

// One tile by key, on a reader's statement.
Result<StoredTile> query_tile(Stmt& q, const TileRef& ref) {
  q.start()
      .bind(1, ref.entries ? 1 : 0)
      .bind(2, ref.level)
      .bind(3, static_cast<int64_t>(ref.index));
  Result<bool> row = q.step("read tile");
  if (!row) return row.status();
  if (!*row) return Status::not_found("no such tile in the store");
  StoredTile t{static_cast<uint32_t>(q.column_int(0)), std::string(q.column_blob(1)),
               std::string(q.column_blob(2))};
  q.start();  // end the statement (and an implicit read transaction) now
  return t;
}

// One reader connection with its statements, used by one thread at a time.
struct Reader {
  Db db;
  Stmt head, tile, extras, begin, end;
  sqlite::RecordReader records;

  static Result<std::unique_ptr<Reader>> open(const std::string& path) {
    auto r = std::make_unique<Reader>();
    Result<Db> db = Db::open(path, false);
    if (!db) return db.status();
    r->db = std::move(*db);
    const std::pair<Stmt*, const char*> all[] = {{&r->head, kSelectHead},
                                                 {&r->tile, kSelectTile},
                                                 {&r->extras, kSelectExtras},
                                                 {&r->begin, "BEGIN"},
                                                 {&r->end, "COMMIT"}};
    for (auto [stmt, sql] : all) {
      Result<Stmt> prepared = Stmt::prepare(r->db, sql);
      if (!prepared) return prepared.status();
      *stmt = std::move(*prepared);
    }
    MEDSEAL_RETURN_IF_ERROR(r->records.prepare(r->db));
    return r;
  }
};

class SqliteStoreImpl final : public SqliteStore {
 public:
  SqliteStoreImpl(std::string path, SqliteStoreOptions options)
      : path_(std::move(path)), options_(options) {}

  Status open() {
    Result<Db> db = Db::open(path_, true);
    if (!db) return db.status();
    writer_ = std::move(*db);
    MEDSEAL_RETURN_IF_ERROR(configure_writer(writer_, options_.page_size));
    MEDSEAL_RETURN_IF_ERROR(migrate(writer_));
    MEDSEAL_RETURN_IF_ERROR(prepare_writer());
    Result<std::string> max_pages = writer_.query_text("PRAGMA max_page_count", "read page limit");
    if (!max_pages) return max_pages.status();
    default_max_pages_ = *max_pages;
    if (options_.background_checkpoints) {
      Result<std::unique_ptr<sqlite::Checkpointer>> c =
          sqlite::Checkpointer::start(path_, writer_);
      if (!c) return c.status();
      checkpointer_ = std::move(*c);
    }
    return Status::ok();
  }

  Status commit(const Batch& batch) override {
    MEDSEAL_RETURN_IF_ERROR(commit_unsynced(batch));
    return sync();
  }

  Status commit_unsynced(const Batch& batch) override {
    Result<std::vector<ExtrasRun>> runs = check_batch(batch);
    if (!runs) return runs.status();
    std::lock_guard lock(writer_mu_);
    Status s = write(batch, *runs);
    if (!s && writer_.in_transaction()) (void)rollback_.run("rollback");
    return s;
  }

  // fdatasync of the WAL, through a descriptor of its own: the writer's commits only write it.
  // Writing and flushing one file from two threads is safe, and a flush covers every write that
  // returned before it.
  Status sync() override {
    std::lock_guard lock(sync_mu_);
    if (wal_ == nullptr) {
      const std::string wal = path_ + "-wal";  // exists from the writer's first commit on
      auto fd = std::make_unique<Fd>(::open(wal.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd->ok()) return Status::io("sqlite: cannot open " + wal + ": " + std::strerror(errno));
      // A WAL created by this process is durable only with its directory entry.
      const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
      MEDSEAL_RETURN_IF_ERROR(fsync_dir(dir.empty() ? "." : dir.string()));
      wal_ = std::move(fd);
    }
    if (::fdatasync(wal_->get()) != 0) {
      return Status::io(std::string("sqlite: cannot flush the WAL: ") + std::strerror(errno));
    }
    return Status::ok();
  }

  Result<LogHead> head() override {
    return with_reader([](Reader& r) { return query_head(r.head); });
  }

  Result<StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) override {
    return with_reader([&](Reader& r) { return query_tile(r.tile, {entries, level, index}); });
  }

  Result<std::vector<StoredTile>> read_tiles(std::span<const TileRef> refs) override {
    return with_snapshot([&](Reader& r) -> Result<std::vector<StoredTile>> {
      std::vector<StoredTile> out;
      out.reserve(refs.size());
      for (const TileRef& ref : refs) {
        Result<StoredTile> t = query_tile(r.tile, ref);
        if (!t) return t.status();
        out.push_back(std::move(*t));
      }
      return out;
    });
  }

  Result<RecordVersion> read_record(std::string_view type, std::string_view id,
                                    uint64_t version) override {
    return with_reader([&](Reader& r) { return r.records.read(type, id, version); });
  }

  Result<RecordPage> record_history(std::string_view type, std::string_view id, uint64_t offset,
                                    uint64_t limit) override {
    return with_snapshot(
        [&](Reader& r) { return r.records.history(type, id, offset, limit); });
  }

  Result<RecordPage> search_records(const RecordQuery& query) override {
    return with_snapshot([&](Reader& r) { return r.records.search(query); });
  }

  Result<std::vector<uint64_t>> entries_with_key(std::string_view key, uint64_t offset,
                                                 uint64_t limit) override {
    return with_reader(
        [&](Reader& r) { return r.records.entries_with_key(key, offset, limit); });
  }

  Result<EntryExtra> read_extra(uint64_t index) override {
    return with_reader([&](Reader& r) -> Result<EntryExtra> {
      Stmt& q = r.extras.start().bind(1, static_cast<int64_t>(index));
      Result<bool> row = q.step("read extras");
      if (!row) return row.status();
      const uint64_t first = *row ? static_cast<uint64_t>(q.column_int(0)) : 0;
      const uint64_t count = *row ? static_cast<uint64_t>(q.column_int(1)) : 0;
      if (!*row || index - first >= count) {
        q.start();
        return Status::not_found("no extras stored for entry " + std::to_string(index));
      }
      Result<EntryExtra> e = decode_extra_at(q.column_blob(2), index - first);
      q.start();
      return e;
    });
  }

  Status set_full_for_test(bool full) override {
    std::lock_guard lock(writer_mu_);
    std::string limit = default_max_pages_;
    if (full) {
      Result<std::string> pages = writer_.query_text("PRAGMA page_count", "read page count");
      if (!pages) return pages.status();
      limit = *pages;
    }
    const std::string pragma = "PRAGMA max_page_count = " + limit;
    return writer_.query_text(pragma.c_str(), "set page limit").status();
  }

  Result<bool> foreign_commits() override {
    std::lock_guard lock(writer_mu_);
    Result<std::string> version = writer_.query_text("PRAGMA data_version", "read data_version");
    if (!version) return version.status();
    const bool changed = !writer_data_version_.empty() && *version != writer_data_version_;
    writer_data_version_ = std::move(*version);
    return changed;
  }

 private:
  Status prepare_writer() {
    const std::pair<Stmt*, const char*> all[] = {
        {&begin_, "BEGIN IMMEDIATE"}, {&commit_, "COMMIT"},
        {&rollback_, "ROLLBACK"},     {&head_, kSelectHead},
        {&upsert_tile_, kUpsertTile}, {&insert_extras_, kInsertExtras},
        {&upsert_head_, kUpsertHead}, {&select_extras_, kSelectExtras},
        {&update_extras_, kUpdateExtras}};
    for (auto [stmt, sql] : all) {
      Result<Stmt> s = Stmt::prepare(writer_, sql);
      if (!s) return s.status();
      *stmt = std::move(*s);
    }
    return records_.prepare(writer_);
  }

  // The batch's writes in one transaction; the caller rolls back on error.
  Status write(const Batch& batch, const std::vector<ExtrasRun>& runs) {
    MEDSEAL_RETURN_IF_ERROR(begin_.start().run("begin"));
    // The precondition is checked inside the transaction, so no other writer can slip in between.
    Result<LogHead> stored = query_head(head_);
    if (!stored) return stored.status();
    if (stored->size != batch.old_size) {
      return Status::precondition("the store holds " + std::to_string(stored->size) +
                                  " entries, the batch extends " + std::to_string(batch.old_size));
    }
    for (const TileBlob& t : batch.tiles) MEDSEAL_RETURN_IF_ERROR(write_tile(t));
    for (const ExtrasRun& r : runs) {
      Stmt& q = insert_extras_.start().bind(1, static_cast<int64_t>(r.first_index));
      MEDSEAL_RETURN_IF_ERROR(
          q.bind(2, static_cast<int64_t>(r.count)).bind_blob(3, r.data).run("write extras"));
    }
    MEDSEAL_RETURN_IF_ERROR(records_.write(batch));
    // After the batch's own rows, so an erasure may name an entry of this batch.
    for (const Erasure& e : batch.erasures) {
      MEDSEAL_RETURN_IF_ERROR(records_.erase(e));
      for (uint64_t index : e.indexes) MEDSEAL_RETURN_IF_ERROR(erase_extra(index));
    }
    Stmt& h = upsert_head_.start().bind(1, static_cast<int64_t>(batch.new_size));
    MEDSEAL_RETURN_IF_ERROR(h.bind_blob(2, batch.checkpoint).run("write checkpoint"));
    return commit_.start().run("commit");
  }

  // Rewrites the extras row holding `index` with that entry marked erased.
  Status erase_extra(uint64_t index) {
    Stmt& q = select_extras_.start().bind(1, static_cast<int64_t>(index));
    Result<bool> row = q.step("read extras");
    if (!row) return row.status();
    const uint64_t first = *row ? static_cast<uint64_t>(q.column_int(0)) : 0;
    if (!*row || index - first >= static_cast<uint64_t>(q.column_int(1))) {
      q.start();
      return Status::internal("no extras row holds erased entry " + std::to_string(index));
    }
    Result<std::string> data = erase_extra_at(q.column_blob(2), index - first);
    q.start();
    if (!data) return data.status();
    Stmt& u = update_extras_.start().bind(1, static_cast<int64_t>(first)).bind_blob(2, *data);
    return u.run("erase extras");
  }

  Status write_tile(const TileBlob& t) {
    MEDSEAL_RETURN_IF_ERROR(check_tile(t));
    Stmt& q = upsert_tile_.start().bind(1, t.id.entries ? 1 : 0).bind(2, t.id.level);
    q.bind(3, static_cast<int64_t>(t.id.index)).bind(4, t.id.width).bind_blob(5, t.bytes);
    if (!t.nodes.empty()) q.bind_blob(6, t.nodes);  // else NULL
    return q.run("write tile");
  }

  // Runs fn on a reader inside one read transaction, so all its statements see one snapshot.
  template <typename Fn>
  auto with_snapshot(Fn&& fn) -> decltype(fn(std::declval<Reader&>())) {
    return with_reader([&](Reader& r) -> decltype(fn(r)) {
      MEDSEAL_RETURN_IF_ERROR(r.begin.start().run("begin read"));
      auto result = fn(r);
      if (result) {
        Status s = r.end.start().run("end read");
        if (!s) result = s;
      }
      if (r.db.in_transaction()) (void)r.db.exec("ROLLBACK", "end read");
      return result;
    });
  }

  template <typename Fn>
  auto with_reader(Fn&& fn) -> decltype(fn(std::declval<Reader&>())) {
    return readers_.with(std::forward<Fn>(fn));
  }

  const std::string path_;
  const SqliteStoreOptions options_;

  std::mutex writer_mu_;  // the writer connection and its statements
  Db writer_;
  std::string writer_data_version_;  // as foreign_commits() last read it; "" before
  Stmt begin_, commit_, rollback_, head_, upsert_tile_, insert_extras_, upsert_head_;
  Stmt select_extras_, update_extras_;
  sqlite::RecordWriter records_;
  std::string default_max_pages_;
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;  // stopped before the writer closes

  std::mutex sync_mu_;
  std::unique_ptr<Fd> wal_;  // opened by the first sync()

  SessionPool<Reader> readers_{options_.idle_readers, [this] { return Reader::open(path_); }};
};

}  // namespace

Result<std::unique_ptr<SqliteStore>> open_sqlite_store(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  auto store = std::make_unique<SqliteStoreImpl>(path, options);
  MEDSEAL_RETURN_IF_ERROR(store->open());
  return std::unique_ptr<SqliteStore>(std::move(store));
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  Result<std::unique_ptr<SqliteStore>> store = open_sqlite_store(path, SqliteStoreOptions{});
  if (!store) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace medseal::storage
