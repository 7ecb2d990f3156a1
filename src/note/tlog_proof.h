// c2sp.org/tlog-proof@v1: the text form of a self-contained inclusion proof (medseal's receipt).
// Pure, no I/O. Only the format lives here: verification composes merkle/ and note/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace medseal::note {

constexpr size_t kMaxProofHashes = 64;  // a uint64 tree size needs at most 64

struct TlogProof {
  std::optional<std::string> extra;  // decoded bytes of the "extra" line, if present; non-empty
  uint64_t index = 0;
  std::vector<Hash> inclusion;       // from the leaf's sibling up to the root's child
  std::string checkpoint;            // the signed checkpoint note, verbatim
};

// Strict: the header line, canonical base64, an index without leading zeros, 32-byte hashes, the
// blank separator line and a checkpoint note that parses (its signatures are not verified here).
// An "extra" line must carry at least one byte: no extra data is spelled by omitting the line.
Result<TlogProof> parse_tlog_proof(std::string_view text);
std::string format_tlog_proof(const TlogProof& proof);

}  // namespace medseal::note
