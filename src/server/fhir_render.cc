#include "server/fhir_render.h"

#include <array>
#include <nlohmann/json.hpp>

#include "util/time_format.h"

namespace medseal::server::fhir {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kAuditEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr std::string_view kRestfulInteraction = "http://hl7.org/fhir/restful-interaction";
constexpr std::string_view kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr std::string_view kLedgerIndexSystem = "urn:medseal:ledger-index";

// Invalid UTF-8 (which nothing we render should hold) is replaced rather than thrown on.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }
std::string json_string(std::string_view text) { return dump(Json(text)); }

std::string relative_url(const storage::RecordVersion& v) { return v.type + "/" + v.id; }
std::string version_url(const storage::RecordVersion& v) {
  return relative_url(v) + "/_history/" + std::to_string(v.version);
}

std::string render_response(const BundleResponse& r) {
  Json j = {{"status", r.status}};
  if (!r.location.empty()) j["location"] = r.location;
  j["etag"] = r.etag;
  j["lastModified"] = format_instant(r.last_modified_ms);
  return dump(j);
}

std::string render_entry(const BundleEntry& e) {
  std::string out = "{";
  auto member = [&out](std::string_view name, std::string_view json) {
    if (out.size() > 1) out += ',';
    out += json_string(name) + ":";
    out += json;
  };
  if (!e.full_url.empty()) member("fullUrl", json_string(e.full_url));
  if (!e.resource.empty()) member("resource", e.resource);
  if (!e.search_mode.empty()) member("search", dump(Json{{"mode", e.search_mode}}));
  if (!e.request_method.empty()) member("request", dump(Json{{"method", e.request_method}, {"url", e.request_url}}));
  if (e.response) member("response", render_response(*e.response));
  return out + "}";
}

// --- AuditEvent

struct Interaction {
  std::string_view subtype;
  std::string_view action;
};

Interaction interaction_of(const records::Statement& s) {
  const std::string& op = s.op;
  if (op == "create") return {"create", "C"};
  if (op == "update") return {"update", "U"};
  if (op == "delete") return {"delete", "D"};
  if (op == "read") return {"read", "R"};
  if (op == "vread") return {"vread", "R"};
  if (op == "history") {
    bool instance = !s.resources.empty() && s.resources.front().find('/') != std::string::npos;
    return {instance ? "history-instance" : "history-type", "R"};
  }
  if (op == "search" || op == "audit") return {"search-type", "E"};
  if (op == "receipt") return {"operation", "R"};
  if (op == "erase") return {"operation", "D"};
  return {"operation", "E"};
}

Json coding(std::string_view system, std::string_view code) { return Json{{"system", system}, {"code", code}}; }

Json purpose_of_use(std::string_view purpose) {
  static constexpr std::array<std::string_view, 10> kKnown = {
      "TREAT", "ETREAT", "BTG", "HPAYMT", "HOPERAT", "PUBHLTH", "HRESCH", "PATRQT", "HSYSADMIN", "HCOMPL"};
  for (std::string_view code : kKnown) {
    if (purpose == code) return Json{{"coding", Json::array({coding(kActReason, code)})}};
  }
  return Json{{"text", purpose}};
}

Json audit_agent(const records::Statement& s) {
  Json agent = Json::object();
  if (!s.role.empty()) agent["role"] = Json::array({Json{{"text", s.role}}});
  agent["who"] = Json{{"display", s.who.empty() ? "anonymous" : s.who}};
  agent["requestor"] = true;
  if (!s.purpose.empty()) agent["purposeOfUse"] = Json::array({purpose_of_use(s.purpose)});
  return agent;
}

Json audit_entities(const records::Statement& s) {
  Json entities = Json::array();
  for (const std::string& r : s.resources) {
    // Only "Type/id[/_history/N]" is a literal reference; "Type" alone (a refused search) and
    // other targets of refused requests are only displayed.
    bool reference = !r.empty() && r[0] >= 'A' && r[0] <= 'Z' && r.find('/') != std::string::npos;
    Json what = reference ? Json{{"reference", r}} : Json{{"display", r}};
    entities.push_back(Json{{"what", what},
                            {"type", coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2")}});
  }
  for (const std::string& p : s.patients) {
    entities.push_back(Json{{"what", Json{{"reference", p}}},
                            {"type", coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1")},
                            {"role", coding("http://terminology.hl7.org/CodeSystem/object-role", "1")}});
  }
  return entities;
}

// --- CapabilityStatement

Json interactions(std::initializer_list<std::string_view> codes) {
  Json out = Json::array();
  for (std::string_view code : codes) out.push_back(Json{{"code", code}});
  return out;
}

Json search_param(std::string_view name, std::string_view type, std::string_view doc) {
  return Json{{"name", name}, {"type", type}, {"documentation", doc}};
}

Json record_resource(std::string_view type) {
  return Json{
      {"type", type},
      {"interaction", interactions({"read", "vread", "update", "delete", "history-instance",
                                    "history-type", "create", "search-type"})},
      {"versioning", "versioned-update"},
      {"readHistory", true},
      {"updateCreate", true},
      {"conditionalCreate", false},
      {"conditionalRead", "not-supported"},
      {"conditionalUpdate", false},
      {"conditionalDelete", "not-supported"},
      {"searchParam",
       Json::array({search_param("_id", "token", "Comma-separated logical ids"),
                    search_param("_lastUpdated", "date", "Prefixes eq, gt, ge, lt, le; repeat for AND"),
                    search_param("patient", "reference", "Patient/<id> or <id>: the patient compartment")})}};
}

// AuditEvents sent by clients are records like any other; searching them gives the ledger's trail.
Json audit_event_resource() {
  Json r = record_resource("AuditEvent");
  r["documentation"] = "Search (patient=Patient/<id>, required) returns the patient's access trail, "
                       "built from the ledger; AuditEvents sent by clients are stored as records";
  r["searchParam"] = Json::array({search_param("patient", "reference", "Required: Patient/<id>")});
  return r;
}

}  // namespace

std::string operation_outcome(std::string_view code, std::string_view diagnostics, std::string_view severity) {
  Json issue = {{"severity", severity}, {"code", code}, {"diagnostics", diagnostics}};
  return dump(Json{{"resourceType", "OperationOutcome"}, {"issue", Json::array({issue})}});
}

std::string format_etag(uint64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::string render_bundle(std::string_view type, std::optional<uint64_t> total,
                          const std::vector<BundleLink>& links, const std::vector<BundleEntry>& entries) {
  Json envelope = {{"resourceType", "Bundle"}, {"type", type}};
  if (total) envelope["total"] = *total;
  if (!links.empty()) {
    Json link = Json::array();
    for (const BundleLink& l : links) link.push_back(Json{{"relation", l.relation}, {"url", l.url}});
    envelope["link"] = link;
  }
  std::string out = dump(envelope);
  if (entries.empty()) return out;
  out.pop_back();  // the envelope's closing brace: the entries follow as text
  out += ",\"entry\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out += ',';
    out += render_entry(entries[i]);
  }
  return out + "]}";
}

BundleEntry search_entry(const storage::RecordVersion& v, std::string_view base) {
  BundleEntry e;
  e.full_url = std::string(base) + "/" + relative_url(v);
  e.resource = v.bytes;
  e.search_mode = "match";
  return e;
}

BundleEntry history_entry(const storage::RecordVersion& v, std::string_view base) {
  BundleEntry e;
  e.full_url = std::string(base) + "/" + relative_url(v);
  if (!v.deleted) e.resource = v.bytes;
  bool first = v.version == 1 && !v.deleted;
  e.request_method = v.deleted ? "DELETE" : (first ? "POST" : "PUT");
  e.request_url = first ? v.type : relative_url(v);
  e.response = BundleResponse{first ? "201 Created" : "200 OK", "", format_etag(v.version), v.updated_ms};
  return e;
}

BundleEntry transaction_entry(const records::Written& w, std::string_view base) {
  const storage::RecordVersion& v = w.version;
  BundleEntry e;
  e.full_url = std::string(base) + "/" + relative_url(v);
  e.response = BundleResponse{w.created ? "201 Created" : "200 OK", version_url(v), format_etag(v.version),
                              v.updated_ms};
  return e;
}

std::string audit_event(const records::TrailEntry& e) {
  const records::Statement& s = e.statement;
  std::string index = std::to_string(e.index);
  Interaction i = interaction_of(s);
  Json event = {
      {"resourceType", "AuditEvent"},
      {"id", "ledger-" + index},
      {"extension", Json::array({Json{{"url", kLedgerIndexSystem},
                                      {"valueIdentifier", Json{{"system", kLedgerIndexSystem}, {"value", index}}}}})},
      {"type", Json{{"system", kAuditEventType}, {"code", "rest"}, {"display", "RESTful Operation"}}},
      {"subtype", Json::array({Json{{"system", kRestfulInteraction}, {"code", i.subtype}}})},
      {"action", i.action},
      {"recorded", format_instant(s.time_ms != 0 ? s.time_ms : e.entry.time_ms)},
      {"outcome", s.denied ? "4" : "0"}};
  if (!s.rule.empty()) event["extension"].push_back(Json{{"url", "urn:medseal:rule"}, {"valueCode", s.rule}});
  if (s.rule == "break-glass" && !s.reason.empty()) {
    event["extension"].push_back(Json{{"url", "urn:medseal:break-glass-reason"}, {"valueString", s.reason}});
  }
  if (s.denied && !s.reason.empty()) event["outcomeDesc"] = s.reason;
  event["agent"] = Json::array({audit_agent(s)});
  event["source"] = Json{{"observer", Json{{"display", "medseal"}}},
                         {"type", Json::array({coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4")})}};
  Json entities = audit_entities(s);
  if (!entities.empty()) event["entity"] = entities;
  return dump(event);
}

std::string capability_statement(std::span<const std::string_view> types, std::string_view base, uint64_t now_ms) {
  Json resources = Json::array();
  for (std::string_view type : types) {
    resources.push_back(type == "AuditEvent" ? audit_event_resource() : record_resource(type));
  }
  Json rest = {
      {"mode", "server"},
      {"documentation",
       "Every read and write is a ledger entry. GET [type]/[id]/_history/[vid]/$receipt returns the "
       "receipt (c2sp.org/tlog-proof) of a version as text/plain. POST [type]/[id]/$erase (admins) "
       "erases every version's content; the ledger records the erasure."},
      {"security", Json{{"cors", false}, {"description", "Authorization: Bearer <token>; only metadata is anonymous"}}},
      {"resource", resources},
      {"interaction", interactions({"transaction"})}};
  Json capability = {
      {"resourceType", "CapabilityStatement"},
      {"status", "active"},
      {"date", format_instant(now_ms)},
      {"publisher", "medseal"},
      {"kind", "instance"},
      {"software", Json{{"name", "medseal"}}},
      {"implementation", Json{{"description", "medseal FHIR R4 API"}, {"url", base}}},
      {"fhirVersion", kFhirVersion},
      {"format", Json::array({"json", "application/fhir+json"})},
      {"rest", Json::array({rest})}};
  return dump(capability);
}

}  // namespace medseal::server::fhir
