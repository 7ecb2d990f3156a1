// Publications (after Guardtime's, printed in newspapers): a log's checkpoint reduced to a short code
// a person can copy from print, and the machine-readable file of every publication. Pure, no I/O.
//
// A publication pins a tree: origin, size and root hash. Whoever holds the code of a checkpoint the
// log's operator published (and others reprinted) can verify a receipt against it with no key at
// all, years after the log's key was rotated or lost (medseal extend, medseal verify --publication).
//
// The code, printed on one line (a printer may break it at a space):
//
//   <origin> <size> <root: 52 Crockford base32 characters in 13 groups of 4, joined by '-'> <check>
//   example.org/medseal 4711 9F3K-...-Q8M0 1ZK
//
// Crockford base32 (0-9 A-Z without I L O U) because it has no characters people confuse; its
// decoder takes i/I/l/L as 1 and o/O as 0. The check is 3 Crockford characters holding
//   sum over i of (i + 1) * S[i]  mod 32749          (32749 is the largest prime below 32^3)
// over the canonical text S = "<origin> <size> <root without dashes, upper case>". Every character
// of S is printable ASCII (codes 32..126) and S is shorter than 32749, so, p being prime, changing
// one character changes the sum by (i + 1) * delta with 0 < |delta| < 95 and 0 < i + 1 < p: never 0
// mod p; swapping two adjacent different characters changes it by their difference: never 0 either.
// So every single-character typo and every adjacent transposition is caught (exhaustively tested in
// publication_test.cc); other errors slip through with probability about 1/32749, and then the
// verification fails anyway, because the root is the trust anchor, not the check.
//
// The parser tolerates only what a person copying from paper varies: upper/lower case and the
// Crockford look-alikes in the root and check, dashes anywhere in the root, and any run of
// whitespace (spaces, tabs, line breaks) between fields or groups. The origin is exact (key names
// are case-sensitive) and must be printable ASCII here; the size is decimal without leading zeros.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "note/checkpoint.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::ledger {

constexpr size_t kMaxPublishedOriginBytes = 200;
constexpr size_t kMaxPublicationCodeBytes = 1024;

struct Publication {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  friend bool operator==(const Publication&, const Publication&) = default;
};

Publication publication_of(const note::Checkpoint& checkpoint);
// The checkpoint a publication pins (no extension lines).
note::Checkpoint checkpoint_of(const Publication& publication);

// The printed code. kInvalidArgument if the origin cannot be printed (not a valid key name of
// printable ASCII, or longer than kMaxPublishedOriginBytes).
Result<std::string> format_publication_code(const Publication& publication);
// Strict, as described above: kInvalidArgument with a one-line reason naming the field at fault.
Result<Publication> parse_publication_code(std::string_view code);

// One line of a publications file (JSON Lines, one object per line, oldest first):
//   {"origin":..., "size":N, "root":"<base64>", "code":"<code>", "checkpoint":"<signed note>",
//    "published":"2026-11-27T12:00:00.000Z"}
struct PublicationRecord {
  Publication publication;
  std::string code;             // format_publication_code(publication)
  std::string checkpoint_note;  // the signed (and cosigned) checkpoint, verbatim
  uint64_t published_ms = 0;    // when the operator published it, Unix milliseconds
};

// The record for a signed checkpoint note published at `published_ms`. kInvalidArgument if the
// note's body is no checkpoint or its origin cannot be printed. Signatures are the caller's.
Result<PublicationRecord> make_publication_record(std::string_view checkpoint_note, uint64_t published_ms);
// One JSON line, ending in '\n'.
std::string format_publication_record(const PublicationRecord& record);
// Strict: exactly the six keys with the right types; the code must parse and the note's checkpoint
// must both equal origin, size and root (the note's signatures are not verified here); the time is
// format_instant's exact form. Per origin, sizes never decrease and two publications of one size
// have one root (else kVerificationFailed: the log forked or rolled back). A missing final newline
// and an empty file are fine; blank lines are not. kInvalidArgument names the line.
Result<std::vector<PublicationRecord>> parse_publications_file(std::string_view text);

}  // namespace medseal::ledger
