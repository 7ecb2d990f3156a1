// What the FHIR API renders: OperationOutcomes, Bundles that embed stored bytes exactly,
// AuditEvents built from statements, the CapabilityStatement and ETags.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "records/resource.h"
#include "server/fhir_render.h"

namespace medseal::server::fhir {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kBase = "http://example.org:8080/fhir";
// Bytes a re-serializer would change: 1.00, 1E-22, key order, spacing, non-ASCII text.
constexpr std::string_view kOddBytes =
    R"({"resourceType":"Observation", "id":"o1","valueQuantity":{"value":1.00,"unit":"µg"},"z":1E-22,"a":[ ]})";

Json parse(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

storage::RecordVersion version(uint64_t n, bool deleted = false) {
  storage::RecordVersion v;
  v.type = "Observation";
  v.id = "o1";
  v.version = n;
  v.ledger_index = 40 + n;
  v.updated_ms = 1709210096123;  // 2024-02-29T12:34:56.123Z
  v.deleted = deleted;
  if (!deleted) v.bytes = std::string(kOddBytes);
  return v;
}

TEST(FhirRender, OperationOutcomeHasOneIssue) {
  Json j = parse(operation_outcome("not-found", "Patient/1 does not exist"));
  EXPECT_EQ(j["resourceType"], "OperationOutcome");
  ASSERT_EQ(j["issue"].size(), 1u);
  EXPECT_EQ(j["issue"][0]["severity"], "error");
  EXPECT_EQ(j["issue"][0]["code"], "not-found");
  EXPECT_EQ(j["issue"][0]["diagnostics"], "Patient/1 does not exist");
  Json info = parse(operation_outcome("informational", "deleted", "information"));
  EXPECT_EQ(info["issue"][0]["severity"], "information");
  // Quotes and control characters in a message are escaped, not passed through.
  Json odd = parse(operation_outcome("invalid", "a \"b\"\n"));
  EXPECT_EQ(odd["issue"][0]["diagnostics"], "a \"b\"\n");
}

TEST(FhirRender, SearchsetEmbedsTheExactBytes) {
  std::vector<BundleEntry> entries = {search_entry(version(2), kBase)};
  std::vector<BundleLink> links = {{"self", std::string(kBase) + "/Observation?_count=1&_offset=0"},
                                   {"next", std::string(kBase) + "/Observation?_count=1&_offset=1"}};
  std::string text = render_bundle("searchset", 7, links, entries);
  EXPECT_NE(text.find(std::string("\"resource\":") + std::string(kOddBytes)), std::string::npos) << text;
  Json j = parse(text);
  EXPECT_EQ(j["resourceType"], "Bundle");
  EXPECT_EQ(j["type"], "searchset");
  EXPECT_EQ(j["total"], 7);
  EXPECT_EQ(j["link"][0]["relation"], "self");
  EXPECT_EQ(j["link"][1]["url"], std::string(kBase) + "/Observation?_count=1&_offset=1");
  ASSERT_EQ(j["entry"].size(), 1u);
  EXPECT_EQ(j["entry"][0]["fullUrl"], std::string(kBase) + "/Observation/o1");
  EXPECT_EQ(j["entry"][0]["search"]["mode"], "match");
  EXPECT_EQ(j["entry"][0]["resource"]["valueQuantity"]["unit"], "µg");
}

TEST(FhirRender, EmptyBundleHasNoEntries) {
  Json j = parse(render_bundle("searchset", 0, {}, {}));
  EXPECT_EQ(j["total"], 0);
  EXPECT_FALSE(j.contains("entry"));
  EXPECT_FALSE(j.contains("link"));
  EXPECT_FALSE(parse(render_bundle("transaction-response", std::nullopt, {}, {})).contains("total"));
}

TEST(FhirRender, HistoryEntriesSayWhatHappened) {
  std::vector<BundleEntry> entries = {history_entry(version(3, true), kBase), history_entry(version(2), kBase),
                                      history_entry(version(1), kBase)};
  std::string text = render_bundle("history", 3, {}, entries);
  Json j = parse(text);
  ASSERT_EQ(j["entry"].size(), 3u);
  const Json& deleted = j["entry"][0];
  EXPECT_FALSE(deleted.contains("resource"));
  EXPECT_EQ(deleted["fullUrl"], std::string(kBase) + "/Observation/o1");
  EXPECT_EQ(deleted["request"]["method"], "DELETE");
  EXPECT_EQ(deleted["request"]["url"], "Observation/o1");
  EXPECT_EQ(deleted["response"]["status"], "200 OK");
  EXPECT_EQ(deleted["response"]["etag"], "W/\"3\"");
  EXPECT_EQ(deleted["response"]["lastModified"], "2024-02-29T12:34:56.123Z");
  EXPECT_EQ(j["entry"][1]["request"]["method"], "PUT");
  EXPECT_EQ(j["entry"][2]["request"]["method"], "POST");
  EXPECT_EQ(j["entry"][2]["request"]["url"], "Observation");
  EXPECT_EQ(j["entry"][2]["response"]["status"], "201 Created");
  // Both stored versions embedded byte for byte.
  size_t first = text.find(kOddBytes);
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(text.find(kOddBytes, first + 1), std::string::npos);
}

TEST(FhirRender, TransactionResponseEntries) {
  records::Written created{version(1), true};
  records::Written updated{version(4), false};
  Json j = parse(render_bundle("transaction-response", std::nullopt, {},
                               {transaction_entry(created, kBase), transaction_entry(updated, kBase)}));
  EXPECT_EQ(j["type"], "transaction-response");
  EXPECT_EQ(j["entry"][0]["response"]["status"], "201 Created");
  EXPECT_EQ(j["entry"][0]["response"]["location"], "Observation/o1/_history/1");
  EXPECT_EQ(j["entry"][0]["response"]["etag"], "W/\"1\"");
  EXPECT_EQ(j["entry"][1]["response"]["status"], "200 OK");
  EXPECT_EQ(j["entry"][1]["response"]["location"], "Observation/o1/_history/4");
  EXPECT_FALSE(j["entry"][0].contains("resource"));
}

records::TrailEntry trail_entry(std::string op, bool denied = false) {
  records::TrailEntry e;
  e.index = 1234;
  e.entry.kind = denied ? ledger::EntryKind::kAccessDenied : ledger::EntryKind::kAccess;
  e.entry.time_ms = 1709210096123;
  e.statement.op = std::move(op);
  e.statement.denied = denied;
  e.statement.time_ms = 1709210096123;
  e.statement.who = "dr.house";
  e.statement.role = "clinician";
  e.statement.purpose = "TREAT";
  e.statement.resources = {"Observation/o1/_history/2"};
  e.statement.patients = {"Patient/p1"};
  return e;
}

TEST(FhirRender, AuditEventOfARead) {
  Json j = parse(audit_event(trail_entry("read")));
  EXPECT_EQ(j["resourceType"], "AuditEvent");
  EXPECT_EQ(j["id"], "ledger-1234");
  EXPECT_EQ(j["extension"][0]["url"], "urn:medseal:ledger-index");
  EXPECT_EQ(j["extension"][0]["valueIdentifier"]["system"], "urn:medseal:ledger-index");
  EXPECT_EQ(j["extension"][0]["valueIdentifier"]["value"], "1234");
  EXPECT_EQ(j["type"]["system"], "http://terminology.hl7.org/CodeSystem/audit-event-type");
  EXPECT_EQ(j["type"]["code"], "rest");
  EXPECT_EQ(j["subtype"][0]["system"], "http://hl7.org/fhir/restful-interaction");
  EXPECT_EQ(j["subtype"][0]["code"], "read");
  EXPECT_EQ(j["action"], "R");
  EXPECT_EQ(j["recorded"], "2024-02-29T12:34:56.123Z");
  EXPECT_EQ(j["outcome"], "0");
  EXPECT_FALSE(j.contains("outcomeDesc"));
  const Json& agent = j["agent"][0];
  EXPECT_EQ(agent["who"]["display"], "dr.house");
  EXPECT_EQ(agent["requestor"], true);
  EXPECT_EQ(agent["role"][0]["text"], "clinician");
  EXPECT_EQ(agent["purposeOfUse"][0]["coding"][0]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActReason");
  EXPECT_EQ(agent["purposeOfUse"][0]["coding"][0]["code"], "TREAT");
  EXPECT_EQ(j["source"]["observer"]["display"], "medseal");
  ASSERT_EQ(j["entity"].size(), 2u);
  EXPECT_EQ(j["entity"][0]["what"]["reference"], "Observation/o1/_history/2");
  EXPECT_EQ(j["entity"][1]["what"]["reference"], "Patient/p1");
  EXPECT_EQ(j["entity"][1]["role"]["code"], "1");
}

TEST(FhirRender, AuditEventCodesForEveryOperation) {
  struct Case {
    std::string op;
    std::vector<std::string> resources;
    std::string subtype;
    std::string action;
  };
  for (const Case& c : std::vector<Case>{{"create", {"Patient/p1/_history/1"}, "create", "C"},
                                         {"update", {"Patient/p1/_history/2"}, "update", "U"},
                                         {"delete", {"Patient/p1/_history/3"}, "delete", "D"},
                                         {"vread", {"Patient/p1/_history/1"}, "vread", "R"},
                                         {"history", {"Patient/p1"}, "history-instance", "R"},
                                         {"history", {"Patient"}, "history-type", "R"},
                                         {"search", {"Patient/p1/_history/1"}, "search-type", "E"},
                                         {"audit", {}, "search-type", "E"},
                                         {"receipt", {"Patient/p1/_history/1"}, "operation", "R"},
                                         {"erase", {}, "operation", "D"}}) {
    records::TrailEntry e = trail_entry(c.op);
    e.statement.resources = c.resources;
    Json j = parse(audit_event(e));
    EXPECT_EQ(j["subtype"][0]["code"], c.subtype) << c.op;
    EXPECT_EQ(j["action"], c.action) << c.op;
  }
}

TEST(FhirRender, AuditEventNamesTheRuleAndABreakGlassReason) {
  records::TrailEntry e = trail_entry("read");
  EXPECT_EQ(parse(audit_event(e))["extension"].size(), 1u);  // no rule recorded: none shown
  e.statement.rule = "break-glass";
  e.statement.reason = "unconscious in the ER";
  Json j = parse(audit_event(e));
  ASSERT_EQ(j["extension"].size(), 3u);
  EXPECT_EQ(j["extension"][1]["url"], "urn:medseal:rule");
  EXPECT_EQ(j["extension"][1]["valueCode"], "break-glass");
  EXPECT_EQ(j["extension"][2]["url"], "urn:medseal:break-glass-reason");
  EXPECT_EQ(j["extension"][2]["valueString"], "unconscious in the ER");
  EXPECT_FALSE(j.contains("outcomeDesc"));  // allowed: the reason is no refusal
  e.statement.rule = "care-relation";
  j = parse(audit_event(e));
  ASSERT_EQ(j["extension"].size(), 2u);
  EXPECT_EQ(j["extension"][1]["valueCode"], "care-relation");
}

TEST(FhirRender, AuditEventOfARefusal) {
  records::TrailEntry e = trail_entry("search", true);
  e.statement.reason = "not allowed to read this compartment";
  e.statement.purpose = "looking around";
  e.statement.resources = {"Observation"};
  Json j = parse(audit_event(e));
  EXPECT_EQ(j["outcome"], "4");
  EXPECT_EQ(j["outcomeDesc"], "not allowed to read this compartment");
  EXPECT_EQ(j["agent"][0]["purposeOfUse"][0]["text"], "looking around");
  EXPECT_FALSE(j["entity"][0]["what"].contains("reference"));  // "Observation" is no reference
  EXPECT_EQ(j["entity"][0]["what"]["display"], "Observation");
}

Json patient_like_interactions() {
  Json all = Json::array();
  for (const char* code : {"read", "vread", "update", "delete", "history-instance", "history-type",
                           "create", "search-type"}) {
    all.push_back(Json{{"code", code}});
  }
  return all;
}

TEST(FhirRender, CapabilityStatementListsWhatWorks) {
  std::vector<std::string_view> types = {"AuditEvent", "Observation", "Patient"};
  Json j = parse(capability_statement(types, kBase, 1709210096123));
  EXPECT_EQ(j["resourceType"], "CapabilityStatement");
  EXPECT_EQ(j["status"], "active");
  EXPECT_EQ(j["kind"], "instance");
  EXPECT_EQ(j["fhirVersion"], "4.0.1");
  EXPECT_EQ(j["format"], Json::array({"json", "application/fhir+json"}));
  EXPECT_EQ(j["implementation"]["url"], kBase);
  const Json& rest = j["rest"][0];
  EXPECT_EQ(rest["mode"], "server");
  EXPECT_EQ(rest["interaction"], Json::array({Json{{"code", "transaction"}}}));
  ASSERT_EQ(rest["resource"].size(), 3u);
  const Json& audit = rest["resource"][0];
  EXPECT_EQ(audit["type"], "AuditEvent");
  EXPECT_EQ(audit["interaction"], patient_like_interactions());  // stored like any record
  EXPECT_EQ(audit["searchParam"].size(), 1u);  // but searching gives the ledger's trail
  EXPECT_EQ(audit["searchParam"][0]["name"], "patient");
  const Json& patient = rest["resource"][2];
  EXPECT_EQ(patient["type"], "Patient");
  EXPECT_EQ(patient["interaction"], patient_like_interactions());
  std::vector<std::string> codes;
  for (const Json& i : patient["interaction"]) codes.push_back(i["code"]);
  EXPECT_EQ(codes, (std::vector<std::string>{"read", "vread", "update", "delete", "history-instance",
                                             "history-type", "create", "search-type"}));
  std::vector<std::string> params;
  for (const Json& p : patient["searchParam"]) params.push_back(p["name"]);
  EXPECT_EQ(params, (std::vector<std::string>{"_id", "_lastUpdated", "patient"}));
  EXPECT_EQ(patient["updateCreate"], true);
}

TEST(FhirRender, ETags) {
  EXPECT_EQ(format_etag(7), "W/\"7\"");
  EXPECT_EQ(records::parse_version_etag("W/\"7\""), 7u);
  EXPECT_EQ(records::parse_version_etag("\"12\""), 12u);
  for (std::string_view bad : {"", "7", "W/7", "W/\"\"", "W/\"0\"", "W/\"07\"", "W/\"x\"", "w/\"7\"",
                               "W/\"7", "*", "W/\"-1\"", "W/\"1234567890123456789\""}) {
    EXPECT_FALSE(records::parse_version_etag(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace medseal::server::fhir
