#include "note/text.h"

namespace medseal::note::text {

std::optional<Rune> decode_rune(std::string_view s) {
  if (s.empty()) return std::nullopt;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t b0 = byte(0);
  if (b0 < 0x80) return Rune{b0, 1};
  size_t size;
  char32_t r;
  char32_t min;  // the smallest code point of this length: anything below is overlong
  if ((b0 & 0xe0) == 0xc0) {
    size = 2, r = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    size = 3, r = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    size = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return std::nullopt;  // a continuation byte or 0xf8..0xff cannot start a sequence
  }
  if (s.size() < size) return std::nullopt;
  for (size_t i = 1; i < size; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return std::nullopt;
    r = r << 6 | (byte(i) & 0x3f);
  }
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return std::nullopt;
  return Rune{r, size};
}

bool clean_utf8(std::string_view s, size_t* bad_at) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: most notes are ASCII apart from the em dashes.
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\n') break;
      ++i;
      continue;
    }
    auto rune = decode_rune(s.substr(i));
    if (!rune) break;
    i += rune->size;
  }
  if (bad_at != nullptr) *bad_at = i;
  return i == s.size();
}

bool is_unicode_space(char32_t r) {
  if (r <= 0x20) return r == 0x20 || (r >= 0x09 && r <= 0x0d);
  if (r >= 0x2000 && r <= 0x200a) return true;
  for (char32_t space : {0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000}) {
    if (r == space) return true;
  }
  return false;
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s[0] == '0' && s.size() > 1) return std::nullopt;  // one spelling per number
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<Split> next_line(std::string_view s) {
  size_t nl = s.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  return Split{s.substr(0, nl), s.substr(nl + 1)};
}

}  // namespace medseal::note::text
