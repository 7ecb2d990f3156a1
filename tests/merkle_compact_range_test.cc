// CompactRange: roots, resumption from a stored frontier, and the nodes it reports on append.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/memory_tree.h"
#include "merkle/proof.h"

namespace medseal::merkle {
namespace {

constexpr uint64_t kMax = 1000;

Hash leaf_for(uint64_t i) { return leaf_hash("entry " + std::to_string(i)); }

TEST(CompactRange, EmptyRange) {
  CompactRange range;
  EXPECT_EQ(range.size(), 0u);
  EXPECT_TRUE(range.frontier().empty());
  EXPECT_EQ(range.root(), empty_root());
  EXPECT_TRUE(CompactRange::frontier_ids(0).empty());
}

TEST(CompactRange, RootEqualsTreeRootUpTo1000) {
  CompactRange range;
  MemoryTree tree;
  for (uint64_t i = 0; i < kMax; ++i) {
    const Hash leaf = leaf_for(i);
    range.append(leaf, [](NodeId, const Hash&) {});
    tree.append(leaf);
    ASSERT_EQ(range.size(), i + 1);
    ASSERT_EQ(range.root(), *tree_root(i + 1, tree)) << i + 1;
  }
}

TEST(CompactRange, FrontierIdsAreTheFrontier) {
  MemoryTree tree;
  for (uint64_t i = 0; i < kMax; ++i) tree.append(leaf_for(i));
  EXPECT_EQ(CompactRange::frontier_ids(7),
            (std::vector<NodeId>{{2, 0}, {1, 2}, {0, 6}}));
  EXPECT_EQ(CompactRange::frontier_ids(uint64_t{1} << 40), (std::vector<NodeId>{{40, 0}}));
  EXPECT_EQ(CompactRange::frontier_ids(UINT64_MAX).size(), 64u);
  CompactRange range;
  for (uint64_t size = 0; size <= kMax; ++size) {
    if (size > 0) range.append(leaf_for(size - 1), [](NodeId, const Hash&) {});
    std::vector<NodeId> ids = CompactRange::frontier_ids(size);
    Result<std::vector<Hash>> hashes = tree.read_nodes(ids);
    ASSERT_TRUE(hashes.is_ok());
    ASSERT_EQ(*hashes, range.frontier()) << size;
    // The frontier covers [0, size) exactly, left to right.
    uint64_t covered = 0;
    for (const NodeId& id : ids) {
      ASSERT_EQ(id.index << id.level, covered);
      covered += uint64_t{1} << id.level;
    }
    ASSERT_EQ(covered, size);
  }
}

TEST(CompactRange, ResumesFromFrontier) {
  MemoryTree tree;
  for (uint64_t i = 0; i < kMax; ++i) tree.append(leaf_for(i));
  for (uint64_t size = 0; size < kMax; size += (size < 70 ? 1 : 37)) {
    Result<std::vector<Hash>> hashes = tree.read_nodes(CompactRange::frontier_ids(size));
    ASSERT_TRUE(hashes.is_ok());
    Result<CompactRange> range = CompactRange::from_frontier(size, *hashes);
    ASSERT_TRUE(range.is_ok()) << range.status().to_string();
    ASSERT_EQ(range->root(), *tree_root(size, tree));
    // Appending after resuming gives the same trees as never having stopped.
    for (uint64_t next = size; next < std::min(kMax, size + 20); ++next) {
      range->append(leaf_for(next), [](NodeId, const Hash&) {});
      ASSERT_EQ(range->root(), *tree_root(next + 1, tree)) << size << " + " << next;
    }
  }
}

TEST(CompactRange, FromFrontierRejectsWrongCount) {
  EXPECT_FALSE(CompactRange::from_frontier(3, {Hash{}}).is_ok());
  EXPECT_FALSE(CompactRange::from_frontier(0, {Hash{}}).is_ok());
  EXPECT_FALSE(CompactRange::from_frontier(4, {Hash{}, Hash{}}).is_ok());
  EXPECT_TRUE(CompactRange::from_frontier(0, {}).is_ok());
}

// Every perfect subtree is reported exactly once, by the append that completes it, with its hash;
// the new leaf first, then increasing levels.
TEST(CompactRange, VisitReportsExactlyTheCompletedNodes) {
  MemoryTree tree;
  for (uint64_t i = 0; i < kMax; ++i) tree.append(leaf_for(i));
  CompactRange range;
  std::map<std::pair<int, uint64_t>, int> seen;
  for (uint64_t i = 0; i < kMax; ++i) {
    std::vector<NodeId> visited;
    range.append(leaf_for(i), [&](NodeId id, const Hash& h) {
      visited.push_back(id);
      EXPECT_EQ(h, tree.node(id)) << int{id.level} << "/" << id.index;
      ++seen[{id.level, id.index}];
    });
    // Completed now: the node ending at leaf i at each level while (i + 1) is divisible by 2^level.
    std::vector<NodeId> want;
    for (uint8_t level = 0; ((i + 1) & ((uint64_t{1} << level) - 1)) == 0; ++level) {
      want.push_back(NodeId{level, i >> level});
    }
    ASSERT_EQ(visited, want) << i;
  }
  // Across all appends: every complete node of the final tree, once.
  size_t complete = 0;
  for (int level = 0; (kMax >> level) > 0; ++level) complete += kMax >> level;
  EXPECT_EQ(seen.size(), complete);
  for (const auto& [node, count] : seen) EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace medseal::merkle
