// Byte types shared by every module.
//
// Binary data travels as std::string_view / std::string (binary-safe, cheap to slice) or as
// fixed-size arrays when the size is part of the contract (hashes, keys, signatures).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace medseal {

using Hash = std::array<uint8_t, 32>;  // a SHA-256 digest

inline std::string_view as_view(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// Copies exactly 32 bytes into a Hash; nullopt if the size is different.
inline std::optional<Hash> hash_from(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  Hash h;
  std::memcpy(h.data(), bytes.data(), 32);
  return h;
}

std::string hex_encode(std::string_view bytes);
inline std::string hex_encode(const Hash& h) { return hex_encode(as_view(h)); }
// Lower- or upper-case hex, even length; nullopt on anything else.
std::optional<std::string> hex_decode(std::string_view hex);

inline void put_be64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) { out[i] = static_cast<uint8_t>(v); v >>= 8; }
}
inline uint64_t get_be64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

}  // namespace medseal
