// Forensics (issue 6 section 6): "what data was stolen or tampered with", from the embedded store,
// read-only (no state file is written; a running server is not disturbed).
//
//  - altered: a full verification pass (sentinel.h verify_store, one alert per finding), one row
//    per finding and ledger index: its kind, the resource, what the ledger committed and what the
//    store holds now (hashes; null when there is none, e.g. a deleted row). Entries an erasure
//    entry deleted are listed too, as kind "erased": legitimate erasures, not findings.
//  - accesses: every access and access-denied entry whose time lies in [since, until], filtered
//    by identity (the statement's "who") or patient (one of its "patients").
//  - patients: per patient, how many of those accesses were allowed (data disclosed), first and
//    last; identities: the same per identity. (Refused accesses are listed, not counted.)
//
// to_json's shape is a contract (the portal's auditor panel reads it; keep the names):
//   {"generated","since","until","filter":{"identity":X}|{"patient":P}|{},
//    "altered":[{"index","kind","resource","committed","found","summary"}],
//    "accesses":[{"index","time","who","role","op","outcome","rule","purpose","resources","patients"}],
//    "patients":[{"patient","accesses","first","last"}],
//    "identities":[{"who","role","accesses","first","last"}]}
// Times are RFC 3339 UTC; "index" of an altered row is null for a finding about a tile or the
// log head that names no entry. Purposes and break-glass reasons appear only here, never in
// alerts: the report is for auditors, and reading it is itself recorded (records/service.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sentinel/sentinel.h"
#include "util/status.h"

namespace medseal::sentinel {

struct ForensicsQuery {
  std::optional<uint64_t> since_ms, until_ms;  // entry times, inclusive
  std::string identity;  // at most one of identity and patient
  std::string patient;   // "Patient/<id>"
};

// Checks a query: identity a valid identity name, patient "Patient/<valid id>", not both, since
// not after until. kInvalidArgument (one line, ids only) otherwise.
Status check_query(const ForensicsQuery& query);

// An RFC 3339 time ("2026-11-27T10:00:00Z", fractions and offsets allowed) or Unix
// milliseconds; nullopt for anything else.
std::optional<uint64_t> parse_time(std::string_view text);

struct AlteredRow {
  std::optional<uint64_t> index;
  std::string kind;  // an alert kind (checks.h, sentinel.h), or "erased"
  std::optional<std::string> resource, committed, found;
  std::string summary;
  bool erased() const { return kind == "erased"; }
};

struct AccessRow {
  uint64_t index = 0;
  uint64_t time_ms = 0;
  std::string who, role, op;
  bool denied = false;
  std::string rule, purpose;
  std::vector<std::string> resources, patients;
};

struct Touches {  // one patient's (who = the patient) or one identity's
  std::string who, role;
  uint64_t accesses = 0, first_ms = 0, last_ms = 0;
};

struct ForensicsReport {
  uint64_t generated_ms = 0;
  ForensicsQuery query;
  std::vector<AlteredRow> altered;
  std::vector<AccessRow> accesses;
  std::vector<Touches> patients, identities;
  // Rows of `altered` that are findings (not erasures): 0 means nothing was tampered with.
  size_t findings() const;
  // Every patient the report names, each once: whose trail records that it was read.
  std::vector<std::string> patients_named() const;
};

// The report over the store of `store` (db_path, state_path read if present, vkey); the state
// file is never written. `now_ms` is the "generated" time. An error means the store could not
// be read at all (a finding is not an error).
Result<ForensicsReport> build_forensics(const SentinelOptions& store, const ForensicsQuery& query,
                                        uint64_t now_ms);

nlohmann::json to_json(const ForensicsReport& report);

}  // namespace medseal::sentinel
