#include "storage/sqlite/sqlite_db.h"

#include <utility>

namespace medseal::storage::sqlite {
namespace {

// A short human explanation of the storage faults an operator can fix.
const char* fault_hint(int primary) {
  switch (primary) {
    case SQLITE_FULL:
      return "database or disk is full";
    case SQLITE_READONLY:
      return "database is read-only";
    case SQLITE_IOERR:
      return "disk I/O error";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "database is locked by another connection";
    case SQLITE_CANTOPEN:
      return "cannot open the database file";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "database file is damaged or not a database";
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return "permission denied";
    default:
      return nullptr;
  }
}

}  // namespace

Status error_status(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  std::string msg = "sqlite: " + std::string(what) + ": ";
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
    return Status::conflict(msg + (detail != nullptr ? detail : "row exists"));
  }
  const char* hint = fault_hint(primary);
  if (hint != nullptr) {
    msg += hint;
    if (detail != nullptr && std::string_view(detail) != hint)
      msg += std::string(" (") + detail + ")";
    return Status::io(std::move(msg));
  }
  msg += detail != nullptr ? detail : sqlite3_errstr(rc);
  return Status::internal(std::move(msg));
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Result<Db> Db::open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);  // closes the handle SQLite returns even on failure
  if (rc != SQLITE_OK) return error_status(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  // Readers in WAL mode are not blocked by the writer, but WAL recovery and checkpoints can hold
  // brief locks; waiting a little beats failing a read.
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Status Db::exec(const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::ok() : error_status(db_, rc, what);
}

Result<std::string> Db::query_text(const char* sql, std::string_view what) {
  Result<Stmt> stmt = Stmt::prepare(*this, sql);
  if (!stmt) return stmt.status();
  Result<bool> row = stmt->start().step(what);
  if (!row) return row.status();
  if (!*row) return Status::internal("sqlite: " + std::string(what) + ": no result");
  return std::string(stmt->column_text(0));
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
  }
  return *this;
}

Result<Stmt> Stmt::prepare(Db& db, const char* sql) {
  Stmt s;
  s.db_ = db.get();
  const int rc =
      sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s.stmt_, nullptr);
  if (rc != SQLITE_OK) return error_status(db.get(), rc, "prepare");
  return s;
}

Stmt& Stmt::start() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Stmt& Stmt::bind_blob(int i, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, i, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(),
                      SQLITE_STATIC);
  return *this;
}

Stmt& Stmt::bind_text(int i, std::string_view text) {
  static const char kEmpty = 0;  // an empty string, not NULL
  sqlite3_bind_text64(stmt_, i, text.empty() ? &kEmpty : text.data(), text.size(), SQLITE_STATIC,
                      SQLITE_UTF8);
  return *this;
}

Result<bool> Stmt::step(std::string_view what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = error_status(db_, rc, what);
  sqlite3_reset(stmt_);
  return s;
}

Status Stmt::run(std::string_view what) {
  Result<bool> row = step(what);
  if (!row) return row.status();
  sqlite3_reset(stmt_);  // release the statement's read lock at once
  return Status::ok();
}

std::string_view Stmt::column_text(int i) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  const int n = sqlite3_column_bytes(stmt_, i);  // after column_text: the text's length
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
}

std::string_view Stmt::column_blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  const int n = sqlite3_column_bytes(stmt_, i);
  return p == nullptr ? std::string_view()
                      : std::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
}

namespace {

Status use_wal(Db& db, const char* synchronous) {
  Result<std::string> mode = db.query_text("PRAGMA journal_mode = WAL", "set WAL mode");
  if (!mode) return mode.status();
  if (*mode != "wal") {
    return Status::io("sqlite: cannot switch to WAL mode (journal mode " + *mode + ")");
  }
  return db.exec(synchronous, "set synchronous");
}

}  // namespace

Status use_durable_wal(Db& db) { return use_wal(db, "PRAGMA synchronous = FULL"); }

Status use_wal_synced_by_caller(Db& db) { return use_wal(db, "PRAGMA synchronous = NORMAL"); }

Status create_small_schema(Db& db, int64_t version, const char* schema, std::string_view what) {
  Result<std::string> found = db.query_text("PRAGMA user_version", "read schema version");
  if (!found) return found.status();
  if (std::stoll(*found) > version) {
    return Status::precondition(std::string(what) + " schema version " + *found +
                                " is newer than this program's");
  }
  return db.exec(schema, "create schema");
}

}  // namespace medseal::storage::sqlite
