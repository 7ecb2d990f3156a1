#include "ledger/store_tiles.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "ledger/tile_nodes.h"

namespace medseal::ledger {
namespace {

std::string describe(const merkle::TileId& id) { return merkle::tile_path(id); }

// Bytes taken by the first `width` length-prefixed entries of a bundle, or 0 if it has fewer.
size_t bundle_prefix_bytes(std::string_view bundle, uint32_t width) {
  size_t pos = 0;
  for (uint32_t i = 0; i < width; ++i) {
    if (bundle.size() - pos < 2) return 0;
    const size_t len =
        size_t{static_cast<uint8_t>(bundle[pos])} << 8 | static_cast<uint8_t>(bundle[pos + 1]);
    if (bundle.size() - pos - 2 < len) return 0;
    pos += 2 + len;
  }
  return pos;
}

// The stored tile, at least id.width wide. A tile the tree needs but the store lacks means the
// store lost data, hence kInternal rather than kNotFound.
Result<std::string> read_at_least(storage::Store& store, const merkle::TileId& id) {
  Result<storage::StoredTile> t = store.read_tile(id.entries, id.level, id.index);
  if (!t) {
    if (t.status().code() != Code::kNotFound) return t.status();
    return Status::internal("the store has no " + describe(id));
  }
  if (t->width < id.width) {
    return Status::internal("the store's " + describe(id) + " is too narrow");
  }
  return std::move(t->bytes);
}

// Hash tiles read from the store once each, kept (with their saved nodes) for one read_nodes call.
class TileCache : public merkle::TileReader {
 public:
  explicit TileCache(storage::Store& store) : store_(store) {}

  // Reads every tile that holds (or determines) one of `ids` in one store call.
  Status prefetch(std::span<const merkle::NodeId> ids) {
    std::vector<storage::TileRef> refs;
    for (const merkle::NodeId& id : ids) {
      const merkle::TileId t = merkle::tile_slice_for_node(id).tile;
      storage::TileRef ref{false, t.level, t.index};
      auto same = [&](const storage::TileRef& r) {
        return r.level == ref.level && r.index == ref.index;
      };
      if (std::none_of(refs.begin(), refs.end(), same)) refs.push_back(ref);
    }
    Result<std::vector<storage::StoredTile>> tiles = store_.read_tiles(refs);
    if (!tiles) {
      if (tiles.status().code() != Code::kNotFound) return tiles.status();
      return Status::internal("the store lacks a tile the tree needs");
    }
    for (size_t i = 0; i < refs.size(); ++i) {
      tiles_.emplace(std::make_pair(refs[i].level, refs[i].index), std::move((*tiles)[i]));
    }
    return Status::ok();
  }

  Result<const storage::StoredTile*> get(const merkle::TileId& id) {
    auto key = std::make_pair(id.level, id.index);
    auto it = tiles_.find(key);
    if (it == tiles_.end()) {
      Result<storage::StoredTile> t = store_.read_tile(false, id.level, id.index);
      if (!t) {
        if (t.status().code() != Code::kNotFound) return t.status();
        return Status::internal("the store has no " + describe(id));
      }
      it = tiles_.emplace(key, std::move(*t)).first;
    }
    if (it->second.width < id.width) {
      return Status::internal("the store's " + describe(id) + " is too narrow");
    }
    return &it->second;
  }

  Result<std::vector<std::string>> read_tiles(std::span<const merkle::TileId> ids) override {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (const merkle::TileId& id : ids) {
      Result<const storage::StoredTile*> t = get(id);
      if (!t) return t.status();
      out.push_back((*t)->bytes);
    }
    return out;
  }

 private:
  storage::Store& store_;
  std::map<std::pair<uint8_t, uint64_t>, storage::StoredTile> tiles_;
};

// The node from its tile's saved nodes, or nullopt if it is not one of them (or not saved).
Result<std::optional<Hash>> saved_node(TileCache& tiles, const merkle::NodeId& id, uint64_t size) {
  const unsigned height = id.level % merkle::kTileHeight;
  if (height < kFirstSavedHeight) return std::optional<Hash>();
  const auto level = static_cast<uint8_t>(id.level / merkle::kTileHeight);
  const uint64_t per_tile = merkle::kTileWidth >> height;
  const uint64_t index = id.index / per_tile, j = id.index % per_tile;
  const uint32_t width = merkle::tile_width(level, index, size);
  if (((j + 1) << height) > width) return std::optional<Hash>();  // incomplete: not saved
  Result<const storage::StoredTile*> t = tiles.get({false, level, index, width});
  if (!t) return t.status();
  const std::string& nodes = (*t)->nodes;
  if (nodes.size() != kSavedNodesBytes) return std::optional<Hash>();
  return hash_from(std::string_view(nodes).substr(saved_node_slot(height, j) * 32, 32));
}

}  // namespace

Result<std::vector<Hash>> StoreNodeReader::read_nodes(std::span<const merkle::NodeId> ids) {
  TileCache tiles(store_);
  MEDSEAL_RETURN_IF_ERROR(tiles.prefetch(ids));
  std::vector<Hash> out(ids.size());
  std::vector<merkle::NodeId> rest;
  std::vector<size_t> rest_at;
  for (size_t i = 0; i < ids.size(); ++i) {
    Result<std::optional<Hash>> saved = saved_node(tiles, ids[i], size_);
    if (!saved) return saved.status();
    if (*saved) {
      out[i] = **saved;
    } else {
      rest.push_back(ids[i]);
      rest_at.push_back(i);
    }
  }
  if (rest.empty()) return out;
  merkle::TileNodeReader rehash(size_, tiles);
  Result<std::vector<Hash>> computed = rehash.read_nodes(rest);
  if (!computed) return computed.status();
  if (computed->size() != rest.size()) return Status::internal("TileNodeReader lost nodes");
  for (size_t k = 0; k < rest.size(); ++k) out[rest_at[k]] = (*computed)[k];
  return out;
}

Result<std::vector<std::string>> StoreTileReader::read_tiles(std::span<const merkle::TileId> ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const merkle::TileId& id : ids) {
    Result<std::string> t = read_at_least(store_, id);
    if (!t) return t.status();
    out.push_back(std::move(*t));
  }
  return out;
}

Result<std::string> cut_tile(const merkle::TileId& id, std::string_view stored) {
  size_t n = 0;
  if (id.entries) {
    n = bundle_prefix_bytes(stored, id.width);
  } else if (stored.size() >= size_t{id.width} * 32) {
    n = size_t{id.width} * 32;
  }
  if (n == 0) return Status::internal("the store's " + describe(id) + " is too short");
  return std::string(stored.substr(0, n));
}

Result<std::string> read_exact_tile(storage::Store& store, const merkle::TileId& id) {
  Result<std::string> t = read_at_least(store, id);
  if (!t) return t.status();
  return cut_tile(id, *t);
}

Result<std::string> read_tree_tile(storage::Store& store, const merkle::TileId& id, uint64_t size) {
  if (id.width == 0 || id.width > merkle::kTileWidth || id.level > merkle::kMaxTileLevel ||
      (id.entries && id.level != 0)) {
    return Status::invalid("no such tile: bad level or width");
  }
  const uint32_t width = merkle::tile_width(id.level, id.index, size);
  if (width == 0 || id.width > width) {
    return Status::not_found("the tree of size " + std::to_string(size) + " has no " +
                             merkle::tile_path(id));
  }
  return read_exact_tile(store, id);
}

}  // namespace medseal::ledger
