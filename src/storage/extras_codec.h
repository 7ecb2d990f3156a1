// How the private extras (salt and statement) of consecutive entries are packed into storage rows.
// Shared by every Store driver, so the SQLite and PostgreSQL stores hold the same bytes.
//
// One row per run of consecutive entries that a batch appended inside one 256-entry bundle. Rows
// are keyed by their first index, written once and never rewritten (an erasure may rewrite one),
// and a lookup finds the row with the greatest first index <= the wanted index. A row per entry
// would cost one B-tree insert per entry, which alone is slower than the ledger's target rate.
//
// Row data: for each entry, in index order:
//   flags (1 byte: 0x00 present, 0x01 erased) || [salt (32) || be32 length || statement] if present
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"
#include "util/status.h"

namespace medseal::storage {

constexpr uint64_t kExtrasRunLimit = 256;  // a run never crosses a multiple of this index

// A run of extras ready to be stored as one row.
struct ExtrasRun {
  uint64_t first_index = 0;
  uint64_t count = 0;
  std::string data;
};

// Splits the extras of indexes first_index .. first_index + extras.size() - 1 into runs that never
// cross a multiple of kExtrasRunLimit. Fails if a salt is not 32 bytes.
Result<std::vector<ExtrasRun>> encode_extras_runs(uint64_t first_index,
                                                  std::span<const EntryExtra> extras);

// The extra at position `offset` of a row's data. kNotFound if the entry was erased or the row
// holds fewer entries; kInternal if the data is malformed (the store is damaged).
Result<EntryExtra> decode_extra_at(std::string_view data, uint64_t offset);

// A row's data with the entry at `offset` marked erased and its salt and statement dropped (an
// erased entry stays erased). kNotFound if the row holds fewer entries; kInternal if malformed.
Result<std::string> erase_extra_at(std::string_view data, uint64_t offset);

}  // namespace medseal::storage
