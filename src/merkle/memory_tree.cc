#include "merkle/memory_tree.h"

#include <string>

#include "merkle/hash.h"

namespace medseal::merkle {

// RFC 9162 2.1.1: each new right child completes its parent, level by level.
void MemoryTree::append(const Hash& leaf) {
  Hash h = leaf;
  for (size_t level = 0;; ++level) {
    if (level == levels_.size()) levels_.emplace_back();
    std::vector<Hash>& row = levels_[level];
    row.push_back(h);
    if (row.size() % 2 != 0) return;
    h = node_hash(row[row.size() - 2], row.back());
  }
}

Result<std::vector<Hash>> MemoryTree::read_nodes(std::span<const NodeId> ids) {
  std::vector<Hash> out;
  out.reserve(ids.size());
  for (const NodeId& id : ids) {
    if (!has_node(id)) {
      return Status::not_found("no node " + std::to_string(id.level) + "/" +
                               std::to_string(id.index) + " in a tree of size " +
                               std::to_string(size()));
    }
    out.push_back(node(id));
  }
  return out;
}

}  // namespace medseal::merkle
