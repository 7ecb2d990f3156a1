// tlog-tiles math and formats: paths, widths, slices, tile roots, entry bundles, TileNodeReader.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/memory_tree.h"
#include "merkle/proof.h"
#include "merkle/tile.h"

namespace medseal::merkle {
namespace {

TileId hash_tile(uint8_t level, uint64_t index, uint32_t width = kTileWidth) {
  return TileId{.entries = false, .level = level, .index = index, .width = width};
}
TileId bundle(uint64_t index, uint32_t width = kTileWidth) {
  return TileId{.entries = true, .level = 0, .index = index, .width = width};
}

TEST(TilePath, FormatsAsTheSpecSays) {
  EXPECT_EQ(tile_path(hash_tile(0, 0)), "tile/0/000");
  EXPECT_EQ(tile_path(hash_tile(1, 1234067)), "tile/1/x001/x234/067");
  EXPECT_EQ(tile_path(hash_tile(0, 1000, 5)), "tile/0/x001/000.p/5");
  EXPECT_EQ(tile_path(hash_tile(63, 999, 255)), "tile/63/999.p/255");
  EXPECT_EQ(tile_path(bundle(273, 112)), "tile/entries/273.p/112");
  EXPECT_EQ(tile_path(bundle(UINT64_MAX)), "tile/entries/x018/x446/x744/x073/x709/x551/615");
}

TEST(TilePath, RoundTrips) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> indexes = {0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999999, 1000000,
                                   (uint64_t{1} << 55) - 1};
  for (int i = 0; i < 200; ++i) indexes.push_back(rng() >> (9 + rng() % 55));
  for (uint64_t index : indexes) {
    for (uint32_t width : {1u, 2u, 112u, 255u, 256u}) {
      for (TileId id : {hash_tile(0, index, width), bundle(index, width),
                        hash_tile(1, index >> 8, width), hash_tile(2, index >> 16, width)}) {
        Result<TileId> back = parse_tile_path(tile_path(id));
        ASSERT_TRUE(back.is_ok()) << tile_path(id) << ": " << back.status().to_string();
        EXPECT_EQ(*back, id) << tile_path(id);
      }
    }
  }
}

TEST(TilePath, LimitsOfATreeOf2To63Leaves) {
  // The last level-0 tile of a 2^63-leaf tree, and the single hash at level 7 (2^56 leaves each).
  const uint64_t last = (uint64_t{1} << 55) - 1;
  EXPECT_TRUE(parse_tile_path(tile_path(hash_tile(0, last))).is_ok());
  EXPECT_FALSE(parse_tile_path(tile_path(hash_tile(0, last + 1, 1))).is_ok());
  EXPECT_FALSE(parse_tile_path(tile_path(bundle(last + 1, 1))).is_ok());
  EXPECT_TRUE(parse_tile_path("tile/7/000.p/128").is_ok());
  EXPECT_FALSE(parse_tile_path("tile/7/000.p/129").is_ok());
  EXPECT_FALSE(parse_tile_path("tile/8/000.p/1").is_ok());
  EXPECT_FALSE(parse_tile_path("tile/63/000.p/1").is_ok());
}

TEST(TilePath, RejectsEverythingNonCanonical) {
  for (const char* path : {
           "", "tile", "tile/", "tile/0", "tile/0/", "/tile/0/000", "tiles/0/000", "Tile/0/000",
           "tile/0/000/",          // trailing slash
           "tile//000",            // empty level
           "tile/0//000",          // empty element
           "tile/0/x001//000",     // empty element
           "tile/00/000",          // L with a leading zero
           "tile/01/000",          // L with a leading zero
           "tile/64/000",          // L above 63
           "tile/-1/000", "tile/+1/000", "tile/ 1/000", "tile/1a/000", "tile/x/000",
           "tile/0/0",             // N group not 3 digits
           "tile/0/1",             // N group not 3 digits
           "tile/0/0000",          // N group not 3 digits
           "tile/0/00a",           // non-digit
           "tile/0/-01",           // sign
           "tile/0/x000/001",      // a leading zero group: 1 is "001"
           "tile/0/x000/x001/000", // likewise
           "tile/0/001/000",       // groups before the last must start with x
           "tile/0/x001",          // the last group must not
           "tile/0/xx01/000", "tile/0/x01/000", "tile/0/X001/000",
           "tile/0/x018/x446/x744/x073/x709/x551/616",       // 2^64
           "tile/0/x001/x000/x000/x000/x000/x000/x000/000",  // 10^21
           "tile/0/000.p/0",       // W of 0
           "tile/0/000.p/256",     // W of a full tile
           "tile/0/000.p/01",      // W with a leading zero
           "tile/0/000.p/",        // no W
           "tile/0/000.p",         // no W
           "tile/0/000.p/1/",      // trailing slash
           "tile/0/000.p/1/2",     // extra element
           "tile/0/000.q/1", "tile/0/000p/1", "tile/0/.p/1", "tile/0/000.p/1a",
           "tile/0/000.p.p/1", "tile/0/x000.p/1",
           "tile/0/..", "tile/0/../000", "tile/../0/000", "tile/0/./000",
           "tile/entries", "tile/entries/", "tile/entries/0", "tile/entries/0/000",
           "tile/entries/000.p/256", "tile/Entries/000", "tile/data/000",
           "tile/0/000\n", " tile/0/000", "tile/0/000?x=1", "tile/0/000\\",
       }) {
    EXPECT_FALSE(parse_tile_path(path).is_ok()) << '"' << path << '"';
    EXPECT_EQ(parse_tile_path(path).status().code(), Code::kInvalidArgument) << path;
  }
  EXPECT_FALSE(parse_tile_path(std::string_view("tile/0/000\0", 11)).is_ok());
  // 2^64 - 1 is a well-formed index, but no tree of at most 2^63 leaves has that tile.
  EXPECT_FALSE(parse_tile_path("tile/0/x018/x446/x744/x073/x709/x551/615").is_ok());
}

TEST(TileWidth, SpecExamples) {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
  // tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
  // partial level 2 tile of width 1."
  const uint64_t size = 70000;
  for (uint64_t n = 0; n < 273; ++n) EXPECT_EQ(tile_width(0, n, size), 256u);
  EXPECT_EQ(tile_width(0, 273, size), 112u);
  EXPECT_EQ(tile_width(0, 274, size), 0u);
  EXPECT_EQ(tile_width(1, 0, size), 256u);
  EXPECT_EQ(tile_width(1, 1, size), 17u);
  EXPECT_EQ(tile_width(1, 2, size), 0u);
  EXPECT_EQ(tile_width(2, 0, size), 1u);
  EXPECT_EQ(tile_width(2, 1, size), 0u);
  EXPECT_EQ(tile_width(3, 0, size), 0u);
  // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of
  // width 1."
  EXPECT_EQ(tile_width(0, 0, 256), 256u);
  EXPECT_EQ(tile_width(0, 1, 256), 0u);
  EXPECT_EQ(tile_width(1, 0, 256), 1u);
  EXPECT_EQ(tile_width(2, 0, 256), 0u);
  EXPECT_EQ(tile_width(0, 0, 0), 0u);
  EXPECT_EQ(tile_width(63, 0, UINT64_MAX), 0u);
  EXPECT_EQ(tile_width(7, 0, UINT64_MAX), 255u);
}

TEST(TileSlice, NodesMapToTheirTileHashes) {
  TileSlice s = tile_slice_for_node({0, 300});
  EXPECT_EQ(s.tile, hash_tile(0, 1, 45));
  EXPECT_EQ(s.first, 44u);
  EXPECT_EQ(s.count, 1u);
  s = tile_slice_for_node({3, 40});  // leaves 320..327: level-0 hashes 64..71 of tile 1
  EXPECT_EQ(s.tile, hash_tile(0, 1, 72));
  EXPECT_EQ(s.first, 64u);
  EXPECT_EQ(s.count, 8u);
  s = tile_slice_for_node({8, 5});  // a full level-0 tile's root: hash 5 of tile 1/0
  EXPECT_EQ(s.tile, hash_tile(1, 0, 6));
  EXPECT_EQ(s.count, 1u);
  s = tile_slice_for_node({15, 3});  // hashes 384..511 of level 1: tile 1/1, from 128
  EXPECT_EQ(s.tile, hash_tile(1, 1, 256));
  EXPECT_EQ(s.first, 128u);
  EXPECT_EQ(s.count, 128u);
}

TEST(EntryBundle, RoundTrips) {
  const std::string big(kMaxEntrySize, 'x');
  std::vector<std::string_view> entries = {"", "a", std::string_view("\0\1", 2), big};
  std::string encoded = encode_entry_bundle(entries);
  EXPECT_EQ(encoded.substr(0, 5), std::string("\0\0\0\1a", 5));
  Result<std::vector<std::string_view>> back = parse_entry_bundle(encoded);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, entries);

  std::vector<std::string> many;
  for (int i = 0; i < 256; ++i) many.push_back(std::string(42, static_cast<char>(i)));
  std::vector<std::string_view> views(many.begin(), many.end());
  encoded = encode_entry_bundle(views);
  EXPECT_EQ(encoded.size(), 256u * 44);
  back = parse_entry_bundle(encoded);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, views);
}

TEST(EntryBundle, StrictParsing) {
  const std::string one = encode_entry_bundle(std::vector<std::string_view>{"hello"});
  ASSERT_EQ(one, std::string("\0\5hello", 7));
  EXPECT_FALSE(parse_entry_bundle("").is_ok());                            // empty
  EXPECT_FALSE(parse_entry_bundle(std::string("\0", 1)).is_ok());          // truncated length
  EXPECT_FALSE(parse_entry_bundle(one + std::string("\0", 1)).is_ok());    // trailing byte
  EXPECT_FALSE(parse_entry_bundle(one.substr(0, 6)).is_ok());              // truncated entry
  EXPECT_FALSE(parse_entry_bundle(std::string("\xff\xff", 2) + "abc").is_ok());
  std::string full;
  for (int i = 0; i < 256; ++i) full += one;
  EXPECT_TRUE(parse_entry_bundle(full).is_ok());
  EXPECT_FALSE(parse_entry_bundle(full + one).is_ok());                    // 257 entries
  EXPECT_FALSE(parse_entry_bundle(full + std::string("\0\0", 2)).is_ok()); // 257, empty last
  // Encoding refuses what the format cannot hold; an empty bundle is never valid.
  const std::string too_big(kMaxEntrySize + 1, 'x');
  EXPECT_EQ(encode_entry_bundle(std::vector<std::string_view>{too_big}), "");
  EXPECT_EQ(encode_entry_bundle({}), "");
  std::vector<std::string_view> over(257, "x");
  EXPECT_EQ(encode_entry_bundle(over), "");
}

// --- Tiles built from an in-memory tree --------------------------------------------------------

// Builds every tile of a tree as a tile writer would (CompactRange visits), keeping each tile at
// its latest width, and serves exactly the width asked for (what a log must serve).
class MemoryTiles : public TileReader {
 public:
  void append(const Hash& leaf) {
    range_.append(leaf, [this](NodeId id, const Hash& h) {
      if (id.level % kTileHeight != 0) return;
      std::string& tile = tiles_[{id.level / kTileHeight, id.index / kTileWidth}];
      EXPECT_EQ(tile.size(), id.index % kTileWidth * 32);
      tile.append(reinterpret_cast<const char*>(h.data()), h.size());
    });
  }
  uint64_t size() const { return range_.size(); }
  const std::string& tile(int level, uint64_t index) { return tiles_.at({level, index}); }

  Result<std::vector<std::string>> read_tiles(std::span<const TileId> ids) override {
    std::vector<std::string> out;
    for (const TileId& id : ids) {
      ++reads;
      EXPECT_FALSE(id.entries);
      EXPECT_EQ(id.width, tile_width(id.level, id.index, asked_size)) << tile_path(id);
      auto it = tiles_.find({id.level, id.index});
      if (it == tiles_.end() || it->second.size() < id.width * 32u) {
        return Status::not_found(tile_path(id));
      }
      out.push_back(it->second.substr(0, id.width * 32u));
    }
    return out;
  }
  uint64_t asked_size = 0;  // the tree size the reader under test serves
  int reads = 0;

 private:
  CompactRange range_;
  std::map<std::pair<int, uint64_t>, std::string> tiles_;
};

TEST(TileRoot, FullTileRootIsTheHashOneLevelUp) {
  MemoryTiles tiles;
  MemoryTree tree;
  for (uint64_t i = 0; i < 3 * 65536 + 300; ++i) {
    const Hash leaf = leaf_hash(std::to_string(i));
    tiles.append(leaf);
    tree.append(leaf);
  }
  for (uint64_t n = 0; n < 3 * 256; ++n) {
    Result<Hash> root = tile_root(tiles.tile(0, n));
    ASSERT_TRUE(root.is_ok());
    EXPECT_EQ(*root, tree.node({8, n}));
    EXPECT_EQ(std::string_view(tiles.tile(1, n / 256)).substr(n % 256 * 32, 32), as_view(*root));
  }
  for (uint64_t n = 0; n < 3; ++n) EXPECT_EQ(*tile_root(tiles.tile(1, n)), tree.node({16, n}));
  // A partial tile's root is the MTH of its hashes (not stored anywhere, but well defined).
  EXPECT_EQ(*tile_root(tiles.tile(0, 3 * 256 + 1)), [&] {
    MemoryTree part;
    for (uint64_t i = 0; i < 300 - 256; ++i) part.append(tree.node({0, 3 * 65536 + 256 + i}));
    return *tree_root(44, part);
  }());
  EXPECT_FALSE(tile_root("").is_ok());
  EXPECT_FALSE(tile_root(std::string(33, 'x')).is_ok());
  EXPECT_FALSE(tile_root(std::string(257 * 32, 'x')).is_ok());
}

TEST(TileNodeReader, SameProofsAsTheMemoryTree) {
  constexpr uint64_t kMax = 65536 + 2 * 256 + 17;
  MemoryTiles tiles;
  MemoryTree tree;
  for (uint64_t i = 0; i < kMax; ++i) {
    const Hash leaf = leaf_hash("tile leaf " + std::to_string(i));
    tiles.append(leaf);
    tree.append(leaf);
  }
  std::mt19937_64 rng(42);
  std::vector<uint64_t> sizes;
  for (uint64_t s = 1; s <= 600; ++s) sizes.push_back(s);
  for (uint64_t s : {65535, 65536, 65537, 65536 + 255, 65536 + 256, 65536 + 257}) {
    sizes.push_back(s);
  }
  for (int i = 0; i < 40; ++i) sizes.push_back(1 + rng() % kMax);
  sizes.push_back(kMax);
  for (uint64_t size : sizes) {
    SCOPED_TRACE(size);
    tiles.asked_size = size;
    TileNodeReader reader(size, tiles);
    ASSERT_EQ(*tree_root(size, reader), *tree_root(size, tree));
    std::vector<uint64_t> indexes = {0, size - 1, size / 2, rng() % size, rng() % size};
    for (uint64_t index : indexes) {
      Result<std::vector<Hash>> want = inclusion_proof(index, size, tree);
      tiles.reads = 0;
      Result<std::vector<Hash>> got = inclusion_proof(index, size, reader);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      ASSERT_EQ(*got, *want) << index;
      EXPECT_LE(tiles.reads, 6);  // one read per tile, and a proof touches few tiles
    }
    const uint64_t old_sizes[] = {1, size / 2 + 1, 1 + rng() % size, size};
    for (uint64_t old_size : old_sizes) {
      Result<std::vector<Hash>> got = consistency_proof(old_size, size, reader);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      ASSERT_EQ(*got, *consistency_proof(old_size, size, tree)) << old_size;
    }
  }
}

TEST(TileNodeReader, RejectsIncompleteNodesAndShortTiles) {
  MemoryTiles tiles;
  for (uint64_t i = 0; i < 300; ++i) tiles.append(leaf_hash(std::to_string(i)));
  tiles.asked_size = 300;
  TileNodeReader reader(300, tiles);
  const NodeId beyond[] = {{0, 300}};
  EXPECT_EQ(reader.read_nodes(beyond).status().code(), Code::kInvalidArgument);
  const NodeId big[] = {{9, 0}};  // 512 leaves
  EXPECT_EQ(reader.read_nodes(big).status().code(), Code::kInvalidArgument);
  const NodeId huge[] = {{200, 0}};
  EXPECT_EQ(reader.read_nodes(huge).status().code(), Code::kInvalidArgument);

  // A store that returns a short tile is caught, not read past.
  class ShortTiles : public TileReader {
   public:
    Result<std::vector<std::string>> read_tiles(std::span<const TileId> ids) override {
      return std::vector<std::string>(ids.size(), std::string(64, 'x'));
    }
  } short_tiles;
  TileNodeReader short_reader(300, short_tiles);
  const NodeId leaf[] = {{0, 10}};
  EXPECT_EQ(short_reader.read_nodes(leaf).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace medseal::merkle
