#include "note/keys.h"

#include <algorithm>
#include <cstdio>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "note/text.h"

namespace medseal::note {
namespace {

constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";

// The three '+'-separated parts shared by both encodings, decoded and checked except for the id,
// which for a signer key can only be checked after deriving the public key.
struct KeyParts {
  std::string name;
  uint32_t id = 0;
  KeyType type = KeyType::kEd25519;
  std::array<uint8_t, 32> material{};  // public key or seed
};

std::optional<uint32_t> parse_hex8(std::string_view s) {
  // Lowercase only: the spec fixes one spelling, and a key must have exactly one.
  if (s.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  return v;
}

std::string hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

bool known_type(uint8_t t) {
  return t == static_cast<uint8_t>(KeyType::kEd25519) ||
         t == static_cast<uint8_t>(KeyType::kCosignatureV1);
}

// `what` names the encoding in messages ("verifier key" or "signer key").
Result<KeyParts> parse_parts(std::string_view text, std::string_view what) {
  std::string w(what);
  // Names cannot contain '+' but base64 can, so split on the first two '+' only.
  size_t p1 = text.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return Status::invalid(w + ": want name+hex8+base64");
  KeyParts parts;
  parts.name = std::string(text.substr(0, p1));
  if (!valid_key_name(parts.name)) return Status::invalid(w + ": invalid key name");
  auto id = parse_hex8(text.substr(p1 + 1, p2 - p1 - 1));
  if (!id) return Status::invalid(w + ": key id is not 8 lowercase hex digits");
  parts.id = *id;
  auto raw = crypto::base64_decode(text.substr(p2 + 1));
  if (!raw) return Status::invalid(w + ": key is not canonical base64");
  if (raw->empty()) return Status::invalid(w + ": empty key");
  auto type = static_cast<uint8_t>((*raw)[0]);
  if (!known_type(type)) return Status::invalid(w + ": unknown key type " + std::to_string(type));
  parts.type = static_cast<KeyType>(type);
  if (raw->size() != 1 + parts.material.size()) return Status::invalid(w + ": key is not 32 bytes");
  std::copy(raw->begin() + 1, raw->end(), parts.material.begin());
  return parts;
}

std::string format_parts(std::string_view name, uint32_t id, KeyType type,
                         const std::array<uint8_t, 32>& material) {
  std::string raw(1, static_cast<char>(type));
  raw.append(reinterpret_cast<const char*>(material.data()), material.size());
  return std::string(name) + "+" + hex8(id) + "+" + crypto::base64_encode(raw);
}

}  // namespace

bool valid_key_name(std::string_view name) {
  if (name.empty()) return false;
  if (!text::clean_utf8(name)) return false;
  while (!name.empty()) {
    auto rune = text::decode_rune(name);  // cannot fail: clean_utf8 passed
    if (rune->value == '+' || text::is_unicode_space(rune->value)) return false;
    name.remove_prefix(rune->size);
  }
  return true;
}

uint32_t key_id(std::string_view name, KeyType type, const crypto::Ed25519PublicKey& key) {
  std::string prefix(name);
  prefix.push_back('\n');
  prefix.push_back(static_cast<char>(type));
  Hash h = crypto::sha256(prefix, {reinterpret_cast<const char*>(key.data()), key.size()});
  return uint32_t{h[0]} << 24 | uint32_t{h[1]} << 16 | uint32_t{h[2]} << 8 | uint32_t{h[3]};
}

Result<VerifierKey> parse_verifier_key(std::string_view text) {
  auto parts = parse_parts(text, "verifier key");
  MEDSEAL_RETURN_IF_ERROR(parts);
  VerifierKey key{std::move(parts->name), parts->id, parts->type, parts->material};
  if (key_id(key.name, key.type, key.public_key) != key.id) {
    return Status::invalid("verifier key: key id does not match the key");
  }
  return key;
}

Result<SignerKey> parse_signer_key(std::string_view text) {
  if (!text.starts_with(kPrivatePrefix)) {
    return Status::invalid("signer key: want PRIVATE+KEY+name+hex8+base64");
  }
  auto parts = parse_parts(text.substr(kPrivatePrefix.size()), "signer key");
  MEDSEAL_RETURN_IF_ERROR(parts);
  SignerKey key{std::move(parts->name), parts->id, parts->type, parts->material};
  // The id names the public key, so it can only be checked once that is derived.
  if (key_id(key.name, key.type, crypto::ed25519_public_key(key.seed)) != key.id) {
    return Status::invalid("signer key: key id does not match the key");
  }
  return key;
}

std::string format_verifier_key(const VerifierKey& key) {
  return format_parts(key.name, key.id, key.type, key.public_key);
}

std::string format_signer_key(const SignerKey& key) {
  return std::string(kPrivatePrefix) + format_parts(key.name, key.id, key.type, key.seed);
}

SignerKey generate_signer_key(std::string name, KeyType type) {
  return signer_key_from_seed(std::move(name), crypto::ed25519_generate_seed(), type);
}

SignerKey signer_key_from_seed(std::string name, const crypto::Ed25519Seed& seed, KeyType type) {
  uint32_t id = key_id(name, type, crypto::ed25519_public_key(seed));
  return SignerKey{std::move(name), id, type, seed};
}

VerifierKey verifier_of(const SignerKey& key) {
  return VerifierKey{key.name, key.id, key.type, crypto::ed25519_public_key(key.seed)};
}

}  // namespace medseal::note
