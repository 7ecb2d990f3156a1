#include "crypto/ed25519.h"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "crypto/random.h"

namespace medseal::crypto {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// OpenSSL failures here mean memory exhaustion or a broken library, not bad input: there is no
// sensible way to continue, so they throw.
[[noreturn]] void fail(const char* what) { throw std::runtime_error(what); }

PkeyPtr private_key(const Ed25519Seed& seed) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) fail("EVP_PKEY_new_raw_private_key failed");
  return key;
}

}  // namespace

Ed25519Seed ed25519_generate_seed() {
  Ed25519Seed seed;
  random_bytes(seed.data(), seed.size());
  return seed;
}

Ed25519PublicKey ed25519_public_key(const Ed25519Seed& seed) {
  PkeyPtr key = private_key(seed);
  Ed25519PublicKey pub;
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size())
    fail("EVP_PKEY_get_raw_public_key failed");
  return pub;
}

Ed25519Signature ed25519_sign(const Ed25519Seed& seed, std::string_view message) {
  PkeyPtr key = private_key(seed);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    fail("EVP_DigestSignInit failed");
  Ed25519Signature sig;
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != sig.size())
    fail("EVP_DigestSign failed");
  return sig;
}

bool ed25519_verify(const Ed25519PublicKey& pub, std::string_view message,
                    const Ed25519Signature& signature) {
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()));
  if (!key) return false;  // not a valid curve point encoding
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    fail("EVP_DigestVerifyInit failed");
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace medseal::crypto
