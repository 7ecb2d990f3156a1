// The sequencer's tree writer and the proof reader: the tiles, bundles and saved interior nodes a
// batch stores are exactly what independent computation gives; a writer resumed from the store
// continues identically; proofs served from saved nodes equal proofs rehashed from tile hashes.
#include <gtest/gtest.h>

#include <random>

#include "crypto/sha256.h"
#include "ledger/entry.h"
#include "ledger/store_tiles.h"
#include "ledger/tile_nodes.h"
#include "ledger/tree_writer.h"
#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/proof.h"
#include "merkle/tile.h"
#include "support/memory_store.h"

namespace medseal::ledger {
namespace {

using testing::MemoryStore;

std::string entry_bytes(uint64_t i) {
  return encode_entry({EntryKind::kAccess, i, crypto::sha256(std::to_string(i))});
}

// Appends entries [from, to) and commits what the writer says changed.
void append_range(TreeWriter& w, storage::Store& store, uint64_t from, uint64_t to) {
  storage::Batch b;
  b.old_size = from;
  for (uint64_t i = from; i < to; ++i) {
    const std::string e = entry_bytes(i);
    w.append(e, merkle::leaf_hash(e));
    b.extras.push_back({std::string(32, 's'), ""});
  }
  b.new_size = to;
  b.tiles = w.take_changes();
  b.checkpoint = "checkpoint";
  ASSERT_TRUE(store.commit(b));
}

// Every tree-level-8L hash of a tree of `size` leaves, per tile level, computed independently.
std::vector<std::string> expected_levels(uint64_t size) {
  std::vector<std::string> levels(1);
  for (uint64_t i = 0; i < size; ++i) levels[0] += as_view(merkle::leaf_hash(entry_bytes(i)));
  while (levels.back().size() >= 256 * 32) {
    const std::string& below = levels.back();
    std::string above;
    for (size_t t = 0; (t + 1) * 256 * 32 <= below.size(); ++t) {
      above += as_view(*merkle::tile_root(std::string_view(below).substr(t * 256 * 32, 256 * 32)));
    }
    levels.push_back(above);
  }
  return levels;
}

TEST(LedgerTree, TilesBundlesAndSavedNodesAreExact) {
  MemoryStore store;
  TreeWriter w;
  uint64_t size = 0;
  for (uint64_t n : {1, 255, 1, 3000, 62279, 4465}) {
    append_range(w, store, size, size + n);
    size += n;
  }
  ASSERT_EQ(size, 70'001u);
  const std::vector<std::string> levels = expected_levels(size);
  ASSERT_EQ(levels.size(), 3u);
  for (uint8_t level = 0; level < levels.size(); ++level) {
    for (uint64_t t = 0; t * 256 * 32 < levels[level].size(); ++t) {
      const uint32_t width = merkle::tile_width(level, t, size);
      Result<storage::StoredTile> tile = store.read_tile(false, level, t);
      ASSERT_TRUE(tile.is_ok()) << int(level) << "/" << t;
      const std::string_view want =
          std::string_view(levels[level]).substr(t * 256 * 32, width * 32);
      ASSERT_EQ(tile->width, width);
      ASSERT_EQ(tile->bytes, want) << int(level) << "/" << t;
      for (unsigned h = kFirstSavedHeight; h <= kLastSavedHeight; ++h) {
        for (uint64_t j = 0; (j + 1) << h <= width; ++j) {
          ASSERT_EQ(tile->nodes.size(), kSavedNodesBytes);
          const Hash node = *merkle::tile_root(want.substr((j << h) * 32, (uint64_t{1} << h) * 32));
          ASSERT_EQ(tile->nodes.substr(saved_node_slot(h, j) * 32, 32), as_view(node))
              << int(level) << "/" << t << " height " << h << " #" << j;
        }
      }
    }
  }
  for (uint64_t t = 0; t * 256 < size; ++t) {
    Result<storage::StoredTile> bundle = store.read_tile(true, 0, t);
    ASSERT_TRUE(bundle.is_ok());
    Result<std::vector<std::string_view>> entries = merkle::parse_entry_bundle(bundle->bytes);
    ASSERT_TRUE(entries.is_ok());
    ASSERT_EQ(entries->size(), merkle::tile_width(0, t, size));
    for (size_t k = 0; k < entries->size(); ++k) ASSERT_EQ((*entries)[k], entry_bytes(t * 256 + k));
  }
  merkle::CompactRange all;
  for (uint64_t i = 0; i < size; ++i)
    all.append(merkle::leaf_hash(entry_bytes(i)), [](auto, auto&) {});
  EXPECT_EQ(w.root(), all.root());
}

TEST(LedgerTree, AResumedWriterContinuesIdentically) {
  constexpr uint64_t kSize = 66'000;
  MemoryStore straight;
  TreeWriter w;
  append_range(w, straight, 0, kSize);
  for (uint64_t split : {1, 255, 256, 257, 4097, 65535, 65536, 65537}) {
    MemoryStore resumed;
    TreeWriter first;
    append_range(first, resumed, 0, split);
    Result<TreeWriter> again = TreeWriter::load(resumed, split);
    ASSERT_TRUE(again.is_ok()) << split << ": " << again.status().to_string();
    EXPECT_EQ(again->root(), first.root());
    append_range(*again, resumed, split, kSize);
    EXPECT_EQ(again->root(), w.root()) << split;
    for (uint8_t level = 0; level < 3; ++level) {
      for (uint64_t t = 0; merkle::tile_width(level, t, kSize) > 0; ++t) {
        auto a = straight.read_tile(false, level, t), b = resumed.read_tile(false, level, t);
        ASSERT_TRUE(a.is_ok() && b.is_ok());
        ASSERT_EQ(a->bytes, b->bytes) << split << ": tile " << int(level) << "/" << t;
        ASSERT_EQ(a->nodes, b->nodes) << split << ": saved nodes " << int(level) << "/" << t;
      }
    }
  }
}

// Proofs from saved nodes are the proofs rehashed from tile hashes, with and without saved nodes.
TEST(LedgerTree, ProofsFromSavedNodesEqualRehashedProofs) {
  MemoryStore store;
  TreeWriter w;
  constexpr uint64_t kSize = 70'001;
  append_range(w, store, 0, kSize);
  std::mt19937_64 rng(3);
  for (bool forget : {false, true}) {
    if (forget) store.forget_nodes();
    for (int k = 0; k < 300; ++k) {
      const uint64_t size = k % 3 == 0 ? kSize : rng() % kSize + 1;
      const uint64_t index = rng() % size;
      StoreTileReader tiles(store);
      merkle::TileNodeReader rehashed(size, tiles);
      StoreNodeReader saved(store, size);
      auto want = merkle::inclusion_proof(index, size, rehashed);
      auto got = merkle::inclusion_proof(index, size, saved);
      ASSERT_TRUE(want.is_ok() && got.is_ok()) << got.status().to_string();
      ASSERT_EQ(*got, *want) << index << " in " << size;
      const uint64_t older = rng() % size + 1;
      auto cwant = merkle::consistency_proof(older, size, rehashed);
      auto cgot = merkle::consistency_proof(older, size, saved);
      ASSERT_TRUE(cwant.is_ok() && cgot.is_ok());
      ASSERT_EQ(*cgot, *cwant) << older << " to " << size;
    }
  }
}

TEST(LedgerTree, LoadRefusesABundleThatDoesNotMatchItsTile) {
  MemoryStore store;
  TreeWriter w;
  append_range(w, store, 0, 300);
  storage::Batch b;  // rewrite the partial bundle with one entry changed
  b.old_size = 300;
  b.new_size = 300;
  Result<storage::StoredTile> bundle = store.read_tile(true, 0, 1);
  ASSERT_TRUE(bundle.is_ok());
  std::string bytes = bundle->bytes;
  bytes[5] ^= 1;
  b.tiles.push_back({{true, 0, 1, 44}, bytes, {}});
  ASSERT_TRUE(store.commit(b));
  EXPECT_EQ(TreeWriter::load(store, 300).status().code(), Code::kVerificationFailed);
}

}  // namespace
}  // namespace medseal::ledger
