#include "crypto/sha256.h"

#include <openssl/sha.h>

#include <cstring>

// The SHA256_* low-level calls are deprecated in OpenSSL 3 in favour of EVP, but EVP's per-call
// dispatch costs more than the compression itself on 65-byte Merkle nodes. The low-level API is
// still supported in OpenSSL 3 and is what "raw OpenSSL SHA-256" means in our benchmarks.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace medseal::crypto {

Hash sha256(std::string_view data) {
  Hash out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

Hash sha256(std::string_view a, std::string_view b) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, a.data(), a.size());
  SHA256_Update(&ctx, b.data(), b.size());
  Hash out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash sha256(uint8_t prefix, const Hash& a, const Hash& b) {
  unsigned char buf[65];
  buf[0] = prefix;
  std::memcpy(buf + 1, a.data(), 32);
  std::memcpy(buf + 33, b.data(), 32);
  Hash out;
  SHA256(buf, sizeof buf, out.data());
  return out;
}

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(new Impl) { SHA256_Init(&impl_->ctx); }
Sha256::~Sha256() { delete impl_; }
void Sha256::update(std::string_view data) { SHA256_Update(&impl_->ctx, data.data(), data.size()); }
Hash Sha256::finish() {
  Hash out;
  SHA256_Final(out.data(), &impl_->ctx);
  return out;
}

}  // namespace medseal::crypto
