// The embedded store: one SQLite file in WAL mode, so readers run while the writer commits. A
// commit is durable when commit() returns; commit_unsynced() only writes the WAL, and sync()
// fdatasyncs it, so the ledger can write its next batch while the disk flushes the last one.
//
// Schema (version 2; plain tables and types that PostgreSQL also has, BLOB being BYTEA there):
//   schema_version(version)                       one row: the schema this file holds
//   log_head(id = 0, size, checkpoint)            one row: the latest committed checkpoint
//   tiles(entries, level, idx, width, bytes,      hash tiles and entry bundles, upserted as they
//         nodes)                                  grow (the full tile replaces the partial one),
//                                                 with the ledger's saved interior nodes
//   entry_extras(first_idx, count, data)          salts and statements, one row per run of
//                                                 consecutive entries (storage/extras_codec.h)
// Version 2 adds the records (storage/sqlite/record_sql.h), written in the batch's transaction:
//   record_versions(ledger_idx, type, id,         every version, inserted once and keyed by its
//     version, updated_ms, deleted,               entry (the rowid: rows append); a version
//     compartment, latest, bytes)                 already stored fails the commit (kConflict);
//                                                 unique (type, id, version), indexed by (type,
//                                                 ledger_idx); latest = 1 marks each record's
//                                                 latest version, which partial indexes on
//                                                 (compartment, type, ledger_idx) and (type,
//                                                 updated_ms) serve to search
//   entry_keys(key, idx)                          Batch::keys; also indexed by idx for erasures
// An erasure deletes the record's versions and the erased entries' keys, and rewrites their
// extras rows with those entries marked erased.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/store.h"
#include "util/status.h"

namespace medseal::storage {

struct SqliteStoreOptions {
  // Page size of a newly created file (an existing file keeps its own). Tiles are 8 KiB and
  // extras rows tens of KiB, so pages larger than SQLite's 4 KiB default mean fewer overflow pages.
  uint32_t page_size = 8192;
  // Readers kept open between reads; more are opened when more threads read at once. Opening one
  // (schema parse, cold page cache) costs more than most reads, so keep as many as the server
  // has request threads. Each keeps SQLite's default page cache (up to 2 MiB): a smaller one
  // makes proofs in a log of 10^7 entries 4x slower (the B-tree's upper pages fall out).
  size_t idle_readers = 128;
  // Copy the WAL into the database file on a background thread (storage/sqlite/checkpointer.h)
  // instead of SQLite's automatic checkpoint inside every ~1000th commit.
  bool background_checkpoints = true;
  // The file grows page by page (SQLite's default). Growing it 8 MiB at a time
  // (SQLITE_FCNTL_CHUNK_SIZE) cost more than it saved on ext4: ingest spent ~35 ms more kernel
  // time per run (writes into preallocated extents), and durable appends were ~13% slower.
};

class SqliteStore : public Store {
 public:
  // Test hook: while `full` is true the file may not grow (SQLite's max_page_count is pinned at
  // its current size), so commits fail with SQLITE_FULL exactly as on a full disk.
  virtual Status set_full_for_test(bool full) = 0;

  // True if a connection other than this store's writer committed to the file since the previous
  // call (the first call only starts counting). Exact: SQLite's data_version on the writer's own
  // connection changes with every commit of another connection and never with its own. The
  // tamper sentinel asks this, so a foreign write is called one even when it lands next to a
  // commit of the server.
  virtual Result<bool> foreign_commits() = 0;
};

// Opens or creates the database at `path` and creates or migrates its schema. A file written by a
// newer schema version is refused (kFailedPrecondition); storage faults are kIoError.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);
Result<std::unique_ptr<SqliteStore>> open_sqlite_store(const std::string& path,
                                                       const SqliteStoreOptions& options);

}  // namespace medseal::storage
