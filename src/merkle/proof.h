// Inclusion and consistency proofs (RFC 9162 section 2.1.3 and 2.1.4): generation over an
// abstract source of stored hashes, and verification. Pure functions, no I/O.
//
// Hashes are `Hash` (exactly 32 bytes): a proof element or root of any other length cannot be
// represented and is rejected where it is parsed (base64, tlog-proof, tiles), never here.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace medseal::merkle {

// A perfect subtree: the 2^level leaves [index << level, (index + 1) << level).
// Level 0 is a leaf hash. Its hash never changes once the tree holds all its leaves.
struct NodeId {
  uint8_t level = 0;
  uint64_t index = 0;
  friend bool operator==(const NodeId&, const NodeId&) = default;
};

// Where proof generation gets stored hashes from (a store, tiles, or memory).
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // Returns the hashes of `ids`, in the same order. Every id names a perfect subtree that is
  // complete in the tree the reader serves; anything else is an error, not a guess.
  virtual Result<std::vector<Hash>> read_nodes(std::span<const NodeId> ids) = 0;
};

// The root of the tree of the first `size` leaves (empty_root() for 0), reading O(log size) nodes.
// Reader errors are passed on.
Result<Hash> tree_root(uint64_t size, NodeReader& reader);

// RFC 9162 2.1.3.1: the audit path for leaf `index` in the tree of `size` leaves, from the leaf's
// sibling up to the root's child. Requires index < size (else kInvalidArgument); reads all nodes in
// one read_nodes call and passes its errors on.
Result<std::vector<Hash>> inclusion_proof(uint64_t index, uint64_t size, NodeReader& reader);

// RFC 9162 2.1.4.1: the consistency proof between the trees of size1 and size2 leaves.
// Requires 0 < size1 <= size2 (else kInvalidArgument; empty proof when equal); reads all nodes in
// one read_nodes call and passes its errors on.
Result<std::vector<Hash>> consistency_proof(uint64_t size1, uint64_t size2, NodeReader& reader);

// RFC 9162 2.1.3.2. OK only if `proof` proves that `leaf_hash` is leaf `index` of the tree of
// `size` leaves whose root is `root`; kVerificationFailed otherwise (including index >= size).
Status verify_inclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                        std::span<const Hash> proof, const Hash& root);

// RFC 9162 2.1.4.2. OK only if `proof` proves that the tree of size1 leaves with root1 is a prefix
// of the tree of size2 leaves with root2; kVerificationFailed otherwise. Policy where the RFC is
// silent: size1 > size2 is rejected; size1 == size2 requires an empty proof and root1 == root2;
// size1 == 0 is rejected whatever size2, proof and roots are (an empty tree is trivially a prefix,
// so such a "proof" proves nothing and asking for one is a caller bug). Every transparency-dev probe
// with size1 == 0 expects an error; unlike transparency-dev we also reject 0 -> 0 with equal roots.
Status verify_consistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                          const Hash& root1, const Hash& root2);

// Computes the root that an inclusion proof leads to (the RFC 9162 2.1.3.2 loop), or
// kVerificationFailed if index >= size or the proof has the wrong length for (index, size).
// verify_inclusion compares this with a root.
Result<Hash> root_from_inclusion_proof(const Hash& leaf_hash, uint64_t index, uint64_t size,
                                       std::span<const Hash> proof);

}  // namespace medseal::merkle
