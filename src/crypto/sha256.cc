#include "crypto/sha256.h"

#include <openssl/sha.h>

#include <cstring>

// The SHA256_* low-level calls are deprecated in OpenSSL 3 in favour of EVP, but EVP's per-call
// dispatch (and the one-shot SHA256(), which fetches the algorithm on every call) costs several
// times the compression itself on 65-byte Merkle nodes. The low-level context API is still
// supported in OpenSSL 3, uses the same SHA-NI/AVX code, and is our benchmarks' raw baseline.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace medseal::crypto {

Hash sha256(std::string_view data) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  Hash out;
  SHA256_Final(out.data(), &ctx);
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
  return sha256(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf));
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
