// Public test keys the fuzz targets verify with, from ../shared/testdata (note/vectors.json and the
// tessera log's README), so seeds built from that data carry signatures that verify.
#pragma once

#include <string_view>
#include <vector>

#include "note/keys.h"

namespace medseal::fuzz {

// The tessera test log's key (testdata/tessera-log), also a note vector's.
inline constexpr std::string_view kTesseraLogKey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
inline constexpr std::string_view kNoteVectorKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
inline constexpr std::string_view kCosignerVectorKey =
    "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN";

inline note::VerifierKey test_key(std::string_view text) {
  auto key = note::parse_verifier_key(text);
  if (!key) __builtin_trap();  // the constants above are valid keys
  return *key;
}

inline const std::vector<note::VerifierKey>& test_keys() {
  static const std::vector<note::VerifierKey> keys = {
      test_key(kTesseraLogKey), test_key(kNoteVectorKey), test_key(kCosignerVectorKey)};
  return keys;
}

}  // namespace medseal::fuzz
