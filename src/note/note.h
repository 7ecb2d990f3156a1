// C2SP signed-note v1.0.0: parse, sign and open (verify) signed notes. Pure, no I/O.
//
// A note is UTF-8 text with no control characters but newline, ending in a newline, followed by a
// blank line and one or more "— name base64(keyid || signature)" lines. Parsing is strict: anything
// else is kInvalidArgument, never a best guess.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "note/keys.h"
#include "util/status.h"

namespace medseal::note {

constexpr size_t kMaxNoteSize = 1 << 20;   // bytes; the spec asks verifiers to accept 16 KiB
constexpr size_t kMaxSignatures = 100;     // the spec's minimum that verifiers must accept

struct NoteSignature {
  std::string name;
  uint32_t id = 0;
  std::string signature;  // the raw signature bytes after the 4-byte key id; at least 1 byte
};

struct Note {
  std::string text;  // ends with "\n"
  std::vector<NoteSignature> signatures;
};

// A signature that verified against a known key. For cosignatures, `timestamp` is the signed time
// (seconds since the Unix epoch); 0 for plain Ed25519.
struct VerifiedSignature {
  VerifierKey key;
  uint64_t timestamp = 0;
};

struct OpenedNote {
  std::string text;
  std::vector<VerifiedSignature> verified;    // in note order
  std::vector<NoteSignature> unknown;         // signatures by keys not given; not verified
};

Result<Note> parse_note(std::string_view message);
std::string format_note(const Note& note);

// One signature line, "— <name> <base64(key id || signature)>", without its newline. tlog-witness
// answers carry bare cosignature lines like these.
Result<NoteSignature> parse_signature_line(std::string_view line);
std::string format_signature_line(const NoteSignature& sig);

// Text that may be signed: valid UTF-8, no control characters but '\n', ends in '\n', at most
// kMaxNoteSize bytes.
Status check_note_text(std::string_view text);

// Signs `text` with each Ed25519 (type 0x01) key, in order.
Result<std::string> sign_note(std::string_view text, std::span<const SignerKey> signers);
// The signature line a key produces over `text` (type 0x01 only; cosignatures: cosignature.h).
Result<NoteSignature> sign_text(std::string_view text, const SignerKey& signer);

// Parses and verifies. Signatures whose (name, id) match a known key MUST verify, or the whole
// note is rejected (kVerificationFailed); others are returned as unknown. At least one known key
// must have signed, or kVerificationFailed. Cosignature keys (type 0x04) are verified over the
// tlog-cosignature/v1 message, so the text must be a checkpoint. A key that signed twice is
// verified twice but listed once in `verified` (policies count keys, not lines); identical
// unknown lines are listed once. Two different keys with the same (name, id) in `known` are
// kInvalidArgument. Any one known key suffices here, so a caller that needs a particular key (the
// log's, or k witnesses) must look for it in `verified`.
Result<OpenedNote> open_note(std::string_view message, std::span<const VerifierKey> known);

}  // namespace medseal::note
