// What a tlog-witness remembers (tlog-witness v1.0.0): for each log, identified by its origin
// line, the latest checkpoint it verified and cosigned. Nothing else: a witness serving many
// rarely active logs keeps one row per log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace medseal::witness {

// A log's tree head as the witness last cosigned it.
struct LogState {
  uint64_t size = 0;
  Hash root{};
};

// The outcome of a compare-and-set: whether the new state was stored, and the state of the log
// after the call (the new one if stored; otherwise the one that made the expectation wrong, or
// nullopt if the witness has never cosigned for the log).
struct SetOutcome {
  bool stored = false;
  std::optional<LogState> current;
};

class WitnessStore {
 public:
  virtual ~WitnessStore() = default;

  // The latest cosigned state for `origin`; nullopt if there is none. Storage faults: kIoError.
  virtual Result<std::optional<LogState>> latest(std::string_view origin) = 0;

  // Atomically: if the stored size for `origin` (0 when nothing is stored) equals
  // `expected_size`, stores `next` and the signed `checkpoint_note` it came from, durably, before
  // returning `stored = true`. Otherwise changes nothing. The check and the write are one
  // transaction, so two callers that expect the same size can never both store (the rollback
  // race of tlog-witness). The caller has verified that `next` extends the stored state; a `next`
  // smaller than the stored size is refused all the same (kInternal), as a last line of defence.
  virtual Result<SetOutcome> compare_and_set(std::string_view origin, uint64_t expected_size,
                                             const LogState& next,
                                             std::string_view checkpoint_note) = 0;
};

}  // namespace medseal::witness
