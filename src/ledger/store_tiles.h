// Tiles as the ledger reads them from a Store: a merkle::TileReader over the store, a NodeReader
// for proofs that uses the saved interior nodes (ledger/tile_nodes.h), and cutting a stored tile
// (which may have grown since) down to the width a tree of some size has.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merkle/tile.h"
#include "storage/store.h"
#include "util/status.h"

namespace medseal::ledger {

// Serves hash tiles from the store. Stored tiles only grow and their hashes never change, so a
// tile wider than asked for is returned as is (TileReader allows that).
class StoreTileReader : public merkle::TileReader {
 public:
  explicit StoreTileReader(storage::Store& store) : store_(store) {}
  Result<std::vector<std::string>> read_tiles(std::span<const merkle::TileId> ids) override;

 private:
  storage::Store& store_;
};

// Serves the nodes of the tree of `size` leaves held in `store`: saved interior nodes where the
// tile has them, merkle::TileNodeReader's rehashing of tile hashes for the rest. Reads each tile
// at most once per read_nodes call. Like TileNodeReader, it trusts the store: what it serves is
// for proofs that their receivers verify.
class StoreNodeReader : public merkle::NodeReader {
 public:
  StoreNodeReader(storage::Store& store, uint64_t size) : store_(store), size_(size) {}
  Result<std::vector<Hash>> read_nodes(std::span<const merkle::NodeId> ids) override;

 private:
  storage::Store& store_;
  uint64_t size_;
};

// The first `width` hashes of a hash tile, or the first `width` entries of an entry bundle.
// kInternal if the stored tile is narrower or malformed: the store lost or damaged data.
Result<std::string> cut_tile(const merkle::TileId& id, std::string_view stored);

// Reads tile `id` from the store and cuts it to exactly id.width.
Result<std::string> read_exact_tile(storage::Store& store, const merkle::TileId& id);

// Tile `id` of the tree of `size` leaves held in `store`, exactly id.width wide: kInvalidArgument
// for an impossible id, kNotFound if that tree has no such tile (never a tile wider than the tree).
Result<std::string> read_tree_tile(storage::Store& store, const merkle::TileId& id, uint64_t size);

}  // namespace medseal::ledger
