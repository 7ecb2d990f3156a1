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

// Everything one sequencer batch changes; committed atomically and durably, or not at all.
struct Batch {
  uint64_t old_size = 0;  // the size the batch extends; must equal the stored size
  uint64_t new_size = 0;
  std::vector<TileBlob> tiles;     // every hash tile and entry bundle the batch changed
  std::vector<EntryExtra> extras;  // for indexes old_size .. new_size - 1, in order
  std::string checkpoint;          // the signed checkpoint note for new_size
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

  virtual Result<LogHead> head() = 0;

  // The tile or bundle at (entries, level, index) at its stored width; kNotFound if none.
  virtual Result<StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) = 0;

  // Several tiles, in `refs` order, from one snapshot: a proof needs 3 to 6 tiles, and one read
  // transaction (or round trip) for all of them costs about half of one per tile. kNotFound if
  // any is missing. The default reads them one by one with read_tile.
  virtual Result<std::vector<StoredTile>> read_tiles(std::span<const TileRef> refs);

  // The salt and statement of entry `index`; kNotFound if there is none (or it was erased).
  virtual Result<EntryExtra> read_extra(uint64_t index) = 0;
};

}  // namespace medseal::storage
