// The record tables of the SQLite store (record_versions, entry_keys; schema in sqlite_store.cc): their statements on a reader connection and on the writer connection.
// Internal to storage/sqlite; each object is used by one thread at a time, on its own connection.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "storage/sqlite/sqlite_db.h"
#include "storage/store.h"
#include "util/status.h"

namespace medseal::storage::sqlite {

// Record reads with the semantics of Store. history() and search() run two statements (the page
// and its total): the caller runs them inside one read transaction so both see one snapshot.
class RecordReader {
 public:
  Status prepare(Db& db);

  Result<RecordVersion> read(std::string_view type, std::string_view id, uint64_t version);
  Result<RecordPage> history(std::string_view type, std::string_view id, uint64_t offset,
                             uint64_t limit);
  Result<RecordPage> search(const RecordQuery& query);
  Result<std::vector<uint64_t>> entries_with_key(std::string_view key, uint64_t offset,
                                                 uint64_t limit);

 private:
  // Search statements by filter set: bit 0 compartment, bit 1 updated range.
  static constexpr size_t kSearchVariants = 4;

  Result<RecordPage> search_by_ids(const RecordQuery& query, size_t variant);

  Stmt latest_, exact_, keys_;
  std::array<Stmt, 3> history_, history_count_;  // one record, one type, everything
  std::array<Stmt, kSearchVariants> search_, search_count_, search_id_;
};

// Writes a batch's record versions (marking the latest) and keys, and a record's erasure, inside the writer's
// open transaction (the caller begins, commits or rolls back). A version already stored is
// kConflict.
class RecordWriter {
 public:
  Status prepare(Db& db);

  Status write(const Batch& batch);
  // Deletes every version of (type, id) and the keys of the erased entries.
  Status erase(const Erasure& erasure);

 private:
  Status write_version(const RecordVersion& r);

  Stmt newest_version_, insert_version_, supersede_, insert_key_, delete_versions_, delete_keys_;
};

}  // namespace medseal::storage::sqlite
