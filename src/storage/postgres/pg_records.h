// The record tables of the PostgreSQL store (record_versions, entry_keys; schema in
// pg_store.cc), with the semantics of Store and of the SQLite store's storage/sqlite/record_sql.h.
// Internal to storage/postgres. history() and search() run two statements (the page and its total):
// the caller runs them inside one REPEATABLE READ transaction so both see one snapshot.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "storage/postgres/pg_conn.h"
#include "storage/store.h"
#include "util/status.h"

namespace medseal::storage::postgres {

Result<RecordVersion> read_record(Conn& c, std::string_view type, std::string_view id,
                                  uint64_t version);
Result<RecordPage> record_history(Conn& c, std::string_view type, std::string_view id,
                                  uint64_t offset, uint64_t limit);
Result<RecordPage> search_records(Conn& c, const RecordQuery& query);
Result<std::vector<uint64_t>> entries_with_key(Conn& c, std::string_view key, uint64_t offset,
                                               uint64_t limit);

// Inside the writer's open transaction: the batch's versions (marking the latest; a version
// already stored is kConflict) and keys; then an erasure deletes every version of (type, id)
// and the keys of the erased entries.
Status write_records(Conn& c, const Batch& batch);
Status erase_record(Conn& c, const Erasure& erasure);

}  // namespace medseal::storage::postgres
