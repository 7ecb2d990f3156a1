// The statements page: what GET /ledger/statements?from=N&count=K answers (auditors and admins;
// server/fhir_api.h), so a remote monitor (remote_monitor.h) can run the sentinel's per-entry
// checks (checks.h) against what the store holds now, without access to the store file.
//
// The page is read in one snapshot of the store (SentinelView) and covers entries [from, to), where
// to = min(from + count, size) and the server may stop earlier (kPageBudgetBytes; at least one
// entry). JSON, fields in this order:
//
//   "from", "to"   the entries covered
//   "size"         the store's log size in that snapshot (log_head.size)
//   "checkpoint"   the store's signed checkpoint note for that size ("" for a store never written)
//   "entries"      one per index in [from, to): {"index", "salt" (base64), "statement" (base64 of
//                  the exact stored bytes)}, or {"index", "erased": true} (an erasure removed
//                  them), {"index", "malformed": true} (the stored row cannot be decoded), or
//                  {"index"} alone (no salt and statement stored)
//   "records"      every record row with a ledger index in [from, to): {"index", "type", "id",
//                  "version", "updated_ms", "deleted", "size", "sha256" (hex SHA-256 of the bytes
//                  the store holds now)}
//   "keys"         every access-trail key row with an index in [from, to): {"index", "key"}
//
// It holds hashes, ids and trail metadata (the statements auditors may read through receipts),
// never record content. parse_integrity_page is strict: unknown fields, bad base64 or hex, rows
// outside [from, to) and entries out of order are kInvalidArgument.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "merkle/tile.h"
#include "sentinel/store_view.h"
#include "util/status.h"

namespace medseal::sentinel {

inline constexpr uint64_t kMaxPageEntries = 1000;
// The server adds entries while the body is below this; one statement may exceed it on its own.
inline constexpr size_t kPageBudgetBytes = 4 << 20;
// What a client accepts: the budget plus one statement of the largest size (statement.h).
inline constexpr size_t kMaxPageBytes = kPageBudgetBytes + (24 << 20);

// Server side: the page of entries [from, from + count) (count 1..kMaxPageEntries) in one
// snapshot of `view`. A `from` at or beyond the size gives an empty page (to == from).
Result<std::string> read_integrity_page(SentinelView& view, uint64_t from, uint64_t count);

struct PageEntry {
  enum class State { kPresent, kErased, kMalformed, kMissing };
  uint64_t index = 0;
  State state = State::kMissing;
  std::string salt, statement;  // kPresent only
};

struct IntegrityPage {
  uint64_t from = 0, to = 0;
  storage::LogHead head;  // the store's head in the page's snapshot
  std::vector<PageEntry> entries;
  std::vector<RecordRow> records;
  std::vector<KeyRow> keys;
};

// Client side.
Result<IntegrityPage> parse_integrity_page(std::string_view json);

// EntryRows over a page and the tiles of a verified tree of `size` leaves (size >= page.to), so
// EntryChecker checks the page's entries against the leaves a mirror verified. `read_tile` gets
// tiles exactly as wide as the tree of `size` has them (kNotFound when there is none).
class PageRows : public EntryRows {
 public:
  using TileReader = std::function<Result<std::string>(const merkle::TileId&)>;
  PageRows(const IntegrityPage& page, uint64_t size, TileReader read_tile)
      : page_(page), size_(size), read_tile_(std::move(read_tile)) {}

  Result<std::optional<storage::StoredTile>> tile(bool entries, uint8_t level,
                                                  uint64_t index) override;
  Result<std::vector<ExtrasRow>> extras(uint64_t from, uint64_t to) override;
  Result<std::vector<RecordRow>> records(uint64_t from, uint64_t to) override;
  Result<std::vector<KeyRow>> keys(uint64_t from, uint64_t to) override;

 private:
  const IntegrityPage& page_;
  uint64_t size_;
  TileReader read_tile_;
};

}  // namespace medseal::sentinel
