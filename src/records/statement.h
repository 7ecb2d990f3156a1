// The statement of a ledger entry written by the record layer (DESIGN.md 4.3): a UTF-8 JSON object
// that the leaf commits to through SHA-256(salt || statement). It is written once, stored byte for
// byte and shown to patients and auditors; it holds ids and hashes, never record content.
//
// Fields, always in this order, absent ones left out:
//   "v"          1
//   "op"         create | update | delete | transaction (only when denied) | read | vread |
//                history | search | audit | receipt | erase | token | forensics (an auditor
//                reading the forensic report, sentinel/forensics.h) | integrity (a statements
//                page read by a monitor, sentinel/integrity_page.h) | any other operation a
//                refused request asked for (record_refusal)
//   "outcome"    "ok" or "denied"
//   "time"       Unix milliseconds, the same as the leaf's time
//   "who"        the acting identity's name
//   "role"       its role (identity.h)
//   "purpose"    why: "TREAT" by default, or what the caller sent (break-glass reasons included)
//   "resources"  ["Type/id/_history/N", ...]: what was written or read ("Type/id" or "Type" when
//                no version applies, as for a denied request)
//   "sha256"     writes: hex SHA-256 of the stored resource bytes (absent for a delete)
//   "patients"   ["Patient/id", ...]: whose data this is; the access trail is found by these
//   "rule"       the authorization rule that decided (policy.h): own-compartment, care-relation,
//                registration, consent, new-patient, no-compartment, break-glass, blocked,
//                no-relation, ...
//   "reason"     denied: why, in one line; break-glass: the reason the clinician gave
//   "erased"     erase: the ledger indexes whose salts and statements were deleted
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace medseal::records {

struct Statement {
  std::string op;
  bool denied = false;
  uint64_t time_ms = 0;
  std::string who;
  std::string role;
  std::string purpose;
  std::vector<std::string> resources;
  std::string sha256;
  std::vector<std::string> patients;
  std::string rule;
  std::string reason;
  std::vector<uint64_t> erased;
};

// The statement's JSON text, fields in the order above, no insignificant whitespace.
std::string format_statement(const Statement& s);
// Parses a statement written by format_statement; kInvalidArgument for anything else.
Result<Statement> parse_statement(std::string_view json);

}  // namespace medseal::records
