// A verifier's witness policy for a checkpoint: signed by the log's key, and cosigned by at least
// `quorum` of a given set of witness keys (tlog-cosignature v1.0.1, or plain Ed25519 witnesses).
// Pure, no I/O.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "note/checkpoint.h"
#include "note/keys.h"
#include "note/note.h"
#include "util/status.h"

namespace medseal::note {

struct QuorumReport {
  Checkpoint checkpoint;
  std::vector<VerifiedSignature> cosigned;  // the given witnesses that cosigned, in note order
};

// kInvalidArgument for a policy that cannot be met or is ambiguous: quorum of 0 or more than the
// witnesses given, two witness keys with one (name, id), a witness with the log key's (name, id).
// kVerificationFailed, with a one-line reason, when the note is not signed by `log_key`, its body is
// not a checkpoint of the log key's origin, any signature by a given key does not verify (a forged
// cosignature spoils the note, as note::open_note decides), or fewer than `quorum` witnesses
// cosigned (the reason names those that did).
Result<QuorumReport> check_witness_quorum(std::string_view checkpoint_note, const VerifierKey& log_key,
                                          std::span<const VerifierKey> witnesses, size_t quorum);

// The same checks without a quorum: the report lists whichever of `witnesses` cosigned (maybe
// none). For callers that count cosignatures themselves, e.g. against a quorum that changed.
Result<QuorumReport> open_cosigned_checkpoint(std::string_view checkpoint_note, const VerifierKey& log_key,
                                              std::span<const VerifierKey> witnesses);

}  // namespace medseal::note
