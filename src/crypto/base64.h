// Standard base64 (RFC 4648 section 4) with padding, strict: decoding rejects whitespace, missing
// or extra padding, characters outside the alphabet and non-zero unused bits, so every byte string
// has exactly one accepted encoding (signatures and hashes must not have look-alikes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace medseal::crypto {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace medseal::crypto
