// The rules every Store driver applies to the record rows of a batch (records, keys, erasures) and
// to record reads, so the SQLite store, the PostgreSQL store and the in-memory reference accept,
// refuse and order exactly the same things.
#pragma once

#include <cstdint>
#include <string_view>

#include "storage/extras_codec.h"
#include "storage/store.h"
#include "util/status.h"

namespace medseal::storage {

constexpr uint64_t kMaxPageRows = 10'000;   // a larger limit is cut to this
constexpr size_t kMaxQueryIds = 1'000;      // RecordQuery::ids beyond this is kInvalidArgument
constexpr size_t kMaxNameBytes = 1'024;     // type, id, compartment and key lengths
constexpr uint64_t kMaxStoredInt = INT64_MAX;  // versions, times and indexes are signed 64-bit in SQL

// kInvalidArgument unless: every record has a type and id, version 1 .. kMaxStoredInt, updated_ms
// up to kMaxStoredInt, a ledger_index of this batch (old_size .. new_size - 1) that no other record
// has, and no bytes when deleted; every key is non-empty and has an index of this batch; every erasure names a record and
// only indexes below new_size. Names are at most kMaxNameBytes. Costs nothing for a batch without
// record rows.
Status check_record_rows(const Batch& batch);

// What every driver checks before it opens a transaction: new_size = old_size + extras, the record
// rows (check_record_rows) and the extras' salts; returns the extras packed into rows.
Result<std::vector<ExtrasRun>> check_batch(const Batch& batch);
// kInvalidArgument unless the tile's width is 1 .. kTileWidth and a hash tile holds 32 bytes each.
Status check_tile(const TileBlob& tile);

// kInvalidArgument for a search without a type or with more than kMaxQueryIds ids.
Status check_record_query(const RecordQuery& query);
// kInvalidArgument for a history of one id without its type.
Status check_history_args(std::string_view type, std::string_view id);

// The order of history and search results: newest first by ledger index (an entry commits to at
// most one version, so the order is total).
bool newer_first(const RecordVersion& a, const RecordVersion& b);

}  // namespace medseal::storage
