#include "support/witness_log.h"

#include <gtest/gtest.h>

#include <span>

#include "crypto/base64.h"
#include "merkle/hash.h"
#include "merkle/memory_tree.h"
#include "merkle/proof.h"
#include "note/checkpoint.h"
#include "note/note.h"

namespace medseal::testing {
namespace {

merkle::MemoryTree tree_of(uint64_t size, char fork) {
  merkle::MemoryTree tree;
  for (uint64_t i = 0; i < size; ++i) tree.append(merkle::leaf_hash(fork + std::to_string(i)));
  return tree;
}

}  // namespace

crypto::Ed25519Seed filled_seed(uint8_t fill) {
  crypto::Ed25519Seed s;
  s.fill(fill);
  return s;
}

std::string add_checkpoint_body(uint64_t old, const std::vector<Hash>& proof, const std::string& note) {
  std::string text = "old " + std::to_string(old) + "\n";
  for (const Hash& h : proof) text += crypto::base64_encode(as_view(h)) + "\n";
  return text + "\n" + note;
}

std::string WitnessedLog::checkpoint_text(uint64_t size, char fork) const {
  merkle::MemoryTree tree = tree_of(size, fork);
  auto root = merkle::tree_root(size, tree);
  EXPECT_TRUE(root.is_ok());
  return note::format_checkpoint({key.name, size, root ? *root : Hash{}, {}});
}

std::string WitnessedLog::checkpoint(uint64_t size, char fork, const note::SignerKey* signer) const {
  auto note = note::sign_note(checkpoint_text(size, fork), std::span(signer ? signer : &key, 1));
  EXPECT_TRUE(note.is_ok());
  return note ? *note : "";
}

std::vector<Hash> WitnessedLog::proof(uint64_t from, uint64_t to, char fork) const {
  if (from == 0 || from == to) return {};
  merkle::MemoryTree tree = tree_of(to, fork);
  auto p = merkle::consistency_proof(from, to, tree);
  EXPECT_TRUE(p.is_ok());
  return p ? *p : std::vector<Hash>{};
}

std::string WitnessedLog::body(uint64_t old, uint64_t size, char fork) const {
  return add_checkpoint_body(old, proof(old, size, fork), checkpoint(size, fork));
}

}  // namespace medseal::testing
