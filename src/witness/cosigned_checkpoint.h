// A cosigned checkpoint: the log's signed checkpoint note with witness cosignature lines
// (tlog-cosignature v1.0.1) appended, as /log/checkpoint serves it and receipts carry it. Readers
// that do not know the witness keys see the cosignatures as unknown signatures (signed-note).
//
// The newest one that reached quorum is kept in one small file (DATA/cosigned-checkpoint) so a
// restarted server serves it at once and never serves an older one.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "note/checkpoint.h"
#include "note/keys.h"
#include "note/note.h"
#include "util/status.h"

namespace medseal::witness {

inline constexpr std::string_view kCosignedCheckpointFile = "cosigned-checkpoint";

// `log_note` with `cosignatures` appended after its signatures, in order. kInvalidArgument if
// `log_note` is no signed note or the result has more than note::kMaxSignatures lines.
Result<std::string> add_cosignatures(std::string_view log_note,
                                     std::span<const note::NoteSignature> cosignatures);

struct CosignedCheckpoint {
  note::Checkpoint checkpoint;
  std::string note;       // verbatim
  size_t witnesses = 0;   // distinct witness keys whose cosignatures verified
};

// Opens a cosigned checkpoint: signed by `log_key` with the log's origin, every signature by a
// key in `witnesses` valid, and at least `quorum` of those keys present. kVerificationFailed
// otherwise; signatures by other keys are ignored.
Result<CosignedCheckpoint> open_cosigned(std::string_view cosigned_note,
                                         const note::VerifierKey& log_key,
                                         std::span<const note::VerifierKey> witnesses,
                                         size_t quorum);

}  // namespace medseal::witness
