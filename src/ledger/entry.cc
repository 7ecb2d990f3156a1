#include "ledger/entry.h"

#include "crypto/sha256.h"

namespace medseal::ledger {

std::string encode_entry(const Entry& entry) {
  std::string out(kEntrySize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kEntryVersion;
  p[1] = static_cast<uint8_t>(entry.kind);
  put_be64(p + 2, entry.time_ms);
  std::memcpy(p + 10, entry.commitment.data(), 32);
  return out;
}

Result<Entry> parse_entry(std::string_view bytes) {
  if (bytes.size() != kEntrySize) return Status::invalid("ledger entry is not 42 bytes");
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (p[0] != kEntryVersion) return Status::invalid("unknown ledger entry version");
  if (p[1] < 0x01 || p[1] > 0x04) return Status::invalid("unknown ledger entry kind");
  Entry e;
  e.kind = static_cast<EntryKind>(p[1]);
  e.time_ms = get_be64(p + 2);
  std::memcpy(e.commitment.data(), p + 10, 32);
  return e;
}

Hash commitment(std::string_view salt, std::string_view statement) {
  return crypto::sha256(salt, statement);
}

}  // namespace medseal::ledger
