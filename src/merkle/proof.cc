#include "merkle/proof.h"

#include <bit>
#include <string>

#include "merkle/hash.h"

namespace medseal::merkle {
namespace {

// The leaves [begin, end) of one proof element, whose MTH the element is. RFC 9162's recursion
// only produces ranges that start at a multiple of a power of two at least as large as the range,
// so a range is one perfect subtree, or (at the right edge of the tree) a run of shrinking ones.
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// RFC 9162 2.1.1: "k is the largest power of two smaller than n", for n >= 2.
uint64_t split_point(uint64_t n) { return std::bit_floor(n - 1); }

// Appends the perfect subtrees that make up `r`, largest (leftmost) first: one per set bit of
// the range's length, which is what an aligned range decomposes into.
void append_range_nodes(Range r, std::vector<NodeId>& out) {
  uint64_t begin = r.begin;
  const uint64_t length = r.end - r.begin;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((length & width) == 0) continue;
    out.push_back(NodeId{static_cast<uint8_t>(level), begin >> level});
    begin += width;
  }
}

// RFC 9162 2.1.1: the MTH of a run of perfect subtrees (largest first) is their hashes folded from
// the right, because the recursion always splits off the largest power of two on the left.
Hash fold_from_right(std::span<const Hash> hashes) {
  Hash h = hashes.back();
  for (size_t i = hashes.size() - 1; i-- > 0;) h = node_hash(hashes[i], h);
  return h;
}

// The MTH of every range, reading all the stored nodes they need in one read_nodes call.
Result<std::vector<Hash>> hash_ranges(std::span<const Range> ranges, NodeReader& reader) {
  std::vector<NodeId> ids;
  for (const Range& r : ranges) append_range_nodes(r, ids);
  Result<std::vector<Hash>> nodes = reader.read_nodes(ids);
  if (!nodes.is_ok()) return nodes.status();
  if (nodes->size() != ids.size()) {
    return Status::internal("NodeReader returned " + std::to_string(nodes->size()) +
                            " hashes for " + std::to_string(ids.size()) + " nodes");
  }
  std::vector<Hash> out;
  out.reserve(ranges.size());
  std::span<const Hash> rest(*nodes);
  for (const Range& r : ranges) {
    const size_t n = static_cast<size_t>(std::popcount(r.end - r.begin));
    out.push_back(fold_from_right(rest.first(n)));
    rest = rest.subspan(n);
  }
  return out;
}

// RFC 9162 2.1.3.1 PATH(m, D[n]), unrolled: walking from the root down to leaf m, each split
// contributes the MTH of the half that does not hold m. The path lists them leaf first.
std::vector<Range> inclusion_ranges(uint64_t index, uint64_t size) {
  std::vector<Range> ranges;
  uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    const uint64_t mid = lo + split_point(hi - lo);
    if (index < mid) {
      ranges.push_back({mid, hi});
      hi = mid;
    } else {
      ranges.push_back({lo, mid});
      lo = mid;
    }
  }
  return {ranges.rbegin(), ranges.rend()};
}

// RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b), unrolled: [lo, hi) is the current D[n] and `whole` is b.
// Each step appends (after the recursive part, hence the final reversal) the MTH of the half that
// the recursion does not descend into. The walk ends where the old tree is exactly [lo, hi): its
// root is then part of the proof unless it is the whole old tree, which the verifier already has.
std::vector<Range> consistency_ranges(uint64_t size1, uint64_t size2) {
  std::vector<Range> ranges;
  uint64_t lo = 0, hi = size2;
  bool whole = true;
  while (size1 != hi) {
    const uint64_t mid = lo + split_point(hi - lo);
    if (size1 <= mid) {
      ranges.push_back({mid, hi});
      hi = mid;
    } else {
      ranges.push_back({lo, mid});
      lo = mid;
      whole = false;
    }
  }
  if (!whole) ranges.push_back({lo, hi});
  return {ranges.rbegin(), ranges.rend()};
}

bool is_odd(uint64_t n) { return (n & 1) != 0; }

}  // namespace

// RFC 9162 2.1.1: MTH(D[n]) for the first `size` leaves, from the frontier's perfect subtrees.
Result<Hash> tree_root(uint64_t size, NodeReader& reader) {
  if (size == 0) return empty_root();
  const Range all[] = {{0, size}};
  Result<std::vector<Hash>> roots = hash_ranges(all, reader);
  if (!roots.is_ok()) return roots.status();
  return roots->front();
}

// RFC 9162 2.1.3.1: the inclusion proof (audit path) for leaf `index`.
Result<std::vector<Hash>> inclusion_proof(uint64_t index, uint64_t size, NodeReader& reader) {
  if (index >= size) {
    return Status::invalid("inclusion proof for leaf " + std::to_string(index) +
                           " of a tree of size " + std::to_string(size));
  }
  return hash_ranges(inclusion_ranges(index, size), reader);
}

// RFC 9162 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
Result<std::vector<Hash>> consistency_proof(uint64_t size1, uint64_t size2, NodeReader& reader) {
  if (size1 == 0 || size1 > size2) {
    return Status::invalid("consistency proof from size " + std::to_string(size1) + " to " +
                           std::to_string(size2));
  }
  return hash_ranges(consistency_ranges(size1, size2), reader);
}

// RFC 9162 2.1.3.2, steps 1-5 (everything but the final comparison with the root).
Result<Hash> root_from_inclusion_proof(const Hash& leaf_hash, uint64_t index, uint64_t size,
                                       std::span<const Hash> proof) {
  if (index >= size) return Status::verification("leaf index is not below the tree size");
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return Status::verification("inclusion proof is too long");
    if (is_odd(fn) || fn == sn) {
      r = node_hash(p, r);
      // Skip the levels where this node has no right sibling (the right edge of the tree).
      while (!is_odd(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::verification("inclusion proof is too short");
  return r;
}

// RFC 9162 2.1.3.2, step 6: compare the computed root with the expected one.
Status verify_inclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                        std::span<const Hash> proof, const Hash& root) {
  Result<Hash> computed = root_from_inclusion_proof(leaf_hash, index, size, proof);
  if (!computed.is_ok()) return computed.status();
  if (*computed != root) return Status::verification("inclusion proof leads to a different root");
  return Status::ok();
}

// RFC 9162 2.1.4.2, with the policy for the cases the RFC leaves open (see proof.h).
Status verify_consistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                          const Hash& root1, const Hash& root2) {
  if (size1 > size2) return Status::verification("consistency proof to a smaller tree");
  if (size1 == 0) return Status::verification("consistency proof from the empty tree");
  if (size1 == size2) {
    if (!proof.empty()) return Status::verification("consistency proof between equal sizes");
    if (root1 != root2) return Status::verification("different roots for the same size");
    return Status::ok();
  }
  // Step 1.
  if (proof.empty()) return Status::verification("empty consistency proof");
  // Step 2: when size1 is a power of two the old root is a node of the new tree and the proof
  // omits it; start from it instead of copying the proof to prepend it.
  const bool omitted = std::has_single_bit(size1);
  std::span<const Hash> rest = omitted ? proof : proof.subspan(1);
  const Hash& first = omitted ? root1 : proof.front();
  // Steps 3-4: skip the levels where the old tree's last node is a right child.
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while (is_odd(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5-6: fr rebuilds the old root and sr the new one from the same path.
  Hash fr = first, sr = first;
  for (const Hash& c : rest) {
    if (sn == 0) return Status::verification("consistency proof is too long");
    if (is_odd(fn) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while (!is_odd(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) return Status::verification("consistency proof is too short");
  if (fr != root1) return Status::verification("consistency proof does not match the old root");
  if (sr != root2) return Status::verification("consistency proof does not match the new root");
  return Status::ok();
}

}  // namespace medseal::merkle
