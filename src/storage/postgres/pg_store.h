// The scale-out store: the ledger in a PostgreSQL database (DESIGN.md section 5), with the same
// semantics as the embedded SQLite store (storage/sqlite/sqlite_store.h): one transaction per
// batch, durable when commit() returns (synchronous_commit = on: the commit's WAL is flushed on the
// primary), readers that see all of a batch or none of it.
//
// Schema: the SQLite store's, table for table and column for column (BLOB is BYTEA here), created
// and upgraded by the same numbered migrations and a schema_version table; a database written by a
// newer version is refused. Migrations run under a transaction-scoped advisory lock, so several
// nodes starting at once upgrade it once. Tables live in the connection's search_path (a URL may
// pick a schema with options=-csearch_path%3Dname), so one database can hold several logs.
//
// Writers: commit() takes log_head's table lock (SHARE ROW EXCLUSIVE, which readers do not wait
// for) before it reads the stored size, so two processes committing to one database serialize
// and the second gets kFailedPrecondition, exactly like two writers of one SQLite file.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"
#include "util/status.h"

namespace medseal::storage {

// True for "postgresql://..." and "postgres://..." (the libpq URI schemes).
bool is_postgres_url(const std::string& s);

struct PostgresStoreOptions {
  // Reader sessions kept open between reads; more are opened when more threads read at once.
  size_t idle_readers = 16;
  // Several nodes (postgres/leadership.h): the backend pid of the session holding this node's
  // leadership lock. When not 0, every commit first checks, in its transaction and under the
  // log_head lock, that this session still holds the lock, and is refused with
  // kFailedPrecondition otherwise.
  int leader_session = 0;
};

// Connects to `url`, creates or migrates the schema. kIoError if the server cannot be reached;
// kFailedPrecondition for a schema newer than this program's. Messages name host, port and
// database, never the user or password.
Result<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                   const PostgresStoreOptions& options = {});

// The store at `location`: the PostgreSQL store for a postgresql:// URL, else the SQLite store
// in the file at that path (what `medseal serve --store` and the tests take).
Result<std::unique_ptr<Store>> open_store_at(const std::string& location);

}  // namespace medseal::storage
