// Proof generation against verification, exhaustively for small trees and sampled for a tree of a
// million leaves, with negative checks: any changed bit, index or size must fail.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "merkle/hash.h"
#include "merkle/memory_tree.h"
#include "merkle/proof.h"

namespace medseal::merkle {
namespace {

Hash leaf_for(uint64_t i) { return leaf_hash("leaf " + std::to_string(i)); }

MemoryTree build_tree(uint64_t size) {
  MemoryTree tree;
  for (uint64_t i = 0; i < size; ++i) tree.append(leaf_for(i));
  return tree;
}

// RFC 9162 2.1.1 straight from the definition: the reference for every root below.
Hash reference_root(const MemoryTree& tree, uint64_t begin, uint64_t end) {
  if (end - begin == 1) return tree.node({0, begin});
  uint64_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return node_hash(reference_root(tree, begin, begin + k), reference_root(tree, begin + k, end));
}

void flip_bit(Hash& h, size_t bit) { h[bit / 8 % 32] ^= static_cast<uint8_t>(1u << (bit % 8)); }

// Checks proof of leaf `index` in tree `size`, and that tampering with anything fails.
void check_inclusion(MemoryTree& tree, uint64_t index, uint64_t size, const Hash& root,
                     std::mt19937_64& rng) {
  Result<std::vector<Hash>> proof = inclusion_proof(index, size, tree);
  ASSERT_TRUE(proof.is_ok()) << proof.status().to_string();
  const Hash leaf = tree.node({0, index});
  ASSERT_TRUE(verify_inclusion(leaf, index, size, *proof, root).is_ok()) << index << "/" << size;

  Hash bad_leaf = leaf;
  flip_bit(bad_leaf, rng() % 256);
  EXPECT_FALSE(verify_inclusion(bad_leaf, index, size, *proof, root).is_ok());
  Hash bad_root = root;
  flip_bit(bad_root, rng() % 256);
  EXPECT_FALSE(verify_inclusion(leaf, index, size, *proof, bad_root).is_ok());
  if (!proof->empty()) {
    std::vector<Hash> bad = *proof;
    flip_bit(bad[rng() % bad.size()], rng() % 256);
    EXPECT_FALSE(verify_inclusion(leaf, index, size, bad, root).is_ok());
    bad = *proof;
    bad.pop_back();
    EXPECT_FALSE(verify_inclusion(leaf, index, size, bad, root).is_ok());
  }
  std::vector<Hash> longer = *proof;
  longer.push_back(root);
  EXPECT_FALSE(verify_inclusion(leaf, index, size, longer, root).is_ok());
  if (size > 1) {
    // Another leaf's position: the same hash cannot be proved at two indexes.
    const uint64_t other = (index + 1 + rng() % (size - 1)) % size;
    EXPECT_FALSE(verify_inclusion(leaf, other, size, *proof, root).is_ok()) << other;
  }
  EXPECT_FALSE(verify_inclusion(leaf, size, size, *proof, root).is_ok());
}

void check_consistency(MemoryTree& tree, uint64_t size1, uint64_t size2, const Hash& root1,
                       const Hash& root2, std::mt19937_64& rng) {
  Result<std::vector<Hash>> proof = consistency_proof(size1, size2, tree);
  ASSERT_TRUE(proof.is_ok()) << proof.status().to_string();
  ASSERT_TRUE(verify_consistency(size1, size2, *proof, root1, root2).is_ok())
      << size1 << "->" << size2;

  Hash bad1 = root1, bad2 = root2;
  flip_bit(bad1, rng() % 256);
  flip_bit(bad2, rng() % 256);
  EXPECT_FALSE(verify_consistency(size1, size2, *proof, bad1, root2).is_ok());
  EXPECT_FALSE(verify_consistency(size1, size2, *proof, root1, bad2).is_ok());
  if (!proof->empty()) {
    std::vector<Hash> bad = *proof;
    flip_bit(bad[rng() % bad.size()], rng() % 256);
    EXPECT_FALSE(verify_consistency(size1, size2, bad, root1, root2).is_ok());
    bad = *proof;
    bad.pop_back();
    EXPECT_FALSE(verify_consistency(size1, size2, bad, root1, root2).is_ok());
  }
  std::vector<Hash> longer = *proof;
  longer.push_back(root1);
  EXPECT_FALSE(verify_consistency(size1, size2, longer, root1, root2).is_ok());
  if (size1 != size2) {
    EXPECT_FALSE(verify_consistency(size2, size1, *proof, root2, root1).is_ok());
    EXPECT_FALSE(verify_consistency(size1, size2, *proof, root2, root1).is_ok());
  }
}

TEST(MerkleProof, EveryPairUpTo300) {
  constexpr uint64_t kMax = 300;
  MemoryTree tree = build_tree(kMax);
  std::vector<Hash> roots(kMax + 1);
  for (uint64_t size = 0; size <= kMax; ++size) {
    Result<Hash> root = tree_root(size, tree);
    ASSERT_TRUE(root.is_ok());
    roots[size] = *root;
    if (size > 0) {
      ASSERT_EQ(*root, reference_root(tree, 0, size)) << size;
    }
  }
  ASSERT_EQ(roots[0], empty_root());
  std::mt19937_64 rng(9162);
  for (uint64_t size = 1; size <= kMax; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      check_inclusion(tree, index, size, roots[size], rng);
      if (HasFatalFailure()) return;
    }
    for (uint64_t size1 = 1; size1 <= size; ++size1) {
      check_consistency(tree, size1, size, roots[size1], roots[size], rng);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(MerkleProof, SampledPairsInAMillionLeafTree) {
  constexpr uint64_t kMax = 1'000'000;
  MemoryTree tree = build_tree(kMax);
  std::mt19937_64 rng(6962);
  std::vector<uint64_t> sizes = {1, 2, 255, 256, 257, 65535, 65536, 65537, 524288, kMax - 1, kMax};
  while (sizes.size() < 60) sizes.push_back(1 + rng() % kMax);
  std::vector<Hash> roots;
  for (uint64_t size : sizes) roots.push_back(*tree_root(size, tree));
  EXPECT_EQ(*tree_root(kMax, tree), reference_root(tree, 0, kMax));
  for (size_t s = 0; s < sizes.size(); ++s) {
    const uint64_t size = sizes[s];
    for (uint64_t index : {uint64_t{0}, size - 1, size / 2}) {
      check_inclusion(tree, index, size, roots[s], rng);
    }
    for (int i = 0; i < 40; ++i) check_inclusion(tree, rng() % size, size, roots[s], rng);
    for (size_t s1 = 0; s1 < sizes.size(); ++s1) {
      if (sizes[s1] <= size) check_consistency(tree, sizes[s1], size, roots[s1], roots[s], rng);
    }
    if (HasFatalFailure()) return;
  }
}

TEST(MerkleProof, GenerationRejectsBadArguments) {
  MemoryTree tree = build_tree(10);
  EXPECT_FALSE(inclusion_proof(10, 10, tree).is_ok());
  EXPECT_FALSE(inclusion_proof(0, 0, tree).is_ok());
  EXPECT_FALSE(consistency_proof(0, 5, tree).is_ok());
  EXPECT_FALSE(consistency_proof(6, 5, tree).is_ok());
  // A reader that lacks a node is an error, not a guess.
  EXPECT_EQ(inclusion_proof(0, 11, tree).status().code(), Code::kNotFound);
  EXPECT_EQ(tree_root(12, tree).status().code(), Code::kNotFound);
  // Equal sizes: an empty proof.
  Result<std::vector<Hash>> same = consistency_proof(7, 7, tree);
  ASSERT_TRUE(same.is_ok());
  EXPECT_TRUE(same->empty());
}

TEST(MerkleProof, RootFromInclusionProofRejectsWrongLengths) {
  MemoryTree tree = build_tree(5);
  Result<std::vector<Hash>> proof = inclusion_proof(4, 5, tree);
  ASSERT_TRUE(proof.is_ok());
  ASSERT_EQ(proof->size(), 1u);  // leaf 4 of 5 hangs right under the root
  EXPECT_EQ(*root_from_inclusion_proof(tree.node({0, 4}), 4, 5, *proof), *tree_root(5, tree));
  std::vector<Hash> longer = *proof;
  longer.push_back(Hash{});
  EXPECT_EQ(root_from_inclusion_proof(tree.node({0, 4}), 4, 5, longer).status().code(),
            Code::kVerificationFailed);
  EXPECT_EQ(root_from_inclusion_proof(tree.node({0, 4}), 4, 5, {}).status().code(),
            Code::kVerificationFailed);
  EXPECT_FALSE(root_from_inclusion_proof(tree.node({0, 4}), 5, 5, *proof).is_ok());
}

}  // namespace
}  // namespace medseal::merkle
