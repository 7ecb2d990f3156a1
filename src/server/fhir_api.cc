#include "server/fhir_api.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "records/resource.h"
#include "sentinel/integrity_page.h"
#include "server/disk_guard.h"
#include "server/fhir_query.h"
#include "server/fhir_render.h"
#include "server/json_log.h"
#include "util/time_format.h"

namespace medseal::server::fhir {
namespace {

constexpr uint64_t kNoIndex = UINT64_MAX;
constexpr size_t kMaxHostBytes = 255;
constexpr size_t kMaxDiagnosticsBytes = 300;
constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kNoStore = "private, no-store";

enum class Op {
  kMetadata, kTransaction, kCreate, kSearch, kTrail, kTypeHistory,
  kRead, kUpdate, kDelete, kInstanceHistory, kVread, kReceipt, kErase,
};

struct Route {
  Op op = Op::kMetadata;
  std::string type;
  std::string id;
  uint64_t version = 0;
};

// The statement op a refused request is recorded under (statement.h).
std::string_view op_name(Op op) {
  switch (op) {
    case Op::kTransaction: return "transaction";
    case Op::kCreate: return "create";
    case Op::kSearch: return "search";
    case Op::kTrail: return "audit";
    case Op::kTypeHistory:
    case Op::kInstanceHistory: return "history";
    case Op::kRead: return "read";
    case Op::kUpdate: return "update";
    case Op::kDelete: return "delete";
    case Op::kVread: return "vread";
    case Op::kReceipt: return "receipt";
    case Op::kErase: return "erase";
    case Op::kMetadata: break;
  }
  return "metadata";
}

Accepts accepts_of(Op op) {
  switch (op) {
    case Op::kSearch: return Accepts::kSearch;
    case Op::kTrail: return Accepts::kTrail;
    case Op::kTypeHistory:
    case Op::kInstanceHistory: return Accepts::kPaging;
    default: return Accepts::kNothing;
  }
}

std::string target_of(const Route& r) {
  if (r.op == Op::kTransaction) return "Bundle";
  std::string target = r.type;
  if (!r.id.empty()) target += "/" + r.id;
  if (r.version != 0) target += "/_history/" + std::to_string(r.version);
  return target;
}

Response error(int status, std::string_view code, std::string_view diagnostics) {
  return Response{status, std::string(kFhirJson), {}, operation_outcome(code, diagnostics)};
}

Response method_not_allowed(std::string_view allow) {
  Response r = error(405, "not-supported", "method not allowed here; allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", allow);
  return r;
}

// The result of routing: a route, or the reply that refuses the path.
struct Routed {
  std::optional<Route> route;
  Response refusal;
};

Routed refuse(Response r) { return Routed{std::nullopt, std::move(r)}; }

// Path segments, percent-decoded; nullopt for an empty segment or bad encoding.
std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path == "/") return segments;
  if (path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    auto decoded = parse_query_string("x=" + std::string(path.substr(0, slash)));
    if (!decoded || decoded->size() != 1 || decoded->front().value.empty()) return std::nullopt;
    segments.push_back(std::move(decoded->front().value));
    if (slash == std::string_view::npos || segments.size() > 6) return segments;
    path.remove_prefix(slash + 1);
  }
}

Routed route_type(std::string_view method, const std::string& type) {
  // A search of AuditEvent is the ledger's access trail; AuditEvents sent by clients (imported
  // from other systems) are stored, read and versioned like any other record.
  bool audit = type == "AuditEvent";
  if (method == "GET") return Routed{Route{audit ? Op::kTrail : Op::kSearch, type}, {}};
  if (method == "POST") return Routed{Route{Op::kCreate, type}, {}};
  return refuse(method_not_allowed("GET, POST"));
}

Routed route_instance(std::string_view method, const std::vector<std::string>& s) {
  Route r{Op::kRead, s[0], s[1]};
  if (s.size() == 2) {
    if (method == "GET") return Routed{r, {}};
    if (method == "PUT") return Routed{Route{Op::kUpdate, s[0], s[1]}, {}};
    if (method == "DELETE") return Routed{Route{Op::kDelete, s[0], s[1]}, {}};
    return refuse(method_not_allowed("GET, PUT, DELETE"));
  }
  if (s.size() == 3 && s[2] == "$erase") {
    if (method != "POST") return refuse(method_not_allowed("POST"));
    return Routed{Route{Op::kErase, s[0], s[1]}, {}};
  }
  if (s[2] != "_history" || s.size() > 5 || (s.size() == 5 && s[4] != "$receipt")) {
    return refuse(error(404, "not-supported", "no such FHIR interaction"));
  }
  if (method != "GET") return refuse(method_not_allowed("GET"));
  if (s.size() == 3) return Routed{Route{Op::kInstanceHistory, s[0], s[1]}, {}};
  auto version = records::parse_version_id(s[3]);
  if (!version) return refuse(error(400, "invalid", "a version id is a decimal number from 1, without leading zeros"));
  return Routed{Route{s.size() == 4 ? Op::kVread : Op::kReceipt, s[0], s[1], *version}, {}};
}

Routed route_request(std::string_view method, std::string_view path) {
  auto segments = split_path(path);
  if (!segments || segments->size() > 5) return refuse(error(404, "not-supported", "no such FHIR endpoint"));
  const std::vector<std::string>& s = *segments;
  if (s.empty()) {
    if (method == "POST") return Routed{Route{Op::kTransaction}, {}};
    return refuse(method_not_allowed("POST"));
  }
  if (s.size() == 1 && s[0] == "metadata") {
    if (method == "GET") return Routed{Route{Op::kMetadata}, {}};
    return refuse(method_not_allowed("GET"));
  }
  if (!records::is_valid_type_name(s[0]) || !records::is_r4_resource_type(s[0])) {
    return refuse(error(404, "not-supported", "not a FHIR R4 resource type"));
  }
  if (s.size() == 1) return route_type(method, s[0]);
  if (s.size() == 2 && s[1] == "_history") {
    if (method == "GET") return Routed{Route{Op::kTypeHistory, s[0]}, {}};
    return refuse(method_not_allowed("GET"));
  }
  if (!records::is_valid_id(s[1])) return refuse(error(400, "invalid", "not a valid FHIR id"));
  return route_instance(method, s);
}

struct RouteEntry {
  Op op;
  RouteSpec spec;
};
// Every Op once, in the order of routes(); /{type} GET is a search but of AuditEvent the trail.
constexpr std::array<RouteEntry, 13> kRoutes = {{
    {Op::kMetadata, {"GET", "/metadata", true}},
    {Op::kTransaction, {"POST", "", false}},
    {Op::kSearch, {"GET", "/{type}", false}},
    {Op::kTrail, {"GET", "/AuditEvent", false}},
    {Op::kCreate, {"POST", "/{type}", false}},
    {Op::kTypeHistory, {"GET", "/{type}/_history", false}},
    {Op::kRead, {"GET", "/{type}/{id}", false}},
    {Op::kUpdate, {"PUT", "/{type}/{id}", false}},
    {Op::kDelete, {"DELETE", "/{type}/{id}", false}},
    {Op::kErase, {"POST", "/{type}/{id}/$erase", false}},
    {Op::kInstanceHistory, {"GET", "/{type}/{id}/_history", false}},
    {Op::kVread, {"GET", "/{type}/{id}/_history/{vid}", false}},
    {Op::kReceipt, {"GET", "/{type}/{id}/_history/{vid}/$receipt", false}},
}};
static_assert(static_cast<size_t>(Op::kErase) + 1 == kRoutes.size(), "one route entry per Op");

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Calls `fn` with each comma- (or semicolon-) separated piece of a header value, trimmed.
template <typename Fn>
void for_each_piece(std::string_view value, char separator, Fn fn) {
  while (true) {
    size_t at = value.find(separator);
    fn(trim(value.substr(0, at)));
    if (at == std::string_view::npos) return;
    value.remove_prefix(at + 1);
  }
}

std::string_view media_type(std::string_view value) { return trim(value.substr(0, value.find(';'))); }

bool accepts_fhir_json(std::string_view accept) {
  if (trim(accept).empty()) return true;
  bool ok = false;
  for_each_piece(accept, ',', [&ok](std::string_view range) {
    std::string type = lower(media_type(range));
    ok = ok || type == "application/fhir+json" || type == "application/json" || type == "*/*" ||
         type == "application/*";
  });
  return ok;
}

// application/fhir+json or application/json; parameters allowed (fhirVersion), charset UTF-8 only.
bool is_json_content_type(std::string_view value) {
  std::string type = lower(media_type(value));
  if (type != "application/fhir+json" && type != "application/json") return false;
  bool ok = true;
  size_t semicolon = value.find(';');
  if (semicolon == std::string_view::npos) return true;
  for_each_piece(value.substr(semicolon + 1), ';', [&ok](std::string_view param) {
    std::string p = lower(param);
    if (p.starts_with("charset=") && p != "charset=utf-8" && p != "charset=\"utf-8\"") ok = false;
  });
  return ok;
}

bool is_host(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostBytes) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

// A header of 1..max_bytes printable ASCII characters (trimmed); `absent` when empty.
std::optional<std::string> parse_printable(std::string_view value, size_t max_bytes, std::string_view absent) {
  value = trim(value);
  if (value.empty()) return std::string(absent);
  if (value.size() > max_bytes) return std::nullopt;
  bool printable = std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (!printable) return std::nullopt;
  return std::string(value);
}

// Service errors -> status and issue code (see the header).
Response service_error(const Status& s) {
  std::string message = s.message().substr(0, kMaxDiagnosticsBytes);
  switch (s.code()) {
    case Code::kInvalidArgument: return error(400, "invalid", message);
    case Code::kNotFound: return error(404, "not-found", message);
    case Code::kPermissionDenied: return error(403, "forbidden", message);
    case Code::kFailedPrecondition: return error(412, "conflict", message);
    case Code::kConflict: return error(409, "conflict", message);
    case Code::kIoError:
      if (is_disk_low_refusal(s)) {  // counted and alerted once by the guard, not logged per request
        Response r = error(503, "transient", message);
        r.headers.emplace_back("Retry-After", "30");
        return r;
      }
      log_json("error", "storage failure in a FHIR request", {{"error", s.to_string()}});
      return error(503, "exception", "the store is unavailable; retry later");
    default:
      log_json("error", "internal failure in a FHIR request", {{"error", s.to_string()}});
      return error(500, "exception", "internal error");
  }
}

void add_version_headers(Response& r, const storage::RecordVersion& v) {
  r.headers.emplace_back("ETag", format_etag(v.version));
  r.headers.emplace_back("Last-Modified", format_http_date(v.updated_ms));
}

Response resource_reply(int status, const storage::RecordVersion& v) {
  Response r{status, std::string(kFhirJson), {}, v.bytes};
  add_version_headers(r, v);
  return r;
}

Response json_reply(std::string body) { return Response{200, std::string(kFhirJson), {}, std::move(body)}; }

Response text_reply(std::string body) {
  Response r{200, std::string(kTextPlain), {}, std::move(body)};
  r.headers.emplace_back("Cache-Control", kNoStore);
  return r;
}

// The links of a page that started at `page.offset` and holds `shown` entries of `total`
// (unknown total: a full page may have a next one).
std::vector<BundleLink> page_links(const std::string& url, const ParsedQuery& q, uint64_t shown,
                                   std::optional<uint64_t> total) {
  auto link = [&](const Paging& p) { return url + "?" + format_query_string(with_paging(q.params, p)); };
  std::vector<BundleLink> links = {{"self", link(q.paging)}};
  uint64_t next = q.paging.offset + q.paging.count;
  bool more = total ? next < *total : shown == q.paging.count;
  if (q.paging.count > 0 && more) links.push_back({"next", link(Paging{next, q.paging.count})});
  return links;
}

}  // namespace

struct Api::Impl {
  records::RecordService& records;
  identity::Authenticator& authenticator;
  std::vector<std::string_view> types;
  const Clock& clock;
  ApiOptions options;
  std::unique_ptr<identity::Authenticator> owned_authenticator;  // made for a bare TokenStore

  // The state of one request.
  struct Call {
    const Request& request;
    Route route;
    std::string base;  // http://host/fhir
    ParsedQuery query;
    records::Caller caller;
    uint64_t index = kNoIndex;
  };

  Response handle(const Request& req) {
    std::string method = req.method == "HEAD" ? "GET" : req.method;
    Routed routed = route_request(method, req.path);
    if (!routed.route) return routed.refusal;
    Call call{req, std::move(*routed.route), base_url(req.host), {}, {}, kNoIndex};
    return with_index(call, serve(call));
  }

  static Response with_index(const Call& call, Response r) {
    if (call.index != kNoIndex) r.headers.emplace_back(kLedgerIndexHeader, std::to_string(call.index));
    return r;
  }

  Response serve(Call& call) {
    const Request& req = call.request;
    bool receipt = call.route.op == Op::kReceipt;
    if (!receipt && !accepts_fhir_json(req.accept)) {
      return error(406, "not-supported", "this server answers application/fhir+json only");
    }
    if (call.route.op != Op::kMetadata) {
      if (auto refused = authenticate(call, op_name(call.route.op), target_of(call.route))) return *refused;
    }
    auto query = parse_parameters(req.query, accepts_of(call.route.op));
    if (!query) return error(400, "invalid", query.status().message());
    if (!query->format.empty() && !is_json_format(query->format)) {
      return error(406, "not-supported", "_format: this server speaks JSON only");
    }
    call.query = std::move(*query);
    if (call.route.op == Op::kMetadata) {
      return json_reply(capability_statement(types, call.base, clock.now_ms()));
    }
    if (method_has_body(call.route.op)) {
      if (!is_json_content_type(req.content_type)) {
        return error(415, "not-supported", "Content-Type must be application/fhir+json or application/json");
      }
      if (req.body.size() > options.max_body_bytes) return error(413, "too-costly", "the body is too large");
    }
    return dispatch(call);
  }

  static bool method_has_body(Op op) { return op == Op::kCreate || op == Op::kUpdate || op == Op::kTransaction; }

  // Sets call.caller, or returns the refusal (recorded in the ledger when it is a 401).
  std::optional<Response> authenticate(Call& call, std::string_view op, std::string_view target) {
    const Request& req = call.request;
    identity::Authentication auth =
        authenticator.authenticate({identity::bearer_token(req.authorization), req.certificate_person, req.source});
    if (auth.retry_after_s > 0) {
      Response r = error(429, "throttled", auth.reason);
      r.headers.emplace_back("Retry-After", std::to_string(auth.retry_after_s));
      return r;
    }
    if (!auth.who) {
      Status recorded = records.record_refusal("anonymous", op, target, auth.reason, &call.index);
      if (!recorded) return service_error(recorded);
      Response r = error(401, "login", auth.reason);
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    std::optional<identity::Identity> who = std::move(auth.who);
    auto purpose = parse_printable(call.request.purpose, kMaxPurposeBytes, "TREAT");
    if (!purpose) {
      return error(400, "invalid", std::string(kPurposeHeader) + " must be 1.." +
                                        std::to_string(kMaxPurposeBytes) + " printable ASCII characters");
    }
    auto break_glass = parse_printable(call.request.break_glass, kMaxBreakGlassBytes, "");
    if (!break_glass) {
      return error(400, "invalid", std::string(kBreakGlassHeader) + " must be 1.." +
                                        std::to_string(kMaxBreakGlassBytes) + " printable ASCII characters");
    }
    call.caller = records::Caller{std::move(*who), std::move(*purpose), std::move(*break_glass)};
    return std::nullopt;
  }

  std::string base_url(std::string_view host) const {
    return "http://" + std::string(is_host(host) ? host : options.default_host) + "/fhir";
  }

  Response dispatch(Call& call) {
    switch (call.route.op) {
      case Op::kTransaction: return transaction(call);
      case Op::kCreate: return create(call);
      case Op::kUpdate: return update(call);
      case Op::kDelete: return remove(call);
      case Op::kRead:
      case Op::kVread: return read(call);
      case Op::kSearch: return search(call);
      case Op::kTrail: return trail(call);
      case Op::kTypeHistory:
      case Op::kInstanceHistory: return history(call);
      case Op::kReceipt: return version_receipt(call);
      case Op::kErase: return erase(call);
      case Op::kMetadata: break;
    }
    return error(500, "exception", "internal error");
  }

  std::optional<uint64_t> if_match(const Call& call, std::optional<Response>* refusal) {
    if (trim(call.request.if_match).empty()) return std::nullopt;
    auto version = records::parse_version_etag(trim(call.request.if_match));
    if (!version) *refusal = error(400, "invalid", "If-Match must be W/\"<version>\"");
    return version;
  }

  Response written(const Call& call, const records::Written& w) {
    Response r = resource_reply(w.created ? 201 : 200, w.version);
    if (w.created) {
      const storage::RecordVersion& v = w.version;
      r.headers.emplace_back("Location", call.base + "/" + v.type + "/" + v.id + "/_history/" + std::to_string(v.version));
    }
    return r;
  }

  Response create(Call& call) {
    auto w = records.create(call.caller, call.route.type, call.request.body, &call.index);
    if (!w) return service_error(w.status());
    return written(call, *w);
  }

  Response update(Call& call) {
    std::optional<Response> refusal;
    auto expected = if_match(call, &refusal);
    if (refusal) return *refusal;
    auto w = records.update(call.caller, call.route.type, call.route.id, call.request.body, expected, &call.index);
    if (!w) return service_error(w.status());
    return written(call, *w);
  }

  Response remove(Call& call) {
    std::optional<Response> refusal;
    auto expected = if_match(call, &refusal);
    if (refusal) return *refusal;
    auto w = records.remove(call.caller, call.route.type, call.route.id, expected, &call.index);
    if (!w) return service_error(w.status());
    Response r{200, std::string(kFhirJson), {}, operation_outcome("informational", "deleted", "information")};
    add_version_headers(r, w->version);
    return r;
  }

  // POST [type]/[id]/$erase (admins): every version's content, statements and salts are deleted;
  // the ledger keeps its entries and records the erasure.
  Response erase(Call& call) {
    auto erased = records.erase(call.caller, call.route.type, call.route.id, &call.index);
    if (!erased) return service_error(erased.status());
    std::string indexes;
    for (uint64_t i : *erased) indexes += (indexes.empty() ? "" : ",") + std::to_string(i);
    return Response{200, std::string(kFhirJson), {},
                    operation_outcome("informational", "erased; ledger entries " + indexes, "information")};
  }

  Response read(Call& call) {
    const Route& r = call.route;
    auto v = records.read(call.caller, r.type, r.id, r.version, &call.index);
    if (!v) return service_error(v.status());
    if (!v->deleted) return resource_reply(200, *v);
    Response gone = error(410, "deleted", "the resource is deleted (version " + std::to_string(v->version) + ")");
    add_version_headers(gone, *v);
    return gone;
  }

  Response search(Call& call) {
    const ParsedQuery& q = call.query;
    storage::RecordQuery query{call.route.type, q.ids, q.patient, q.updated.from_ms, q.updated.to_ms,
                               false, q.paging.offset, q.paging.count};
    auto page = records.search(call.caller, query, &call.index);
    if (!page) return service_error(page.status());
    std::vector<BundleEntry> entries;
    for (const storage::RecordVersion& v : page->records) entries.push_back(search_entry(v, call.base));
    auto links = page_links(call.base + "/" + call.route.type, q, entries.size(), page->total);
    return json_reply(render_bundle("searchset", page->total, links, entries));
  }

  Response history(Call& call) {
    const Route& r = call.route;
    const Paging& p = call.query.paging;
    auto page = records.history(call.caller, r.type, r.id, p.offset, p.count, &call.index);
    if (!page) return service_error(page.status());
    std::vector<BundleEntry> entries;
    for (const storage::RecordVersion& v : page->records) entries.push_back(history_entry(v, call.base));
    std::string url = call.base + "/" + r.type + (r.id.empty() ? "" : "/" + r.id) + "/_history";
    auto links = page_links(url, call.query, entries.size(), page->total);
    return json_reply(render_bundle("history", page->total, links, entries));
  }

  Response trail(Call& call) {
    const ParsedQuery& q = call.query;
    auto trail = records.access_trail(call.caller, q.patient, q.paging.offset, q.paging.count, &call.index);
    if (!trail) return service_error(trail.status());
    std::vector<BundleEntry> entries;
    for (const records::TrailEntry& e : *trail) {
      BundleEntry entry;
      entry.full_url = call.base + "/AuditEvent/ledger-" + std::to_string(e.index);
      entry.resource = audit_event(e);
      entry.search_mode = "match";
      entries.push_back(std::move(entry));
    }
    auto links = page_links(call.base + "/AuditEvent", q, entries.size(), std::nullopt);
    return json_reply(render_bundle("searchset", std::nullopt, links, entries));
  }

  Response transaction(Call& call) {
    auto results = records.transaction(call.caller, call.request.body, &call.index);
    if (!results) return service_error(results.status());
    std::vector<BundleEntry> entries;
    for (const records::Written& w : *results) entries.push_back(transaction_entry(w, call.base));
    return json_reply(render_bundle("transaction-response", std::nullopt, {}, entries));
  }

  Response receipt_reply(std::string receipt) {
    if (!options.receipt_witnessed) return text_reply(std::move(receipt));
    std::string state = options.receipt_witnessed(receipt) ? "witnessed" : "pending";
    Response r = text_reply(std::move(receipt));
    r.headers.emplace_back(kWitnessedHeader, std::move(state));
    return r;
  }

  Response version_receipt(Call& call) {
    const Route& r = call.route;
    auto receipt = records.version_receipt(call.caller, r.type, r.id, r.version, &call.index);
    if (!receipt) return service_error(receipt.status());
    return receipt_reply(std::move(*receipt));
  }

  Response ledger_receipt(const Request& req, std::string_view index_text) {
    Call call{req, Route{Op::kReceipt}, base_url(req.host), {}, {}, kNoIndex};
    return with_index(call, serve_ledger_receipt(call, index_text));
  }

  Response serve_ledger_receipt(Call& call, std::string_view index_text) {
    if (call.request.method != "GET" && call.request.method != "HEAD") return method_not_allowed("GET, HEAD");
    auto index = records::parse_version_id(index_text);
    if (index_text == "0") index = 0;
    if (!index) return error(400, "invalid", "a receipt index is a decimal number without leading zeros");
    if (auto refused = authenticate(call, "receipt", "ledger/" + std::to_string(*index))) return *refused;
    if (!call.request.query.empty()) return error(400, "invalid", "receipts take no query parameters");
    auto receipt = records.receipt(call.caller, *index, &call.index);
    if (!receipt) return service_error(receipt.status());
    return receipt_reply(std::move(*receipt));
  }

  Response ledger_statements(const Request& req) {
    Call call{req, Route{Op::kReceipt}, base_url(req.host), {}, {}, kNoIndex};
    return with_index(call, serve_statements(call));
  }

  Response serve_statements(Call& call) {
    if (!options.statements_page) return error(404, "not-supported", "this server serves no statements pages");
    if (call.request.method != "GET" && call.request.method != "HEAD") return method_not_allowed("GET, HEAD");
    if (auto refused = authenticate(call, "integrity", "ledger/statements")) return *refused;
    auto range = statements_range(call.request.query);
    if (!range) return error(400, "invalid", range.status().message());
    Status recorded = records.record_integrity_read(call.caller, range->first, range->second, &call.index);
    if (!recorded) return service_error(recorded);
    auto page = options.statements_page(range->first, range->second);
    if (!page) return service_error(page.status().code() == Code::kInvalidArgument
                                        ? Status::internal(page.status().message()) : page.status());
    Response r{200, "application/json", {}, std::move(*page)};
    r.headers.emplace_back("Cache-Control", kNoStore);
    return r;
  }

  // from=N (decimal, no leading zeros) and count=K (1..1000), each exactly once, nothing else.
  static Result<std::pair<uint64_t, uint64_t>> statements_range(std::string_view query) {
    auto params = parse_query_string(query);
    if (!params) return params.status();
    std::optional<uint64_t> from, count;
    for (const QueryParam& p : *params) {
      std::optional<uint64_t>* slot = p.name == "from" ? &from : p.name == "count" ? &count : nullptr;
      if (slot == nullptr) return Status::invalid("statements pages take only from and count");
      if (*slot) return Status::invalid("from and count may each be given once");
      *slot = p.value == "0" ? std::optional<uint64_t>(0) : records::parse_version_id(p.value);
      if (!*slot) return Status::invalid("from and count are decimal numbers without leading zeros");
    }
    if (!from || !count) return Status::invalid("give from and count");
    if (*count == 0 || *count > sentinel::kMaxPageEntries) {
      return Status::invalid("count must be 1.." + std::to_string(sentinel::kMaxPageEntries));
    }
    return std::make_pair(*from, *count);
  }
};

std::span<const RouteSpec> routes() {
  static const std::array<RouteSpec, kRoutes.size()> specs = [] {
    std::array<RouteSpec, kRoutes.size()> out;
    for (size_t i = 0; i < kRoutes.size(); ++i) out[i] = kRoutes[i].spec;
    return out;
  }();
  return specs;
}

int route_index(std::string_view method, std::string_view path) {
  Routed routed = route_request(method, path);
  if (!routed.route) return -1;
  for (size_t i = 0; i < kRoutes.size(); ++i) {
    if (kRoutes[i].op == routed.route->op) return static_cast<int>(i);
  }
  return -1;
}

Api::Api(records::RecordService& records, identity::TokenStore& tokens, std::span<const std::string_view> types,
         const Clock& clock, ApiOptions options)
    : Api(records, *new identity::Authenticator(tokens), types, clock, std::move(options)) {
  impl_->owned_authenticator.reset(&impl_->authenticator);
}

Api::Api(records::RecordService& records, identity::Authenticator& authenticator,
         std::span<const std::string_view> types, const Clock& clock, ApiOptions options)
    : impl_(new Impl{records, authenticator, {types.begin(), types.end()}, clock, std::move(options), {}}) {}

Api::~Api() = default;

Response Api::handle(const Request& request) { return impl_->handle(request); }

Response Api::ledger_receipt(const Request& request, std::string_view index_text) {
  return impl_->ledger_receipt(request, index_text);
}

Response Api::ledger_statements(const Request& request) { return impl_->ledger_statements(request); }

Response Api::outcome(int status, std::string_view code, std::string_view diagnostics) {
  return error(status, code, diagnostics);
}

}  // namespace medseal::server::fhir
