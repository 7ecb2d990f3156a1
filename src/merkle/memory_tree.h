// An in-memory Merkle tree that keeps the hash of every complete perfect subtree: the reference
// NodeReader for tests and benchmarks, and enough for small trees. Pure, no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "merkle/proof.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::merkle {

class MemoryTree : public NodeReader {
 public:
  // Appends a leaf hash (see leaf_hash) and every perfect subtree it completes.
  void append(const Hash& leaf);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // The hash of a complete perfect subtree; the tree must hold it (see has_node).
  const Hash& node(NodeId id) const { return levels_[id.level][id.index]; }
  bool has_node(NodeId id) const {
    return id.level < levels_.size() && id.index < levels_[id.level].size();
  }

  // Serves nodes of the tree as it is now (so also of every smaller tree: nodes never change).
  Result<std::vector<Hash>> read_nodes(std::span<const NodeId> ids) override;

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[l][i] is NodeId{l, i}
};

}  // namespace medseal::merkle
