// The ledger entry (leaf), version 1 — a fixed format (DESIGN.md 4.3). Exactly 42 bytes:
//   [0] version 0x01  [1] kind  [2..10) event time, Unix ms, big-endian  [10..42) commitment
// where commitment = SHA-256(salt || statement). Pure, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace medseal::ledger {

constexpr size_t kEntrySize = 42;
constexpr size_t kSaltSize = 32;
constexpr uint8_t kEntryVersion = 0x01;

enum class EntryKind : uint8_t {
  kRecordVersion = 0x01,  // a record version was written
  kAccess = 0x02,         // a record was read (read, search hit, export)
  kAccessDenied = 0x03,   // access was refused
  kSystem = 0x04,         // erasure, key or witness change, alert raised, restore
};

struct Entry {
  EntryKind kind = EntryKind::kSystem;
  uint64_t time_ms = 0;
  Hash commitment{};
};

std::string encode_entry(const Entry& entry);  // exactly kEntrySize bytes
// Strict: the size, the version byte and the kind must be known.
Result<Entry> parse_entry(std::string_view bytes);

// SHA-256(salt || statement): what the public entry commits to.
Hash commitment(std::string_view salt, std::string_view statement);

}  // namespace medseal::ledger
