// Writes the server acknowledged through the FHIR API, and the checks that they survived: for the
// crash loop and the disk-full test, which restart or starve a real `medseal serve` and must then
// find every acknowledged write present, readable and verifiable.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "note/keys.h"

namespace medseal::testing {

// A write answered 200 or 201 with X-Medseal-Ledger-Index: what the client was promised.
struct AckedWrite {
  uint64_t index = 0;    // the ledger entry of the write
  std::string type, id;  // the record
  uint64_t version = 0;  // from the ETag W/"N"
  std::string body;      // the bytes answered, which every later vread must return
  std::string name() const { return type + "/" + id + "/_history/" + std::to_string(version); }
};

// The acknowledgement in `res`, an answer to POST /fhir/TYPE or PUT /fhir/TYPE/ID; nullopt when
// it is not one (no answer, another status, a header missing). `type` is the URL's.
std::optional<AckedWrite> acked_write(const httplib::Result& res, const std::string& type);

// Checks through the API that `w` is there: the vread answers 200 with the same bytes, and the
// version's $receipt verifies under `vkey`, is for entry w.index, and its statement records a
// create or update of w.name() whose SHA-256 is that of the bytes. "" when all hold, otherwise a
// one-line reason naming the write (ids and indexes only).
std::string check_acked_write(httplib::Client& client, const httplib::Headers& auth,
                              const note::VerifierKey& vkey, const AckedWrite& w);

// The log served at `log_url` (http://host/log) passes tlog_client::verify_log under `vkey`,
// extending `old_checkpoint` when it is not empty. Returns the verified checkpoint note, or "" and
// sets `*why`.
std::string verify_served_log(const std::string& log_url, const note::VerifierKey& vkey,
                              const std::string& old_checkpoint, std::string* why);

// An Authorization header with a fresh bearer token from `medseal token issue` on `data` (works
// while a server runs there); fails the test and gives an empty token if issuing fails.
httplib::Headers issue_bearer(const std::string& data, const std::string& role, const std::string& name);

// Load for these tests: a heart-rate Observation of `patient` ("Patient/x"), unique per `client`
// and write number `n`; with `id` (for a PUT) the body names it.
std::string observation_json(const std::string& patient, int client, int n, const std::string& id);
// The integer in environment variable `name`, or `fallback` when unset or empty.
int env_int(const char* name, int fallback);

// Milliseconds since `start` on the steady clock.
inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Alert JSON lines ({"alert":...}) in a process's stderr text.
size_t alert_lines(const std::string& stderr_text);

}  // namespace medseal::testing
