#include "merkle/tile.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "merkle/compact_range.h"
#include "merkle/hash.h"

namespace medseal::merkle {
namespace {

constexpr size_t kHashSize = 32;
constexpr int kGroupDigits = 3;
// log2(256^(L+1)) for L = 7 is 64: no tree of at most 2^63 leaves has a level-8 tile, and the
// 2^63 limit (as in Go's sumdb/tlog, which counts in int64) keeps all our arithmetic in range.
constexpr uint64_t kMaxTreeSize = uint64_t{1} << 63;

// Hashes stored at tile level `level` in a tree of `size` leaves: one per perfect subtree of
// height 8 * level. A shift of 64 or more would be undefined, and there are none then anyway.
uint64_t hashes_at_tile_level(uint8_t level, uint64_t size) {
  const unsigned shift = kTileHeight * unsigned{level};
  return shift >= 64 ? 0 : size >> shift;
}

// tlog-tiles: N as zero-padded 3-digit groups, all but the last prefixed with "x".
void append_tile_index(std::string& out, uint64_t n) {
  std::string digits = std::to_string(n);
  digits.insert(0, (kGroupDigits - digits.size() % kGroupDigits) % kGroupDigits, '0');
  for (size_t i = 0; i < digits.size(); i += kGroupDigits) {
    if (i + kGroupDigits < digits.size()) out += 'x';
    out.append(digits, i, kGroupDigits);
    if (i + kGroupDigits < digits.size()) out += '/';
  }
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A decimal with no leading zeros (tlog-tiles <L> and <W>), at most `max`.
std::optional<uint32_t> parse_plain_decimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 3 || !all_digits(s)) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  uint32_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint32_t>(c - '0');
  if (v > max) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    path.remove_prefix(slash + 1);
  }
}

// tlog-tiles <N>: "xDDD/" groups then a final "DDD", in the only form append_tile_index writes
// (so no leading "x000" group), fitting in 64 bits.
std::optional<uint64_t> parse_tile_index(std::span<const std::string_view> groups) {
  if (groups.empty()) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string_view g = groups[i];
    const bool last = i + 1 == groups.size();
    if (!last) {
      if (g.empty() || g[0] != 'x') return std::nullopt;
      g.remove_prefix(1);
    }
    if (g.size() != kGroupDigits || !all_digits(g)) return std::nullopt;
    const uint64_t v = static_cast<uint64_t>((g[0] - '0') * 100 + (g[1] - '0') * 10 + (g[2] - '0'));
    if (i == 0 && !last && v == 0) return std::nullopt;
    if (n > (UINT64_MAX - v) / 1000) return std::nullopt;
    n = n * 1000 + v;
  }
  return n;
}

// True if some tree of at most kMaxTreeSize leaves holds this tile at this width.
bool within_max_tree(const TileId& id) {
  const unsigned shift = kTileHeight * unsigned{id.level};
  if (shift >= 64) return false;
  const uint64_t limit = kMaxTreeSize >> shift;  // hashes at this level in the largest tree
  if (id.width > limit) return false;
  return id.index <= (limit - id.width) / kTileWidth;
}

Hash hash_at(std::string_view tile, size_t i) {
  Hash h;
  std::memcpy(h.data(), tile.data() + i * kHashSize, kHashSize);
  return h;
}

// RFC 9162 2.1.1: the MTH of 2^k consecutive stored hashes taken as the leaves of a perfect tree,
// reduced level by level on the stack (k <= 7, so at most 64 hashes of scratch).
Hash perfect_root(std::string_view tile, uint32_t first, uint32_t count) {
  if (count == 1) return hash_at(tile, first);
  std::array<Hash, kTileWidth / 4> scratch;
  uint32_t n = count / 2;
  for (uint32_t i = 0; i < n; ++i) {
    scratch[i] = node_hash(hash_at(tile, first + 2 * i), hash_at(tile, first + 2 * i + 1));
  }
  for (; n > 1; n /= 2) {
    for (uint32_t i = 0; i < n / 2; ++i) scratch[i] = node_hash(scratch[2 * i], scratch[2 * i + 1]);
  }
  return scratch[0];
}

bool tile_less(const TileId& a, const TileId& b) {
  return a.level != b.level ? a.level < b.level : a.index < b.index;
}

}  // namespace

// tlog-tiles "Merkle Tree" and "Log entries": the path of a tile or entry bundle.
std::string tile_path(const TileId& id) {
  std::string path = "tile/";
  path += id.entries ? std::string("entries") : std::to_string(id.level);
  path += '/';
  append_tile_index(path, id.index);
  if (!id.full()) path += ".p/" + std::to_string(id.width);
  return path;
}

// tlog-tiles: the inverse of tile_path, accepting nothing else.
Result<TileId> parse_tile_path(std::string_view path) {
  const auto bad = [] { return Status::invalid("not a canonical tile path"); };
  std::vector<std::string_view> parts = split_path(path);
  if (parts.size() < 3 || parts[0] != "tile") return bad();
  TileId id;
  if (parts[1] == "entries") {
    id.entries = true;
  } else {
    std::optional<uint32_t> level = parse_plain_decimal(parts[1], kMaxTileLevel);
    if (!level) return bad();
    id.level = static_cast<uint8_t>(*level);
  }
  std::span<std::string_view> groups(parts.begin() + 2, parts.end());
  // A partial tile ends in "DDD.p/<W>": take W off and leave the last group bare.
  if (groups.size() > 1 && groups[groups.size() - 2].ends_with(".p")) {
    std::optional<uint32_t> width = parse_plain_decimal(groups.back(), kTileWidth - 1);
    if (!width || *width == 0) return bad();
    id.width = *width;
    groups = groups.first(groups.size() - 1);
    groups.back().remove_suffix(2);
  }
  std::optional<uint64_t> index = parse_tile_index(groups);
  if (!index) return bad();
  id.index = *index;
  if (!within_max_tree(id)) return Status::invalid("tile path beyond a tree of 2^63 leaves");
  return id;
}

// tlog-tiles "Partial Tiles": level L has floor(size / 256^L) hashes, in floor(.../256) full
// tiles and a partial tile of the remainder (none if 0).
uint32_t tile_width(uint8_t level, uint64_t index, uint64_t size) {
  const uint64_t hashes = hashes_at_tile_level(level, size);
  const uint64_t full = hashes / kTileWidth;
  if (index < full) return kTileWidth;
  if (index == full) return static_cast<uint32_t>(hashes % kTileWidth);
  return 0;
}

// tlog-tiles "Merkle Tree": node (8L + r, i) covers 2^r hashes of tile level L starting at i * 2^r.
TileSlice tile_slice_for_node(NodeId id) {
  const unsigned level_in_tile = id.level % kTileHeight;
  const unsigned per_tile = kTileWidth >> level_in_tile;  // nodes of this level in one tile
  TileSlice s;
  s.tile.level = static_cast<uint8_t>(id.level / kTileHeight);
  s.tile.index = id.index / per_tile;
  s.first = static_cast<uint32_t>(id.index % per_tile) << level_in_tile;
  s.count = uint32_t{1} << level_in_tile;
  s.tile.width = s.first + s.count;
  return s;
}

// tlog-tiles "Merkle Tree" / RFC 9162 2.1.1: a full tile's hashes are the leaves of a perfect
// subtree of height 8, so its root is the hash one tile level up.
Result<Hash> tile_root(std::string_view hashes) {
  if (hashes.empty() || hashes.size() % kHashSize != 0 || hashes.size() > kTileWidth * kHashSize) {
    return Status::invalid("a tile holds 1 to 256 hashes of 32 bytes");
  }
  CompactRange range;
  for (size_t i = 0; i < hashes.size() / kHashSize; ++i) {
    range.append(hash_at(hashes, i), [](NodeId, const Hash&) {});
  }
  return range.root();
}

// tlog-tiles "Log entries": big-endian uint16 length, then the entry.
std::string encode_entry_bundle(std::span<const std::string_view> entries) {
  if (entries.empty() || entries.size() > kTileWidth) return {};
  size_t total = 0;
  for (std::string_view e : entries) {
    if (e.size() > kMaxEntrySize) return {};
    total += 2 + e.size();
  }
  std::string out;
  out.reserve(total);
  for (std::string_view e : entries) {
    out += static_cast<char>(e.size() >> 8);
    out += static_cast<char>(e.size() & 0xff);
    out += e;
  }
  return out;
}

Result<std::vector<std::string_view>> parse_entry_bundle(std::string_view bundle) {
  std::vector<std::string_view> entries;
  while (!bundle.empty()) {
    if (entries.size() == kTileWidth) return Status::invalid("entry bundle has over 256 entries");
    if (bundle.size() < 2) return Status::invalid("entry bundle ends inside a length");
    const size_t length = (size_t{static_cast<uint8_t>(bundle[0])} << 8) |
                          static_cast<uint8_t>(bundle[1]);
    bundle.remove_prefix(2);
    if (bundle.size() < length) return Status::invalid("entry bundle ends inside an entry");
    entries.push_back(bundle.substr(0, length));
    bundle.remove_prefix(length);
  }
  if (entries.empty()) return Status::invalid("empty entry bundle");
  return entries;
}

// Reads each tile at the width it has in this tree (the only partial width the log must serve),
// once, then rebuilds each node from its slice.
Result<std::vector<Hash>> TileNodeReader::read_nodes(std::span<const NodeId> ids) {
  std::vector<TileSlice> slices;
  slices.reserve(ids.size());
  for (const NodeId& id : ids) {
    if (id.level >= 64 || id.index >= (size_ >> id.level)) {
      return Status::invalid("node is not complete in a tree of size " + std::to_string(size_));
    }
    TileSlice s = tile_slice_for_node(id);
    s.tile.width = tile_width(s.tile.level, s.tile.index, size_);
    slices.push_back(s);
  }
  std::vector<TileId> tiles;
  tiles.reserve(slices.size());
  for (const TileSlice& s : slices) tiles.push_back(s.tile);
  std::sort(tiles.begin(), tiles.end(), tile_less);
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());

  Result<std::vector<std::string>> data = tiles_.read_tiles(tiles);
  if (!data.is_ok()) return data.status();
  if (data->size() != tiles.size()) return Status::internal("TileReader returned too few tiles");
  for (size_t i = 0; i < tiles.size(); ++i) {
    const std::string& t = (*data)[i];
    if (t.size() % kHashSize != 0 || t.size() > kTileWidth * kHashSize ||
        t.size() < tiles[i].width * kHashSize) {
      return Status::invalid("malformed tile " + tile_path(tiles[i]));
    }
  }

  std::vector<Hash> out;
  out.reserve(slices.size());
  for (const TileSlice& s : slices) {
    const size_t t = static_cast<size_t>(
        std::lower_bound(tiles.begin(), tiles.end(), s.tile, tile_less) - tiles.begin());
    out.push_back(perfect_root((*data)[t], s.first, s.count));
  }
  return out;
}

}  // namespace medseal::merkle
