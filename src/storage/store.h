// The storage interface of the ledger. It uses no SQLite (or PostgreSQL) types, so the embedded
// store (storage/sqlite) and the scale-out store (storage/postgres, later) are interchangeable and
// tests can wrap either to inject faults.
//
// Every method may be called from any thread. commit() calls are serialized by the caller (the
// sequencer is the only writer), but reads run concurrently with a commit and see either all of a
// batch or none of it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merkle/tile.h"
#include "util/status.h"

namespace medseal::storage {

// The private half of an entry: what the public 42-byte leaf commits to. Never served publicly.
struct EntryExtra {
  std::string salt;
  std::string statement;
};

// A hash tile or entry bundle as it stands after a batch: its whole content at its current width.
struct TileBlob {
  merkle::TileId id;  // id.width is the width of `bytes`
  std::string bytes;
  // Hash tiles only: interior nodes the ledger saves to make proofs cheap (ledger/tile_nodes.h).
  // Opaque to the store, which keeps them with the tile; never part of the public tile.
  std::string nodes;
};

// One version of a record, written in the same transaction as the ledger entry that commits to
// it. To the store a record is opaque bytes under (type, id, version); the record layer gives them
// meaning (FHIR resources). Versions are immutable: a version is inserted once, never updated.
struct RecordVersion {
  std::string type;            // e.g. "Patient"
  std::string id;
  uint64_t version = 0;        // 1, 2, ... with no gaps per (type, id)
  uint64_t ledger_index = 0;   // the entry that commits to this version
  uint64_t updated_ms = 0;     // Unix milliseconds, the entry's time
  bool deleted = false;        // a deletion is a version without bytes
  std::string compartment;     // the patient whose record this is ("Patient/123"), or ""
  std::string bytes;           // exactly what is served; empty when deleted
};

// Finds ledger entries by a key the appender chose (the record layer uses "Patient/123" so a
// patient's access trail is one lookup). Written with the entry, in the same transaction.
struct EntryKey {
  std::string key;
  uint64_t index = 0;
};

// Erases every version of one record and the private extras (salt and statement) of the given
// entries, in the transaction that appends the system entry recording the erasure.
struct Erasure {
  std::string type;
  std::string id;
  std::vector<uint64_t> indexes;
};

// Everything one sequencer batch changes; committed atomically and durably, or not at all.
struct Batch {
  uint64_t old_size = 0;  // the size the batch extends; must equal the stored size
  uint64_t new_size = 0;
  std::vector<TileBlob> tiles;     // every hash tile and entry bundle the batch changed
  std::vector<EntryExtra> extras;  // for indexes old_size .. new_size - 1, in order
  std::string checkpoint;          // the signed checkpoint note for new_size
  std::vector<RecordVersion> records;  // ledger_index within old_size .. new_size - 1
  std::vector<EntryKey> keys;          // index within old_size .. new_size - 1
  std::vector<Erasure> erasures;
};

// Latest versions of one type, newest first, for FHIR search. Empty fields do not filter.
struct RecordQuery {
  std::string type;               // required
  std::vector<std::string> ids;   // _id: any of these
  std::string compartment;        // patient: exactly this ("Patient/123")
  uint64_t updated_from_ms = 0;   // _lastUpdated: updated_ms >= this ...
  uint64_t updated_to_ms = UINT64_MAX;  // ... and < this
  bool include_deleted = false;   // false: versions marked deleted are left out
  uint64_t offset = 0;            // paging
  uint64_t limit = 50;
};

struct RecordPage {
  std::vector<RecordVersion> records;
  uint64_t total = 0;  // matches before offset and limit
};

struct LogHead {
  uint64_t size = 0;
  std::string checkpoint;  // the signed note for `size`; empty for a store never written
};

struct StoredTile {
  uint32_t width = 0;
  std::string bytes;
  std::string nodes;  // as committed with the tile (TileBlob::nodes); may be empty
};

// Which tile: a hash tile (entries == false) or an entry bundle (level 0), by level and index.
struct TileRef {
  bool entries = false;
  uint8_t level = 0;
  uint64_t index = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Writes the batch in one transaction and makes it durable (fsync) before returning OK.
  // kFailedPrecondition if the stored size is not batch.old_size (another writer got there first);
  // kIoError for storage failures (disk full, read-only, I/O). On any error nothing of the batch is
  // visible, and the store accepts a batch from the old size again once the fault clears.
  virtual Status commit(const Batch& batch) = 0;

  // Group commit in two steps, so the sequencer can write the next batch while the disk flushes
  // this one: commit_unsynced() is commit() except that the batch may not be durable yet (readers
  // may already see it), and sync() makes every batch committed so far durable. A batch is
  // acknowledged only after a sync() that followed it returned OK. If sync() fails, batches since
  // the last good sync may be lost (after a crash) or kept; nothing says which. The defaults
  // commit durably and sync nothing.
  virtual Status commit_unsynced(const Batch& batch) { return commit(batch); }
  virtual Status sync() { return Status::ok(); }

  virtual Result<LogHead> head() = 0;

  // The tile or bundle at (entries, level, index) at its stored width; kNotFound if none.
  virtual Result<StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) = 0;

  // Several tiles, in `refs` order, from one snapshot: a proof needs 3 to 6 tiles, and one read
  // transaction (or round trip) for all of them costs about half of one per tile. kNotFound if
  // any is missing. The default reads them one by one with read_tile.
  virtual Result<std::vector<StoredTile>> read_tiles(std::span<const TileRef> refs);

  // The salt and statement of entry `index`; kNotFound if there is none (or it was erased).
  virtual Result<EntryExtra> read_extra(uint64_t index) = 0;

  // --- records (written through Batch::records; see RecordVersion)

  // Version `version` of (type, id), or its latest version when `version` is 0; kNotFound if
  // none (never written, or erased). A deletion is returned like any version (deleted = true).
  virtual Result<RecordVersion> read_record(std::string_view type, std::string_view id,
                                            uint64_t version) = 0;
  // Versions newest first (by ledger index): of one record when `id` is not empty, else of every
  // record of `type`, else of every record. `offset` and `limit` page through them; `total`
  // counts all.
  virtual Result<RecordPage> record_history(std::string_view type, std::string_view id,
                                            uint64_t offset, uint64_t limit) = 0;
  // The latest version of each matching record, newest first (by ledger index).
  virtual Result<RecordPage> search_records(const RecordQuery& query) = 0;
  // Indexes of the entries appended with `key` (Batch::keys), newest first, paged.
  virtual Result<std::vector<uint64_t>> entries_with_key(std::string_view key, uint64_t offset,
                                                         uint64_t limit) = 0;
};

}  // namespace medseal::storage
