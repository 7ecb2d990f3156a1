// The FHIR R4 REST API at /fhir and the authenticated receipts at /ledger/receipts, as request ->
// reply functions over records::RecordService: what to answer lives here, how to speak HTTP in
// http_server.cc.
//
// Routes (paths after /fhir; HEAD is GET without a body):
//   GET    /metadata                              CapabilityStatement (anonymous)
//   POST   /  (or "")                             transaction Bundle -> transaction-response
//   POST   /[type]                                create: 201, Location, ETag, Last-Modified
//   GET    /[type]?patient&_id&_lastUpdated       search -> searchset (total, self, next)
//   GET    /[type]/_history                       type history
//   GET    /[type]/[id]                           read (410 for a deleted record)
//   PUT    /[type]/[id]                           update (If-Match; 201 for a new id)
//   DELETE /[type]/[id]                           delete: 200 with an informational outcome
//   GET    /[type]/[id]/_history                  instance history
//   GET    /[type]/[id]/_history/[vid]            vread
//   GET    /[type]/[id]/_history/[vid]/$receipt   the version's receipt, text/plain
//   GET    /AuditEvent?patient=Patient/x          the access trail as AuditEvents
// AuditEvents are built from the ledger, never stored: writes to AuditEvent are 405.
//
// Status decisions:
//   - A type that is not an R4 resource type is 404 (FHIR: "resource type not supported"),
//     checked before authentication as it involves no data. A bad id or version is 400.
//   - Then Accept (406, not checked for the text/plain receipts), then authentication: no
//     credentials, or an unknown, expired or revoked token, or a client certificate of nobody in
//     the users registry, is 401 (WWW-Authenticate: Bearer) and is recorded in the ledger
//     (RecordService::record_refusal); a bad X-Medseal-Purpose (1..64 printable ASCII, default
//     TREAT) or X-Medseal-Break-Glass (1..200 printable ASCII: the break-glass reason, see
//     records/policy.h) is 400. Then query parameters (400; _format other than JSON is 406), Content-Type
//     of POST and PUT (415), body size (413; cpp-httplib refuses larger bodies before this).
//   - The resource's type and id against the URL's, and If-Match, are checked by the service
//     (400 and 412).
//   - Service errors: kInvalidArgument 400, kNotFound 404, kPermissionDenied 403,
//     kFailedPrecondition 412, kConflict 409, kIoError 503, kInternal and anything else 500.
//     Diagnostics are the service's one-line messages (ids, never content) for 4xx and a fixed
//     text for 5xx, whose details go to the operational log.
//
// Every reply of a request that appended a ledger entry carries X-Medseal-Ledger-Index.
// With witnesses (ApiOptions::receipt_witnessed), a receipt reply carries X-Medseal-Witnessed:
// "witnessed" when its checkpoint has the witness quorum's cosignatures, "pending" when it is
// proven against the log's newer checkpoint that no quorum has cosigned yet: fetch it again later.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "identity/authenticator.h"
#include "identity/token_store.h"
#include "records/service.h"
#include "util/clock.h"

namespace medseal::server::fhir {

inline constexpr size_t kMaxBodyBytes = 8 << 20;
inline constexpr size_t kMaxPurposeBytes = 64;
inline constexpr std::string_view kLedgerIndexHeader = "X-Medseal-Ledger-Index";
inline constexpr std::string_view kPurposeHeader = "X-Medseal-Purpose";
// A clinician without a care relation breaks the glass by sending a reason here (records/policy.h).
inline constexpr std::string_view kBreakGlassHeader = "X-Medseal-Break-Glass";
inline constexpr size_t kMaxBreakGlassBytes = 200;
inline constexpr std::string_view kWitnessedHeader = "X-Medseal-Witnessed";

// A request as the HTTP layer hands it over. Absent headers are empty strings.
struct Request {
  std::string method;
  std::string path;   // after "/fhir", not percent-decoded: "", "/metadata", "/Patient/1"
  std::string query;  // after '?', raw
  std::string body;
  std::string host;   // the Host header, for absolute URLs
  std::string authorization;
  std::string accept;
  std::string content_type;
  std::string if_match;
  std::string purpose;  // X-Medseal-Purpose
  std::string break_glass;  // X-Medseal-Break-Glass
  std::string certificate_person;  // of a client certificate the TLS layer verified; "" when none
  std::string source;              // the peer's address, for limiting failed authentications
};

struct Response {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ApiOptions {
  std::string default_host = "localhost";  // for absolute URLs when Host is missing or odd
  size_t max_body_bytes = kMaxBodyBytes;
  // Set when the log has witnesses: true if a receipt carries the quorum's cosignatures.
  std::function<bool(std::string_view receipt)> receipt_witnessed;
  // Set when the store can be read row by row (the embedded store): the statements page of
  // entries [from, from + count) as JSON (sentinel/integrity_page.h). Unset: /ledger/statements
  // is 404.
  std::function<Result<std::string>(uint64_t from, uint64_t count)> statements_page;
};

// One kind of request Api::handle serves: its method, its path after /fhir as a template with
// {type}, {id} and {vid}, and whether it answers without authentication. HEAD is served wherever
// GET is. The list sits beside the router in fhir_api.cc, and route_index() says which entry a
// request is routed as, so a test can hold the two together.
struct RouteSpec {
  std::string_view method;
  std::string_view path;
  bool anonymous = false;
};
std::span<const RouteSpec> routes();
// The index in routes() of the route `method` and `path` (after /fhir) take; -1 when refused.
int route_index(std::string_view method, std::string_view path);

class Api {
 public:
  // `types`: the resource types the CapabilityStatement lists. Everything outlives the Api.
  Api(records::RecordService& records, identity::TokenStore& tokens,
      std::span<const std::string_view> types, const Clock& clock, ApiOptions options = {});
  // Authenticated by `authenticator` (tokens, client certificates, failure limits): a refusal
  // for too many failures is 429 with Retry-After, not recorded in the ledger.
  Api(records::RecordService& records, identity::Authenticator& authenticator,
      std::span<const std::string_view> types, const Clock& clock, ApiOptions options = {});
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // A request under /fhir. Thread-safe.
  Response handle(const Request& request);
  // GET /ledger/receipts/<index_text>: a receipt (text/plain), authenticated like /fhir; errors
  // as OperationOutcome.
  Response ledger_receipt(const Request& request, std::string_view index_text);

  // GET /ledger/statements?from=N&count=K (K 1..1000): the statements page for remote monitors,
  // application/json, to auditors and admins (others 403, recorded); authenticated like receipts.
  // Bad or unknown parameters are 400. One access entry per call (RecordService::
  // record_integrity_read), its index in X-Medseal-Ledger-Index.
  Response ledger_statements(const Request& request);

  // An OperationOutcome reply, for errors the HTTP layer finds itself (413, 404).
  static Response outcome(int status, std::string_view code, std::string_view diagnostics);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medseal::server::fhir
