// tlog-tiles v0.1.0 tile math and formats: which tile holds which hash, tile and entry-bundle
// paths, entry bundles, and a NodeReader over tiles. Pure, no I/O.
//
// A hash tile at level L, index N holds the hashes of the perfect subtrees of height 8L with
// indexes N*256 .. N*256+W-1 (W = 256 when full). Nodes whose level is not a multiple of 8 are not
// stored: they are recomputed from 2^(level mod 8) consecutive hashes of one tile.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merkle/proof.h"
#include "util/status.h"

namespace medseal::merkle {

constexpr int kTileHeight = 8;
constexpr uint32_t kTileWidth = 256;             // hashes (or entries) in a full tile
constexpr uint8_t kMaxTileLevel = 63;
constexpr size_t kMaxEntrySize = 65535;          // an entry's length is a big-endian uint16

// A hash tile (entries == false) or an entry bundle (entries == true, level 0).
struct TileId {
  bool entries = false;
  uint8_t level = 0;
  uint64_t index = 0;
  uint32_t width = kTileWidth;  // 1..256; 256 means full
  friend bool operator==(const TileId&, const TileId&) = default;
  bool full() const { return width == kTileWidth; }
};

// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", N in x-prefixed 3-digit groups.
// Requires width 1..256 (256 writes no ".p/<W>").
std::string tile_path(const TileId& id);
// Parses exactly the canonical form of tile_path (no leading zeros in L or W, W in 1..255,
// 3-digit groups, L <= 63, N that fits in 64 bits and a tree of at most 2^63 leaves). Anything
// else is kInvalidArgument. The path starts at "tile/". The 2^63 limit means the tile's last hash
// must exist in a tree of at most 2^63 leaves: (N * 256 + W) * 256^L <= 2^63, so in practice L <= 7
// (and W <= 128 at L = 7) even though the syntax allows up to 63.
Result<TileId> parse_tile_path(std::string_view path);

// Width of tile (level, index) in a tree of `size` leaves: 256 if full, 1..255 if it is the partial
// tile at that level, 0 if the tree has no such tile (entry bundles use level 0).
uint32_t tile_width(uint8_t level, uint64_t index, uint64_t size);

// The stored hashes that determine node `id`: `count` = 2^(level mod 8) consecutive hashes from
// position `first` of hash tile (level / 8, index >> ...). `tile.width` is the least width that
// contains them.
struct TileSlice {
  TileId tile;
  uint32_t first = 0;
  uint32_t count = 0;
};
TileSlice tile_slice_for_node(NodeId id);

// The hash a full (or partial) tile contributes to the level above: the Merkle root of its hashes
// taken as leaves-already-hashed. `hashes` holds width*32 bytes.
Result<Hash> tile_root(std::string_view hashes);

// Entry bundles: each entry as a big-endian uint16 length and its bytes. Requires 1..256 entries
// of at most kMaxEntrySize bytes; otherwise returns "" (never a valid bundle).
std::string encode_entry_bundle(std::span<const std::string_view> entries);
// Strict: rejects a truncated length or entry, trailing bytes, more than 256 entries and an empty
// bundle (tlog-tiles: empty tiles are never served). The views point into `bundle`.
Result<std::vector<std::string_view>> parse_entry_bundle(std::string_view bundle);

// Where TileNodeReader gets tiles from.
class TileReader {
 public:
  virtual ~TileReader() = default;
  // Returns, for each id, the tile's hashes: at least id.width * 32 bytes (a wider stored tile of
  // the same level and index is fine: hashes never change once written). Errors are passed on.
  virtual Result<std::vector<std::string>> read_tiles(std::span<const TileId> ids) = 0;
};

// Serves read_nodes for a tree of `size` leaves from hash tiles, hashing sub-tile levels. It asks
// for each tile once per read_nodes call, at the width the tile has in the tree of `size` (the
// partial tiles a log must serve for that checkpoint). A node that is not complete in that tree is
// kInvalidArgument, and so is a tile shorter than asked for. It does not authenticate tiles
// against a root: use it over a trusted store, or verify the result.
class TileNodeReader : public NodeReader {
 public:
  TileNodeReader(uint64_t size, TileReader& tiles) : size_(size), tiles_(tiles) {}
  Result<std::vector<Hash>> read_nodes(std::span<const NodeId> ids) override;

 private:
  uint64_t size_;
  TileReader& tiles_;
};

}  // namespace medseal::merkle
