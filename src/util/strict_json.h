// JSON parsing for formats medseal writes itself (statements, token lines), stricter than
// nlohmann's defaults: besides RFC 8259 (valid UTF-8, no comments, no trailing data), a key that
// appears twice in one object is refused rather than silently taking the last value, and nesting
// is bounded. Nothing here throws.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace medseal {

// kInvalidArgument with a one-line reason (a byte offset, never content) for anything else.
Result<nlohmann::json> parse_strict_json(std::string_view text, size_t max_depth = 16);

// True when `hex` is exactly 64 lower-case hex digits (a SHA-256 as medseal writes it).
bool is_sha256_hex(std::string_view hex);

}  // namespace medseal
