// Helpers shared by the libFuzzer targets in fuzz/ (one program per *_fuzz.cc, see README's
// "Fuzzing and sanitizers"). A target fails by crashing: a sanitizer report, or FUZZ_CHECK when a
// property that must hold for every input (a parse and its format agree) does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace medseal::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits off the first byte to choose among the parsers a target covers, so one corpus and one
// program serve a family of formats; the rest is the input.
struct Selected {
  uint8_t choice = 0;
  std::string_view rest;
};
inline Selected select(std::string_view input) {
  if (input.empty()) return {};
  return {static_cast<uint8_t>(input[0]), input.substr(1)};
}

// Splits `input` at the first `separator`: [before, after]; after is empty without one.
inline std::pair<std::string_view, std::string_view> split_once(std::string_view input,
                                                                std::string_view separator) {
  const size_t at = input.find(separator);
  if (at == std::string_view::npos) return {input, {}};
  return {input.substr(0, at), input.substr(at + separator.size())};
}

}  // namespace medseal::fuzz

#define FUZZ_CHECK(condition)                                                   \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, \
                   #condition);                                                 \
      std::abort();                                                             \
    }                                                                           \
  } while (0)
