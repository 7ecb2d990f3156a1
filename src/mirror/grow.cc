#include "mirror/grow.h"

#include <array>

#include "crypto/base64.h"
#include "merkle/hash.h"

namespace medseal::mirror {
namespace {

using merkle::TileId;
constexpr size_t kHashSize = 32;
constexpr size_t kFullTileBytes = merkle::kTileWidth * kHashSize;
constexpr uint8_t kLevels = 8;  // 256^8 = 2^64 exceeds any tree

Status mismatch(const TileId& id, const std::string& what) {
  return Status::verification(merkle::tile_path(id) + ": " + what);
}

class Grower {
 public:
  Grower(tlog_client::TileSource& source, MirrorStore& store, const merkle::CompactRange& verified,
         uint64_t next_size)
      : source_(source), store_(store), old_size_(verified.size()), size_(next_size) {
    growth_.range = verified;
  }

  Status run() {
    for (uint64_t n = old_size_ / merkle::kTileWidth; merkle::tile_width(0, n, size_) > 0; ++n) {
      MEDSEAL_RETURN_IF_ERROR(check_level0(n));
    }
    for (uint8_t level = 1; level < kLevels; ++level) {
      if (!started_[level] || pending_[level].empty()) continue;
      TileId id{false, level, index_[level], static_cast<uint32_t>(pending_[level].size() / kHashSize)};
      if (merkle::tile_width(level, id.index, size_) != id.width) {
        return Status::internal("tile bookkeeping disagrees with tile_width");
      }
      MEDSEAL_RETURN_IF_ERROR(check_upper(id, pending_[level]));
    }
    return Status::ok();
  }

  Growth take() { return std::move(growth_); }

 private:
  // The hashes tile (level, index) had in the verified tree, if it was partial there (a full tile
  // never changes and is never fetched again).
  Result<std::string> verified_prefix(uint8_t level, uint64_t index) {
    uint32_t width = merkle::tile_width(level, index, old_size_);
    if (width == 0 || width == merkle::kTileWidth) return std::string();
    TileId id{false, level, index, width};
    growth_.superseded.push_back(id);
    if (level == 0) growth_.superseded.push_back(TileId{true, 0, index, width});
    return store_.read_tile(id, old_size_);
  }

  Result<std::string> fetch(const TileId& id) {
    ++growth_.fetched;
    return tlog_client::fetch_tile(source_, id);
  }

  Status check_level0(uint64_t n) {
    TileId tile_id{false, 0, n, merkle::tile_width(0, n, size_)};
    TileId bundle_id{true, 0, n, tile_id.width};
    auto tile = fetch(tile_id);
    if (!tile) return tile.status();
    if (tile->size() != size_t{tile_id.width} * kHashSize) return mismatch(tile_id, "has the wrong size");
    auto prefix = verified_prefix(0, n);
    if (!prefix) return prefix.status();
    if (!tile->starts_with(*prefix)) return mismatch(tile_id, "disagrees with the verified tile");
    auto bundle = fetch(bundle_id);
    if (!bundle) return bundle.status();
    MEDSEAL_RETURN_IF_ERROR(check_entries(bundle_id, *bundle, *tile));
    MEDSEAL_RETURN_IF_ERROR(store_.stage_tile(tile_id, *tile));
    MEDSEAL_RETURN_IF_ERROR(store_.stage_tile(bundle_id, *bundle));
    if (!tile_id.full()) return Status::ok();
    auto root = merkle::tile_root(*tile);
    if (!root) return root.status();
    return add_hash(1, *root);
  }

  // Each entry's leaf hash is the tile's hash at its position; the new ones extend the tree.
  Status check_entries(const TileId& bundle_id, std::string_view bundle, std::string_view tile) {
    auto entries = merkle::parse_entry_bundle(bundle);
    if (!entries) return mismatch(bundle_id, entries.status().message());
    if (entries->size() != bundle_id.width) return mismatch(bundle_id, "holds the wrong number of entries");
    for (size_t i = 0; i < entries->size(); ++i) {
      Hash leaf = merkle::leaf_hash((*entries)[i]);
      if (as_view(leaf) != tile.substr(i * kHashSize, kHashSize)) {
        return mismatch(bundle_id, "entry " + std::to_string(bundle_id.index * 256 + i) +
                                       " does not hash to its level-0 tile hash");
      }
      if (bundle_id.index * merkle::kTileWidth + i >= old_size_) {
        growth_.range.append(leaf, [](merkle::NodeId, const Hash&) {});
      }
    }
    return Status::ok();
  }

  // A new hash at `level`: the root of a tile of the level below that just became full.
  Status add_hash(uint8_t level, const Hash& hash) {
    if (level >= kLevels) return Status::ok();
    std::string& pending = pending_[level];
    if (!started_[level]) {
      started_[level] = true;
      index_[level] = (old_size_ >> (8 * level)) / merkle::kTileWidth;
      auto prefix = verified_prefix(level, index_[level]);
      if (!prefix) return prefix.status();
      pending = std::move(*prefix);
    }
    pending.append(as_view(hash));
    if (pending.size() < kFullTileBytes) return Status::ok();
    std::string full = std::move(pending);
    pending.clear();
    MEDSEAL_RETURN_IF_ERROR(check_upper(TileId{false, level, index_[level]++, merkle::kTileWidth}, full));
    auto root = merkle::tile_root(full);
    if (!root) return root.status();
    return add_hash(static_cast<uint8_t>(level + 1), *root);
  }

  Status check_upper(const TileId& id, std::string_view expected) {
    auto tile = fetch(id);
    if (!tile) return tile.status();
    if (*tile != expected) return mismatch(id, "differs from the tile rebuilt from the level below");
    return store_.stage_tile(id, *tile);
  }

  tlog_client::TileSource& source_;
  MirrorStore& store_;
  const uint64_t old_size_;
  const uint64_t size_;
  Growth growth_;
  std::array<bool, kLevels> started_{};
  std::array<uint64_t, kLevels> index_{};
  std::array<std::string, kLevels> pending_;
};

}  // namespace

Result<Growth> grow(tlog_client::TileSource& source, MirrorStore& store,
                    const merkle::CompactRange& verified, const note::Checkpoint& next) {
  if (next.size <= verified.size()) return Status::internal("grow needs a larger checkpoint");
  Grower grower(source, store, verified, next.size);
  MEDSEAL_RETURN_IF_ERROR(grower.run());
  Growth growth = grower.take();
  if (growth.range.root() != next.root) {
    return Status::verification("the tiles give root " + crypto::base64_encode(as_view(growth.range.root())) +
                                ", the checkpoint says " + crypto::base64_encode(as_view(next.root)));
  }
  return growth;
}

Result<std::vector<std::string>> StoredTiles::read_tiles(std::span<const merkle::TileId> ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const merkle::TileId& id : ids) {
    auto bytes = store_.read_tile(id, size_);
    if (!bytes) return bytes.status();
    out.push_back(std::move(*bytes));
  }
  return out;
}

}  // namespace medseal::mirror
