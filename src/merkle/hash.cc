#include "merkle/hash.h"

#include "crypto/sha256.h"

namespace medseal::merkle {

// RFC 9162 2.1.1: the domain-separation prefixes that keep a leaf from being passed off as a node.
namespace {
constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;
}  // namespace

// RFC 9162 2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)).
Hash leaf_hash(std::string_view leaf) {
  const char prefix = static_cast<char>(kLeafPrefix);
  return crypto::sha256(std::string_view(&prefix, 1), leaf);
}

// RFC 9162 2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])). The crypto helper hashes
// one 65-byte stack buffer in a single call: no allocation, no incremental-context overhead.
Hash node_hash(const Hash& left, const Hash& right) {
  return crypto::sha256(kNodePrefix, left, right);
}

// RFC 9162 2.1.1: the hash of an empty list is the hash of an empty string.
Hash empty_root() {
  // Computed once: it is a constant, and verifiers ask for it on every empty-tree check.
  static const Hash kEmpty = crypto::sha256(std::string_view());
  return kEmpty;
}

}  // namespace medseal::merkle
