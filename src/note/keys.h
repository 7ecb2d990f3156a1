// C2SP signed-note keys: key ids, the "name+hex8+base64" verifier key and the
// "PRIVATE+KEY+name+hex8+base64" signer key encodings. Ed25519 (type 0x01) for notes and
// checkpoints, timestamped Ed25519 (type 0x04, tlog-cosignature/v1) for witnesses. Pure, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/ed25519.h"
#include "util/status.h"

namespace medseal::note {

enum class KeyType : uint8_t {
  kEd25519 = 0x01,         // signed-note v1.0.0
  kCosignatureV1 = 0x04,   // tlog-cosignature v1.0.1
};

struct VerifierKey {
  std::string name;
  uint32_t id = 0;
  KeyType type = KeyType::kEd25519;
  crypto::Ed25519PublicKey public_key{};
};

struct SignerKey {
  std::string name;
  uint32_t id = 0;
  KeyType type = KeyType::kEd25519;
  crypto::Ed25519Seed seed{};
};

// A key name is non-empty valid UTF-8 with no Unicode spaces, no '+' and no control characters.
bool valid_key_name(std::string_view name);
// First 4 bytes, big-endian, of SHA-256(name || 0x0A || type || public key).
uint32_t key_id(std::string_view name, KeyType type, const crypto::Ed25519PublicKey& key);

// Strict parsers: a bad name, a key id that is not 8 lowercase hex digits or does not match the
// key, an unknown type, non-canonical base64 or a wrong key length are kInvalidArgument. Base64
// may contain '+' and names may not, so the text is split on its first two '+' only (after the
// "PRIVATE+KEY+" prefix of a signer key).
Result<VerifierKey> parse_verifier_key(std::string_view text);
Result<SignerKey> parse_signer_key(std::string_view text);
std::string format_verifier_key(const VerifierKey& key);
std::string format_signer_key(const SignerKey& key);

// `name` must be a valid_key_name (signing with an invalid one fails). The id is derived here, so
// keys made by these functions or the parsers are always self-consistent.
SignerKey generate_signer_key(std::string name, KeyType type = KeyType::kEd25519);
SignerKey signer_key_from_seed(std::string name, const crypto::Ed25519Seed& seed,
                               KeyType type = KeyType::kEd25519);
VerifierKey verifier_of(const SignerKey& key);

}  // namespace medseal::note
