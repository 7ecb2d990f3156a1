#include "ledger/tree_writer.h"

#include <cstring>
#include <utility>

#include "ledger/store_tiles.h"
#include "ledger/tile_nodes.h"
#include "merkle/hash.h"
#include "merkle/tile.h"

namespace medseal::ledger {
namespace {

constexpr size_t kFullTileBytes = size_t{merkle::kTileWidth} * 32;

// Hashes at tile level L in a tree of `size` leaves: the nodes at tree level 8L.
uint64_t hashes_at(size_t level, uint64_t size) { return size >> (merkle::kTileHeight * level); }

}  // namespace

Result<TreeWriter> TreeWriter::load(storage::Store& store, uint64_t size) {
  TreeWriter w;
  if (size == 0) return w;
  StoreTileReader tiles(store);
  merkle::TileNodeReader nodes(size, tiles);
  const std::vector<merkle::NodeId> ids = merkle::CompactRange::frontier_ids(size);
  Result<std::vector<Hash>> frontier = nodes.read_nodes(ids);
  if (!frontier) return frontier.status();
  Result<merkle::CompactRange> range =
      merkle::CompactRange::from_frontier(size, std::move(*frontier));
  if (!range) return range.status();
  w.range_ = std::move(*range);
  MEDSEAL_RETURN_IF_ERROR(w.load_partials(store));
  return w;
}

Status TreeWriter::load_partials(storage::Store& store) {
  const uint64_t size = range_.size();
  for (size_t level = 0; level < kLevels && hashes_at(level, size) > 0; ++level) {
    const uint64_t n = hashes_at(level, size);
    const auto width = static_cast<uint32_t>(n % merkle::kTileWidth);
    if (width == 0) continue;
    merkle::TileId id{false, static_cast<uint8_t>(level), n / merkle::kTileWidth, width};
    Result<std::string> t = read_exact_tile(store, id);
    if (!t) return t.status();
    tiles_[level] = std::move(*t);
    MEDSEAL_RETURN_IF_ERROR(restore_saved_nodes(level));
  }
  return load_partial_bundle(store);
}

Status TreeWriter::load_partial_bundle(storage::Store& store) {
  const uint64_t size = range_.size();
  bundle_width_ = static_cast<uint32_t>(size % merkle::kTileWidth);
  if (bundle_width_ == 0) return Status::ok();
  Result<std::string> b =
      read_exact_tile(store, merkle::TileId{true, 0, size / merkle::kTileWidth, bundle_width_});
  if (!b) return b.status();
  bundle_ = std::move(*b);
  // The root check covers the hash tiles; this ties the entries to them.
  Result<std::vector<std::string_view>> entries = merkle::parse_entry_bundle(bundle_);
  if (!entries) return entries.status();
  for (size_t i = 0; i < entries->size(); ++i) {
    const Hash h = merkle::leaf_hash((*entries)[i]);
    if (as_view(h) != std::string_view(tiles_[0]).substr(i * 32, 32)) {
      return Status::verification("the stored partial entry bundle does not match its tile");
    }
  }
  return Status::ok();
}

// Recomputes the saved nodes of a partial tile from its hashes rather than trusting stored ones.
Status TreeWriter::restore_saved_nodes(size_t level) {
  const std::string_view tile = tiles_[level];
  const uint64_t width = tile.size() / 32;
  for (unsigned h = kFirstSavedHeight; h <= kLastSavedHeight; ++h) {
    for (uint64_t j = 0; (j + 1) << h <= width; ++j) {
      Result<Hash> node = merkle::tile_root(tile.substr((j << h) * 32, (uint64_t{1} << h) * 32));
      if (!node) return node.status();
      save_node(level, h, j, *node);
    }
  }
  return Status::ok();
}

void TreeWriter::append(std::string_view entry, const Hash& leaf_hash) {
  const uint64_t index = range_.size();
  const char len[2] = {static_cast<char>(entry.size() >> 8), static_cast<char>(entry.size())};
  bundle_.append(len, 2);
  bundle_.append(entry);
  bundle_dirty_ = true;
  if (++bundle_width_ == merkle::kTileWidth) {
    changes_.push_back({{true, 0, index / merkle::kTileWidth, merkle::kTileWidth},
                        std::exchange(bundle_, {}),
                        {}});
    bundle_width_ = 0;
    bundle_dirty_ = false;
  }
  range_.append(leaf_hash, [this](merkle::NodeId id, const Hash& h) { add_node(id, h); });
}

// Nodes at heights that are multiples of 8 are tile hashes; heights 4..7 within a tile are saved
// beside it; the rest are recomputed when needed.
void TreeWriter::add_node(merkle::NodeId id, const Hash& hash) {
  const unsigned height = id.level % merkle::kTileHeight;
  const size_t level = id.level / merkle::kTileHeight;
  if (height == 0) {
    std::string& tile = tiles_[level];
    if (tile.empty()) tile.reserve(kFullTileBytes);
    tile.append(as_view(hash));
    tile_dirty_[level] = true;
    return;
  }
  if (height < kFirstSavedHeight) return;
  const uint64_t per_tile = merkle::kTileWidth >> height;
  save_node(level, height, id.index % per_tile, hash);
  // The tile's last node completes in the same append as its last hash, after it: the tile is
  // now full with all its saved nodes.
  if (height == kLastSavedHeight && id.index % per_tile == per_tile - 1) {
    changes_.push_back(
        {{false, static_cast<uint8_t>(level), id.index / per_tile, merkle::kTileWidth},
         std::exchange(tiles_[level], {}),
         std::exchange(nodes_[level], {})});
    tile_dirty_[level] = false;
  }
}

void TreeWriter::save_node(size_t level, unsigned height, uint64_t index, const Hash& hash) {
  std::string& nodes = nodes_[level];
  if (nodes.empty()) nodes.assign(kSavedNodesBytes, '\0');
  std::memcpy(nodes.data() + saved_node_slot(height, index) * 32, hash.data(), 32);
}

std::vector<storage::TileBlob> TreeWriter::take_changes() {
  const uint64_t size = range_.size();
  for (size_t level = 0; level < kLevels; ++level) {
    if (!tile_dirty_[level]) continue;
    tile_dirty_[level] = false;
    const uint64_t n = hashes_at(level, size);
    const auto width = static_cast<uint32_t>(n % merkle::kTileWidth);
    changes_.push_back({{false, static_cast<uint8_t>(level), n / merkle::kTileWidth, width},
                        tiles_[level],
                        nodes_[level]});
  }
  if (bundle_dirty_) {
    bundle_dirty_ = false;
    changes_.push_back({{true, 0, size / merkle::kTileWidth, bundle_width_}, bundle_, {}});
  }
  return std::exchange(changes_, {});
}

}  // namespace medseal::ledger
