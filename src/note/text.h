// Small text rules shared by the note/ parsers (internal to note/; other modules use the public
// headers). Pure, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace medseal::note::text {

// Decodes the UTF-8 sequence at the start of `s`. Returns the code point and its length, or
// nullopt for anything RFC 3629 forbids: truncated or overlong sequences, surrogates
// (U+D800..U+DFFF), stray continuation bytes and code points above U+10FFFF.
struct Rune {
  char32_t value;
  size_t size;
};
std::optional<Rune> decode_rune(std::string_view s);

// True if `s` is valid UTF-8 and has no ASCII control character (below U+0020) other than '\n'
// (signed-note v1.0.0, "Format"). Returns the byte offset of the first offence in `*bad_at`.
bool clean_utf8(std::string_view s, size_t* bad_at = nullptr);

// Unicode White_Space, the set Go's unicode.IsSpace uses (note key names must not contain any).
bool is_unicode_space(char32_t r);

// ASCII decimal with no sign and no leading zero (except "0" itself) that fits in uint64.
std::optional<uint64_t> parse_decimal(std::string_view s);

// Splits `s` at the first '\n': the line (without it) and the rest. nullopt if there is no '\n'.
struct Split {
  std::string_view line;
  std::string_view rest;
};
std::optional<Split> next_line(std::string_view s);

}  // namespace medseal::note::text
