// Minimal RAII wrappers over the SQLite C API, internal to storage/sqlite. Every failure becomes a
// Status whose message names the operation and SQLite's own explanation; storage failures (disk
// full, read-only, I/O, locked) are kIoError so callers may retry once the fault clears.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal::storage::sqlite {

// Maps an SQLite result code to a Status: kIoError for storage faults, kConflict for a primary key
// or unique constraint violation (the row is already there), kInternal otherwise.
Status error_status(sqlite3* db, int rc, std::string_view what);

class Db {
 public:
  Db() = default;
  ~Db();
  Db(Db&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens (creating if allowed) with no internal mutex: each connection is used by one thread at a
  // time, which the store guarantees.
  static Result<Db> open(const std::string& path, bool create);
  sqlite3* get() const { return db_; }
  // Runs one or more statements that return no rows.
  Status exec(const char* sql, std::string_view what);
  // Runs a statement that returns one text value (PRAGMAs).
  Result<std::string> query_text(const char* sql, std::string_view what);
  bool in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// A prepared statement, reset and cleared of bindings before every use.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt();
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  static Result<Stmt> prepare(Db& db, const char* sql);

  // Starts a new execution: resets the statement and clears its bindings.
  Stmt& start();
  Stmt& bind(int i, int64_t v);
  // The bytes are not copied: they must live until the statement has been stepped.
  Stmt& bind_blob(int i, std::string_view bytes);
  Stmt& bind_text(int i, std::string_view text);  // not copied either
  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> error (the statement is reset).
  Result<bool> step(std::string_view what);
  // Steps a statement that returns no rows.
  Status run(std::string_view what);

  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string_view column_blob(int i) const;  // valid until the next step or start
  std::string_view column_text(int i) const;  // all its bytes, NULs included

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// WAL mode with synchronous=FULL: the WAL is fsynced at every commit, so a commit that returned
// is on disk. kIoError if the file cannot be switched to WAL.
Status use_durable_wal(Db& db);

// WAL mode with synchronous=NORMAL: a commit writes the WAL but does not fsync it; whoever
// acknowledges the commit must fsync the WAL file first (the store's sync()). Checkpoints still
// fsync the WAL before copying it and the database file after.
Status use_wal_synced_by_caller(Db& db);

// For small single-file stores of their own (the witness's, the alert outbox): refuses a file
// whose PRAGMA user_version is newer than `version` (kFailedPrecondition naming `what`), then runs
// `schema`, which must be idempotent (CREATE ... IF NOT EXISTS) and set user_version.
Status create_small_schema(Db& db, int64_t version, const char* schema, std::string_view what);

}  // namespace medseal::storage::sqlite
