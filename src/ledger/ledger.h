// The ledger: a general append-only log of 42-byte entries (entry.h) with tlog-tiles storage,
// signed checkpoints and receipts. It knows nothing about FHIR; the record layer is one user.
//
// Appends come from many threads. A sequencer thread groups them into batches (what is queued
// when it is free, or per window; at most 4096 entries) and commits each batch in ONE storage
// transaction: entry bundles, new full and partial tiles, private extras and the new signed
// checkpoint. A syncer thread then flushes the store (Store::sync, one flush for every batch
// committed meanwhile) and only then does any caller in those batches learn its index and is the
// checkpoint served. If a commit fails, every caller of that batch gets the error, nothing of it
// is acknowledged, and the ledger resumes from what the store holds; if a flush fails, nothing
// more is acknowledged until the ledger is opened again.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/entry.h"
#include "merkle/tile.h"
#include "note/keys.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace medseal::ledger {

// The window for a store whose commit is durable by itself (PostgreSQL: sync() has nothing
// left to do, so no flush paces the batches); its figures in the README were measured with it.
inline constexpr std::chrono::microseconds kDurableCommitBatchWindow{10'000};

struct LedgerOptions {
  // A batch closes when this long has passed since its first request arrived, or as soon as as
  // many callers wait as the previous batch served (request_queue.h)... With 0 it takes what is
  // queued: the sequencer waits for the syncer before taking a batch (ledger.cc), so batches
  // grow with the disk's flush time by themselves. A 10 ms window cost the ingest benchmark
  // ~40% of its throughput (loaders waited out windows) and gave HTTP creates nothing.
  std::chrono::microseconds batch_window{0};
  // ...or when it holds this many entries. An append_all larger than this is committed alone in
  // one batch, never split.
  size_t max_batch_entries = 4096;
  const Clock* clock = &system_clock();  // entry times for requests with time_ms == 0
};

struct AppendRequest {
  EntryKind kind = EntryKind::kSystem;
  std::string statement;   // UTF-8 JSON written by the caller; stored byte for byte
  uint64_t time_ms = 0;    // 0: the ledger's clock at append time
  // Optional rows committed in the same transaction as the entry, so an acknowledged entry and
  // its rows are durable together or not at all. The ledger gives them no meaning.
  // A record version: the ledger sets its ledger_index and updated_ms (the entry's time).
  std::optional<storage::RecordVersion> record;
  // Keys under which Store::entries_with_key finds this entry.
  std::vector<std::string> keys;
  // Content to erase in the same transaction (the entry records the erasure).
  std::optional<storage::Erasure> erasure;
};

class Ledger {
 public:
  // Resumes the log held in `store` (which must outlive the ledger), signing checkpoints with
  // `log_key`, whose name is the log's origin. Fails if the stored checkpoint is not signed by
  // that key or does not match the stored tiles.
  static Result<std::unique_ptr<Ledger>> open(storage::Store& store, note::SignerKey log_key,
                                              LedgerOptions options = {});
  virtual ~Ledger() = default;

  // Appends one entry with a fresh random salt and blocks until its batch is durable.
  // Returns the entry's index, or the error that failed its batch.
  virtual Result<uint64_t> append(AppendRequest request) = 0;
  // Appends entries with consecutive indexes, all acknowledged together; returns the first index.
  virtual Result<uint64_t> append_all(std::vector<AppendRequest> requests) = 0;

  // The latest signed checkpoint note and its size. Every index acknowledged so far is below it.
  // A log never written has a signed checkpoint of the empty tree (size 0, not stored).
  virtual storage::LogHead head() const = 0;
  // A tile or entry bundle of the current tree, exactly `id.width` wide; kNotFound if the current
  // tree has no such tile (never a guess, never a tile wider than the tree).
  virtual Result<std::string> read_tile(const merkle::TileId& id) = 0;
  // A receipt (DESIGN.md 4.4): a tlog-proof against the latest checkpoint whose extra is
  // leaf[42] || salt[32] || statement. kNotFound for an index beyond the tree or erased.
  virtual Result<std::string> receipt(uint64_t index) = 0;
};

}  // namespace medseal::ledger
