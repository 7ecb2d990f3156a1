#include "merkle/compact_range.h"

#include <bit>
#include <string>
#include <utility>

namespace medseal::merkle {

// RFC 9162 2.1.1: a tree of `size` leaves splits into perfect subtrees, one per set bit of the size,
// largest (leftmost) first; this is the tree's right frontier.
std::vector<NodeId> CompactRange::frontier_ids(uint64_t size) {
  std::vector<NodeId> ids;
  ids.reserve(static_cast<size_t>(std::popcount(size)));
  for (int level = 63; level >= 0; --level) {
    // (size >> level) is odd exactly when this subtree is on the frontier; the subtrees to its
    // left cover the higher bits, so its index is the even number just below.
    if (((size >> level) & 1) == 0) continue;
    ids.push_back(NodeId{static_cast<uint8_t>(level), (size >> level) - 1});
  }
  return ids;
}

Result<CompactRange> CompactRange::from_frontier(uint64_t size, std::vector<Hash> frontier) {
  const auto want = static_cast<size_t>(std::popcount(size));
  if (frontier.size() != want) {
    return Status::invalid("a tree of size " + std::to_string(size) + " has " +
                           std::to_string(want) + " frontier hashes, not " +
                           std::to_string(frontier.size()));
  }
  CompactRange range;
  range.size_ = size;
  range.frontier_ = std::move(frontier);
  return range;
}

// RFC 9162 2.1.1: MTH folds the frontier from the right, as the recursion splits off the largest
// power of two on the left at every step.
Hash CompactRange::root() const {
  if (frontier_.empty()) return empty_root();
  Hash h = frontier_.back();
  for (size_t i = frontier_.size() - 1; i-- > 0;) h = node_hash(frontier_[i], h);
  return h;
}

}  // namespace medseal::merkle
