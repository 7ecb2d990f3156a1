#include "support/ledger_check.h"

#include <array>
#include <span>

#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "note/note.h"

namespace medseal::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

constexpr uint64_t kW = merkle::kTileWidth;

uint64_t tiles_at(uint8_t level, uint64_t size) {
  const uint64_t hashes = size >> (8 * level);
  return (hashes + kW - 1) / kW;
}

// Hashes every entry into `range`, collecting the hashes stored at tile levels (8L) per level.
AssertionResult hash_entries(ledger::Ledger& ledger, uint64_t size, merkle::CompactRange& range,
                             std::array<std::string, 8>& levels) {
  for (uint64_t t = 0; t < tiles_at(0, size); ++t) {
    merkle::TileId id{true, 0, t, merkle::tile_width(0, t, size)};
    Result<std::string> bundle = ledger.read_tile(id);
    if (!bundle)
      return AssertionFailure() << merkle::tile_path(id) << ": " << bundle.status().to_string();
    Result<std::vector<std::string_view>> entries = merkle::parse_entry_bundle(*bundle);
    if (!entries || entries->size() != id.width) {
      return AssertionFailure() << merkle::tile_path(id) << " does not hold " << id.width
                                << " entries";
    }
    for (std::string_view e : *entries) {
      if (!ledger::parse_entry(e)) return AssertionFailure() << "a malformed entry in " << t;
      range.append(merkle::leaf_hash(e), [&](merkle::NodeId n, const Hash& h) {
        if (n.level % 8 == 0) levels[n.level / 8].append(as_view(h));
      });
    }
  }
  return AssertionSuccess();
}

AssertionResult tiles_match(ledger::Ledger& ledger, uint64_t size,
                            const std::array<std::string, 8>& levels) {
  for (uint8_t level = 0; level < 8 && (size >> (8 * level)) > 0; ++level) {
    const uint64_t n = tiles_at(level, size);
    for (uint64_t t = 0; t < n; ++t) {
      merkle::TileId id{false, level, t, merkle::tile_width(level, t, size)};
      Result<std::string> tile = ledger.read_tile(id);
      if (!tile)
        return AssertionFailure() << merkle::tile_path(id) << ": " << tile.status().to_string();
      if (*tile != std::string_view(levels[level]).substr(t * kW * 32, id.width * 32)) {
        return AssertionFailure() << merkle::tile_path(id) << " does not match the entries";
      }
    }
    merkle::TileId beyond{false, level, n, 1};
    if (ledger.read_tile(beyond).status().code() != Code::kNotFound) {
      return AssertionFailure() << merkle::tile_path(beyond) << " is served beyond the tree";
    }
  }
  return AssertionSuccess();
}

}  // namespace

note::SignerKey test_log_key(const std::string& origin) {
  crypto::Ed25519Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 7 + 1);
  return note::signer_key_from_seed(origin, seed);
}

AssertionResult whole_log_verifies(ledger::Ledger& ledger, const note::VerifierKey& key) {
  const storage::LogHead head = ledger.head();
  Result<note::OpenedNote> opened = note::open_note(head.checkpoint, std::span(&key, 1));
  if (!opened) return AssertionFailure() << "checkpoint: " << opened.status().to_string();
  Result<note::Checkpoint> cp = note::parse_checkpoint(opened->text);
  if (!cp) return AssertionFailure() << "checkpoint: " << cp.status().to_string();
  if (cp->size != head.size) return AssertionFailure() << "checkpoint size is not the head's";
  merkle::CompactRange range;
  std::array<std::string, 8> levels;
  AssertionResult r = hash_entries(ledger, head.size, range, levels);
  if (!r) return r;
  r = tiles_match(ledger, head.size, levels);
  if (!r) return r;
  if (range.root() != cp->root) return AssertionFailure() << "the tiles do not rebuild the root";
  return AssertionSuccess();
}

}  // namespace medseal::testing
