// The sentinel's own view of the embedded store: a separate SQLite connection to DATA/medseal.db
// that only reads, row by row, what the Store interface hides (every record row, every key row,
// the raw extras runs). It never writes, so every change it sees was made by someone else: the
// server's writer or a foreign connection.
//
// One thread at a time. Reads between begin_snapshot() and end_snapshot() see one snapshot.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/sqlite/sqlite_db.h"
#include "storage/store.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::sentinel {

struct RecordRow {
  uint64_t ledger_index = 0;
  std::string type, id;
  uint64_t version = 0;
  uint64_t updated_ms = 0;
  bool deleted = false;
  std::string compartment;
  // The bytes are hashed as they are read rather than copied: the sentinel only compares hashes.
  size_t bytes_size = 0;
  Hash bytes_sha256{};
};

struct KeyRow {
  std::string key;
  uint64_t index = 0;
};

struct ExtrasRow {
  uint64_t first_index = 0;
  uint64_t count = 0;
  std::string data;  // storage/extras_codec.h
};

// The rows EntryChecker (checks.h) reads, in one snapshot: StoreView from the store itself, and
// the remote monitor from a statements page and its mirror's verified tiles (integrity_page.h).
class EntryRows {
 public:
  virtual ~EntryRows() = default;
  // A tile or bundle as stored (any width); nullopt when there is no such row.
  virtual Result<std::optional<storage::StoredTile>> tile(bool entries, uint8_t level,
                                                          uint64_t index) = 0;
  // Every extras row whose run may hold an index in [from, to).
  virtual Result<std::vector<ExtrasRow>> extras(uint64_t from, uint64_t to) = 0;
  // Record rows with ledger_idx in [from, to), by ledger index.
  virtual Result<std::vector<RecordRow>> records(uint64_t from, uint64_t to) = 0;
  // Key rows with idx in [from, to), by index.
  virtual Result<std::vector<KeyRow>> keys(uint64_t from, uint64_t to) = 0;
};

// What the sentinel (sentinel.h), forensics and the statements page read: the rows (EntryRows) and
// the head in one snapshot, and a cheap signal that someone else committed. StoreView reads the
// embedded store; PgStoreView (pg_store_view.h) a PostgreSQL one.
class SentinelView : public EntryRows {
 public:
  // Reads between these see one snapshot.
  virtual Status begin_snapshot() = 0;
  virtual void end_snapshot() = 0;
  virtual Result<storage::LogHead> head() = 0;
  // Bytes read through this view since it was opened, for throughput figures.
  virtual uint64_t bytes_read() const = 0;

  // A counter that changes whenever another connection committed to the store (never for our
  // reads). Inside a snapshot it reflects the commits that snapshot sees.
  virtual Result<int64_t> data_version() = 0;
  // True when the store was replaced as a whole since the last call (then the view has been
  // reopened on the new one).
  virtual Result<bool> replaced() = 0;
  // False when the last change of data_version() is known to hold no commit yet.
  virtual Result<bool> may_have_committed() { return true; }
  // Views that attribute commits (PgStoreView): whether a transaction observed by data_version()
  // since the last call changed the store without writing a head, and what it touched (for the
  // foreign-write alert's evidence). nullopt: the view cannot tell (StoreView).
  virtual Result<std::optional<bool>> foreign_commits() { return std::optional<bool>(); }
  virtual nlohmann::json foreign_evidence() { return nlohmann::json::object(); }
};

// The view for a store location as `medseal serve --store` takes it: a postgresql:// URL, or the
// path of the SQLite file.
Result<std::unique_ptr<SentinelView>> open_sentinel_view(const std::string& location);

class StoreView : public SentinelView {
 public:
  // Opens the SQLite file at `path`, which must exist and hold the store's schema.
  static Result<StoreView> open(const std::string& path);

  // PRAGMA data_version: changes whenever another connection committed (never for our reads).
  // It is the value of the newest snapshot this connection opened, whatever read opened it: a
  // head() that takes in a commit moves it on too. Read inside a snapshot, it is that snapshot's.
  Result<int64_t> data_version() override;
  // The inode changed (a copy moved over the file): reopened.
  Result<bool> replaced() override;
  // wal_frames() != 0.
  Result<bool> may_have_committed() override;
  // The file's inode: a different one means the file was replaced (a copy moved over it).
  Result<ino_t> inode() const;
  // mxFrame of the WAL index (DATA/medseal.db-shm): the frames of committed transactions in the
  // WAL. A writer that finds every frame copied into the database restarts the WAL at the start
  // of its transaction, which resets the index (mxFrame 0, new salts) before it commits anything:
  // readers see data_version change although no commit happened. 0 means exactly that.
  Result<uint32_t> wal_frames() const;
  // Closes and reopens the connection (after the file was replaced).
  Status reopen();

  Status begin_snapshot() override;
  void end_snapshot() override;

  Result<storage::LogHead> head() override;
  // EntryRows, read from the store.
  Result<std::optional<storage::StoredTile>> tile(bool entries, uint8_t level,
                                                  uint64_t index) override;
  Result<std::vector<ExtrasRow>> extras(uint64_t from, uint64_t to) override;
  Result<std::vector<RecordRow>> records(uint64_t from, uint64_t to) override;
  Result<std::vector<KeyRow>> keys(uint64_t from, uint64_t to) override;
  // Number of tile rows at `level` (hash tiles), to walk the upper levels in a full pass.
  Result<std::vector<uint64_t>> tile_indexes(uint8_t level);

  // Bytes read through this view since it was opened (blobs and text), for throughput figures.
  uint64_t bytes_read() const override { return bytes_read_; }

 private:
  Status prepare();
  std::string path_;
  ino_t inode_ = 0;
  storage::sqlite::Db db_;
  storage::sqlite::Stmt version_, head_, tile_, extras_, records_, keys_, levels_;
  uint64_t bytes_read_ = 0;
};

}  // namespace medseal::sentinel
