// tlog-cosignature v1.0.1: timestamped Ed25519 cosignatures (key type 0x04) on checkpoints.
// Pure, no I/O.
//
// Signed message: "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint note text.
// Signature bytes after the key id: 8-byte big-endian timestamp || 64-byte Ed25519 signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "note/note.h"

namespace medseal::note {

std::string cosignature_message(std::string_view checkpoint_text, uint64_t timestamp);

// `witness` must be a kCosignatureV1 key. The checkpoint text must be a valid checkpoint body and
// the timestamp at most 2^63-1 (the spec's limit); otherwise kInvalidArgument.
Result<NoteSignature> cosign(std::string_view checkpoint_text, const SignerKey& witness,
                             uint64_t timestamp);

// OK with the signed timestamp if `sig` is a valid cosignature of `checkpoint_text` by `witness`.
// kInvalidArgument if `witness` is no kCosignatureV1 key, `sig` names another (name, id) or the
// text is no checkpoint; kVerificationFailed if the signature is not 72 bytes, its timestamp
// exceeds 2^63-1 or it does not verify.
Result<uint64_t> verify_cosignature(std::string_view checkpoint_text, const VerifierKey& witness,
                                    const NoteSignature& sig);

}  // namespace medseal::note
