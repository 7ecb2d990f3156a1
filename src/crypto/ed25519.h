// Ed25519 (RFC 8032, pure) through OpenSSL. Deterministic: the same seed and message always give
// the same signature, which is what lets tests reproduce other implementations byte for byte.
#pragma once

#include <array>
#include <string_view>

#include "util/status.h"

namespace medseal::crypto {

using Ed25519Seed = std::array<uint8_t, 32>;       // the private key as RFC 8032 defines it
using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

Ed25519Seed ed25519_generate_seed();  // 32 bytes from the OS CSPRNG
Ed25519PublicKey ed25519_public_key(const Ed25519Seed& seed);
Ed25519Signature ed25519_sign(const Ed25519Seed& seed, std::string_view message);
// True only for a valid signature of exactly this message under this key.
bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message,
                    const Ed25519Signature& signature);

}  // namespace medseal::crypto
