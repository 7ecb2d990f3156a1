// The right frontier of a Merkle tree: the roots of the perfect subtrees that together hold all
// leaves (one per set bit of the size, largest first). Enough to append a leaf in O(log n) and to
// compute the root without reading anything. Pure, no I/O.
#pragma once

#include <cstdint>
#include <vector>

#include "merkle/hash.h"
#include "merkle/proof.h"
#include "util/status.h"

namespace medseal::merkle {

class CompactRange {
 public:
  CompactRange() = default;  // the empty tree

  // The nodes whose hashes make up the frontier of a tree of `size` leaves, largest first.
  static std::vector<NodeId> frontier_ids(uint64_t size);
  // Resumes a tree from its frontier (hashes in frontier_ids(size) order).
  static Result<CompactRange> from_frontier(uint64_t size, std::vector<Hash> frontier);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& frontier() const { return frontier_; }

  // Appends one leaf hash. Calls visit(NodeId, const Hash&) for the new leaf (level 0) and then for
  // every perfect subtree this append completes, in increasing level: exactly the hashes a tile
  // writer must store.
  template <typename Visit>
  void append(const Hash& leaf, Visit&& visit) {
    Hash h = leaf;
    uint64_t index = size_;
    uint8_t level = 0;
    visit(NodeId{level, index}, h);
    // Every trailing one bit of the old size is a left sibling that now gets completed.
    for (uint64_t s = size_; s & 1; s >>= 1) {
      h = node_hash(frontier_.back(), h);
      frontier_.pop_back();
      ++level;
      index >>= 1;
      visit(NodeId{level, index}, h);
    }
    frontier_.push_back(h);
    ++size_;
  }

  // The tree root: empty_root() for size 0, else the frontier folded right to left.
  Hash root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> frontier_;
};

}  // namespace medseal::merkle
