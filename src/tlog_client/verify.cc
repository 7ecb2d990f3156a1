#include "tlog_client/verify.h"

#include <array>
#include <vector>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/proof.h"
#include "note/note.h"

namespace medseal::tlog_client {
namespace {

using merkle::TileId;
constexpr size_t kHashSize = 32;
constexpr size_t kFullTileBytes = merkle::kTileWidth * kHashSize;
// 256^8 = 2^64 exceeds any tree (at most 2^63 leaves), so tiles exist at levels 0..7 only.
constexpr uint8_t kLevels = 8;

Status mismatch(const TileId& id, const std::string& what) {
  return Status::verification(merkle::tile_path(id) + ": " + what);
}

std::string b64(const Hash& h) { return crypto::base64_encode(as_view(h)); }

std::string_view hash_view(std::string_view tile, size_t i) {
  return tile.substr(i * kHashSize, kHashSize);
}

// Number of hash tiles a tree of `size` leaves has (progress counts a level-0 tile and its bundle
// as one step).
uint64_t resource_count(uint64_t size) {
  uint64_t total = 0;
  for (uint8_t level = 0; level < kLevels; ++level) {
    uint64_t hashes = size >> (8 * level);
    uint64_t tiles = hashes / merkle::kTileWidth + (hashes % merkle::kTileWidth ? 1 : 0);
    total += tiles;
  }
  return total;
}

// Walks the whole tree once, in index order per level, keeping for each level only the roots of
// full tiles not yet covered by a checked tile of the level above.
class Auditor {
 public:
  Auditor(TileSource& source, uint64_t size, uint64_t old_size, const ProgressFn& progress)
      : source_(source), size_(size), old_size_(old_size), progress_(progress),
        total_(resource_count(size)) {}

  Status run() {
    for (uint64_t n = 0; merkle::tile_width(0, n, size_) > 0; ++n) {
      MEDSEAL_RETURN_IF_ERROR(check_level0(n));
    }
    return check_partial_upper_tiles();
  }

  Hash root() const { return leaves_.root(); }
  Hash old_root() const { return old_root_; }
  uint64_t hash_tiles() const { return hash_tiles_; }
  uint64_t bundles() const { return bundles_; }
  // SHA-256 of every hash tile as verified: digests()[level][index].
  const std::array<std::vector<Hash>, kLevels>& digests() const { return digests_; }

 private:
  Status check_level0(uint64_t n) {
    TileId tile_id{false, 0, n, merkle::tile_width(0, n, size_)};
    TileId bundle_id = tile_id;
    bundle_id.entries = true;
    auto tile = fetch_tile(source_, tile_id);
    if (!tile) return tile.status();
    if (tile->size() != size_t{tile_id.width} * kHashSize) {
      return mismatch(tile_id, "has " + std::to_string(tile->size()) + " bytes, not " +
                                   std::to_string(tile_id.width * kHashSize));
    }
    auto bundle = fetch_tile(source_, bundle_id);
    if (!bundle) return bundle.status();
    MEDSEAL_RETURN_IF_ERROR(check_entries(bundle_id, *bundle, *tile));
    record(tile_id, *tile);
    ++bundles_;
    tick();
    if (tile_id.full()) return add_full_tile(tile_id, *tile);
    return Status::ok();
  }

  // Each entry's leaf hash must be the tile's hash at the same position.
  Status check_entries(const TileId& bundle_id, std::string_view bundle, std::string_view tile) {
    auto entries = merkle::parse_entry_bundle(bundle);
    if (!entries) return mismatch(bundle_id, entries.status().message());
    if (entries->size() != bundle_id.width) {
      return mismatch(bundle_id, "holds " + std::to_string(entries->size()) + " entries, not " +
                                     std::to_string(bundle_id.width));
    }
    for (size_t i = 0; i < entries->size(); ++i) {
      Hash leaf = merkle::leaf_hash((*entries)[i]);
      if (as_view(leaf) != hash_view(tile, i)) {
        return mismatch(bundle_id, "entry " + std::to_string(bundle_id.index * 256 + i) +
                                       " does not hash to its level-0 tile hash");
      }
      leaves_.append(leaf, [](merkle::NodeId, const Hash&) {});
      if (leaves_.size() == old_size_) old_root_ = leaves_.root();
    }
    return Status::ok();
  }

  // A full tile's root is one hash of the tile above; once 256 of them are known, that tile is
  // complete and must be served exactly so.
  Status add_full_tile(const TileId& id, std::string_view hashes) {
    auto root = merkle::tile_root(hashes);
    if (!root) return root.status();
    std::string& pending = pending_[id.level];
    pending.append(as_view(*root));
    if (pending.size() < kFullTileBytes || id.level + 1 >= kLevels) return Status::ok();
    std::string expected = std::move(pending);
    pending.clear();
    TileId parent{false, static_cast<uint8_t>(id.level + 1), id.index / merkle::kTileWidth,
                  merkle::kTileWidth};
    MEDSEAL_RETURN_IF_ERROR(check_upper_tile(parent, expected));
    return add_full_tile(parent, expected);
  }

  // The rightmost tile of each upper level is partial: the full tiles below not yet grouped.
  Status check_partial_upper_tiles() {
    for (uint8_t level = 0; level + 1 < kLevels; ++level) {
      const std::string& pending = pending_[level];
      if (pending.empty()) continue;
      uint64_t full_below = size_ >> (8 * (level + 1));  // full tiles at `level`
      TileId id{false, static_cast<uint8_t>(level + 1), full_below / merkle::kTileWidth,
                static_cast<uint32_t>(pending.size() / kHashSize)};
      if (merkle::tile_width(id.level, id.index, size_) != id.width) {
        return Status::internal("tile bookkeeping disagrees with tile_width");
      }
      MEDSEAL_RETURN_IF_ERROR(check_upper_tile(id, pending));
    }
    return Status::ok();
  }

  Status check_upper_tile(const TileId& id, std::string_view expected) {
    auto tile = fetch_tile(source_, id);
    if (!tile) return tile.status();
    if (*tile != expected) {
      return mismatch(id, "differs from the tile rebuilt from the level below");
    }
    record(id, *tile);
    tick();
    return Status::ok();
  }

  void record(const TileId& id, std::string_view tile) {
    digests_[id.level].push_back(crypto::sha256(tile));
    ++hash_tiles_;
  }

  void tick() {
    ++done_;
    if (progress_) progress_(done_, total_);
  }

  TileSource& source_;
  const uint64_t size_;
  const uint64_t old_size_;
  const ProgressFn& progress_;
  const uint64_t total_;
  uint64_t done_ = 0;
  uint64_t hash_tiles_ = 0;
  uint64_t bundles_ = 0;
  merkle::CompactRange leaves_;
  Hash old_root_ = merkle::empty_root();
  std::array<std::string, kLevels> pending_;
  std::array<std::vector<Hash>, kLevels> digests_;
};

// Serves hash tiles for proofs, re-reading them from the source and accepting only bytes whose
// digest matches what the audit verified (the source may change between the two reads).
class VerifiedTiles : public merkle::TileReader {
 public:
  VerifiedTiles(TileSource& source, uint64_t size, const std::array<std::vector<Hash>, kLevels>& digests)
      : source_(source), size_(size), digests_(digests) {}

  Result<std::vector<std::string>> read_tiles(std::span<const TileId> ids) override {
    std::vector<std::string> out;
    for (const TileId& asked : ids) {
      TileId id = asked;
      id.width = merkle::tile_width(id.level, id.index, size_);
      if (id.entries || id.level >= kLevels || id.width < asked.width ||
          id.index >= digests_[id.level].size()) {
        return Status::internal("proof needs " + merkle::tile_path(asked) + ", not in the tree");
      }
      auto tile = fetch_tile(source_, id);
      if (!tile) return tile.status();
      if (crypto::sha256(*tile) != digests_[id.level][id.index]) {
        return mismatch(id, "changed since it was verified");
      }
      out.push_back(std::move(*tile));
    }
    return out;
  }

 private:
  TileSource& source_;
  uint64_t size_;
  const std::array<std::vector<Hash>, kLevels>& digests_;
};

Status check_consistency(TileSource& source, const note::Checkpoint& now,
                         const note::Checkpoint& old, const Auditor& audit) {
  std::string sizes = std::to_string(old.size) + " -> " + std::to_string(now.size);
  if (old.size > now.size) {
    return Status::verification("the log's checkpoint is smaller than the old one (" + sizes +
                                "): it was rolled back");
  }
  // Independent of any proof code: the old root must be the root of the log's first entries.
  if (audit.old_root() != old.root) {
    return Status::verification("the old checkpoint's root " + b64(old.root) +
                                " is not the root of the log's first " + std::to_string(old.size) +
                                " entries: the log forked");
  }
  if (old.size == 0 || old.size == now.size) return Status::ok();
  VerifiedTiles tiles(source, now.size, audit.digests());
  merkle::TileNodeReader nodes(now.size, tiles);
  auto proof = merkle::consistency_proof(old.size, now.size, nodes);
  if (!proof) return proof.status();
  Status ok = merkle::verify_consistency(old.size, now.size, *proof, old.root, now.root);
  if (!ok) return Status::verification("consistency proof " + sizes + " fails: " + ok.message());
  return Status::ok();
}

}  // namespace

Result<note::Checkpoint> open_checkpoint(std::string_view note_text, const note::VerifierKey& vkey) {
  auto opened = note::open_note(note_text, std::span(&vkey, 1));
  if (!opened) {
    return Status::verification("checkpoint is not signed by " + vkey.name + ": " +
                                opened.status().message());
  }
  auto checkpoint = note::parse_checkpoint(opened->text);
  if (!checkpoint) return Status::verification("checkpoint: " + checkpoint.status().message());
  if (checkpoint->origin != vkey.name) {
    return Status::verification("checkpoint origin " + checkpoint->origin +
                                " is not the key's name " + vkey.name);
  }
  return checkpoint;
}

Result<VerifyReport> verify_log(TileSource& source, const note::VerifierKey& vkey,
                                const VerifyOptions& options) {
  VerifyReport report;
  auto text = source.read_checkpoint();
  if (!text) return text.status();
  auto checkpoint = open_checkpoint(*text, vkey);
  if (!checkpoint) return checkpoint.status();
  std::optional<note::Checkpoint> old;
  if (options.old_checkpoint) {
    auto opened = open_checkpoint(*options.old_checkpoint, vkey);
    if (!opened) return Status::verification("old " + opened.status().message());
    old = std::move(*opened);
  }

  Auditor audit(source, checkpoint->size, old ? old->size : 0, options.progress);
  MEDSEAL_RETURN_IF_ERROR(audit.run());
  if (audit.root() != checkpoint->root) {
    return Status::verification("the tiles give root " + b64(audit.root()) +
                                ", the checkpoint says " + b64(checkpoint->root));
  }
  if (old) {
    MEDSEAL_RETURN_IF_ERROR(check_consistency(source, *checkpoint, *old, audit));
    report.old_size = old->size;
  }
  report.checkpoint = std::move(*checkpoint);
  report.checkpoint_note = std::move(*text);
  report.hash_tiles = audit.hash_tiles();
  report.bundles = audit.bundles();
  return report;
}

}  // namespace medseal::tlog_client
