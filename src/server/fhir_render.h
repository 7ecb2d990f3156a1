// The JSON the FHIR REST API answers with, and the header values it sets. Pure functions.
//
// Stored resources are embedded in Bundles as their exact bytes: a Bundle is assembled as text
// around them (nlohmann only for the envelope's own small values), never by parsing and
// re-serializing a resource, so 1.00 stays 1.00 and key order stays as stored.
//
// AuditEvents are built from ledger statements (statement.h), R4 codes:
//   type      audit-event-type "rest"
//   subtype   restful-interaction: create, update, delete, read, vread, history-instance,
//             history-type, search-type (search, and reading an access trail), operation
//             (receipt, erase, token)
//   action    C create, R read/vread/history/receipt, U update, D delete/erase, E search, other
//   outcome   "0" ok, "4" denied (the request was refused: a minor failure, nothing happened)
//   id        "ledger-<index>", the index also as extension urn:medseal:ledger-index
//             (valueIdentifier with the same system and the index as value); the rule that
//             decided as extension urn:medseal:rule (valueCode, policy.h), and for break-glass
//             the clinician's reason as urn:medseal:break-glass-reason (valueString)
//   agent     one: who.display = who, requestor true, role [{text: role}], purposeOfUse
//             (v3-ActReason coding for known codes such as TREAT and BTG, text otherwise)
//   source    observer.display "medseal", type 4 (application server)
//   entity    each resource (what.reference) and each patient (role 1, patient)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "records/service.h"
#include "storage/store.h"

namespace medseal::server::fhir {

inline constexpr std::string_view kFhirJson = "application/fhir+json; charset=utf-8";
inline constexpr std::string_view kFhirVersion = "4.0.1";

// An OperationOutcome with one issue. `code` is from the R4 issue-type value set (invalid,
// not-found, deleted, conflict, forbidden, login, too-costly, not-supported, processing,
// exception, informational); `severity` is error, warning or information.
std::string operation_outcome(std::string_view code, std::string_view diagnostics,
                              std::string_view severity = "error");

// W/"<version>"
std::string format_etag(uint64_t version);

struct BundleResponse {
  std::string status;    // "201 Created"
  std::string location;  // "" to leave out
  std::string etag;
  uint64_t last_modified_ms = 0;
};

struct BundleEntry {
  std::string full_url;       // "" to leave out
  std::string resource;       // exact bytes to embed; "" to leave out
  std::string search_mode;    // "match", or "" to leave out
  std::string request_method; // "" to leave out the request
  std::string request_url;
  std::optional<BundleResponse> response;
};

struct BundleLink {
  std::string relation;  // "self", "next"
  std::string url;
};

// A Bundle of `type` (searchset, history, transaction-response) around the entries.
std::string render_bundle(std::string_view type, std::optional<uint64_t> total,
                          const std::vector<BundleLink>& links, const std::vector<BundleEntry>& entries);

// `base` is the absolute FHIR base URL ("http://host:port/fhir") in what follows.

// A search match: fullUrl and the resource bytes.
BundleEntry search_entry(const storage::RecordVersion& v, std::string_view base);
// A history entry: fullUrl, the resource (none for a deletion), request (POST for version 1,
// PUT for later versions, DELETE for deletions) and response.
BundleEntry history_entry(const storage::RecordVersion& v, std::string_view base);
// A transaction-response entry for one written version.
BundleEntry transaction_entry(const records::Written& w, std::string_view base);

// The AuditEvent of one access-trail entry (see the header comment).
std::string audit_event(const records::TrailEntry& e);

// The CapabilityStatement of this server: every type in `types` with the interactions and search
// parameters above (AuditEvent: search by patient only), transactions, JSON only.
std::string capability_statement(std::span<const std::string_view> types, std::string_view base,
                                 uint64_t now_ms);

}  // namespace medseal::server::fhir
