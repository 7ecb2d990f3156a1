// tlog-checkpoint v1.0.0: the body of a log's signed note. Pure, no I/O.
//
//   <origin>\n<decimal size>\n<base64 root hash>\n[extension lines\n]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace medseal::note {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // each without its newline; non-empty
};

// Strict: a size with a sign or leading zero, a root that is not 32 bytes of canonical base64, an
// empty origin or extension line are kInvalidArgument.
Result<Checkpoint> parse_checkpoint(std::string_view text);
std::string format_checkpoint(const Checkpoint& checkpoint);

}  // namespace medseal::note
