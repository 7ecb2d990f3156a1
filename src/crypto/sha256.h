// SHA-256 through OpenSSL.
//
// The one-shot functions are the hot path of Merkle hashing: they allocate nothing.
#pragma once

#include <string_view>

#include "util/bytes.h"

namespace medseal::crypto {

Hash sha256(std::string_view data);
// SHA-256 of the concatenation a || b (saves a copy for prefix-and-payload hashes).
Hash sha256(std::string_view a, std::string_view b);
// SHA-256 of prefix || a || b with a one-byte prefix (the RFC 6962 node hash shape).
Hash sha256(uint8_t prefix, const Hash& a, const Hash& b);

// Incremental hashing for large or streamed inputs.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  Hash finish();  // the object may not be used afterwards

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace medseal::crypto
