// The FHIR R4 API over HTTP, in process: the record service over a ledger on SQLite, bearer
// tokens, the server on a free loopback port and cpp-httplib's client. Status codes, headers,
// Bundles, AuditEvents, receipts, and the refusals (401 recorded in the ledger, 406, 413, 415).
// Then clients and validators nobody here wrote (tests/fhir_js, npm packages from
// scripts/install-deps.sh): fhir-kit-client's smoke test, and AuditEvents through the official
// R4 JSON schema and FHIR.js.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "identity/token_store.h"
#include "ledger/receipt.h"
#include "note/keys.h"
#include "records/resource.h"
#include "records/service.h"
#include "server/http_server.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/manual_clock.h"
#include "support/fhir_data.h"
#include "support/ledger_check.h"
#include "support/paths.h"
#include "support/process.h"

namespace medseal::server {
namespace {

using Json = nlohmann::json;
using medseal::testing::run_command;
using medseal::testing::shell_quote;
using medseal::testing::ManualClock;
using medseal::testing::TempDir;

constexpr std::string_view kFhirJson = "application/fhir+json; charset=utf-8";
constexpr uint64_t kJan2024 = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr uint64_t kDay = 86'400'000;

std::string observation(const std::string& patient, std::string_view value = "1.00") {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":")" +
         patient + R"("},"valueQuantity":{"value":)" + std::string(value) + R"(,"unit":"kg"}})";
}

// The smallest Synthea bundle's file name (a transaction of a few hundred entries).
std::string smallest_synthea() {
  std::filesystem::path best;
  uintmax_t best_size = UINTMAX_MAX;
  for (const auto& f : std::filesystem::directory_iterator(testing::shared_dir() + "/data/synthea")) {
    if (f.path().extension() == ".json" && f.file_size() < best_size) {
      best = f.path();
      best_size = f.file_size();
    }
  }
  return best.filename().string();
}

std::string patient(const std::string& id = "") {
  std::string body = R"({"resourceType":"Patient",)";
  if (!id.empty()) body += R"("id":")" + id + R"(",)";
  return body + R"("name":[{"family":"Tamm"}],"birthDate":"1980-01-01"})";
}

class FhirApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::open_sqlite_store(tmp_.path() + "/medseal.db");
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(*store);
    ledger::LedgerOptions ledger_options;
    ledger_options.batch_window = std::chrono::microseconds(200);
    auto ledger = ledger::Ledger::open(*store_, key_, ledger_options);
    ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
    ledger_ = std::move(*ledger);
    auto tokens = identity::TokenStore::open(tmp_.path() + "/tokens");
    ASSERT_TRUE(tokens.is_ok()) << tokens.status().to_string();
    tokens_ = std::move(*tokens);
    clinician_ = issue({"dr.who", identity::Role::kClinician, ""});
    patient_p1_ = issue({"p1", identity::Role::kPatient, "Patient/p1"});
    auditor_ = issue({"audit.team", identity::Role::kAuditor, ""});
    admin_ = issue({"admin", identity::Role::kAdmin, ""});
    records_ = std::make_unique<records::RecordService>(*ledger_, *store_, clock_);
    // dr.who is on the care teams of p1 and p2 (records/policy.h): without a relation a
    // clinician reads nothing of theirs.
    for (const char* p : {"Patient/p1", "Patient/p2"}) {
      const std::string team = std::string(R"({"resourceType":"CareTeam","status":"active","subject":{"reference":")") +
                               p + R"("},"participant":[{"member":{"reference":"Practitioner/dr.who"}}]})";
      const records::Caller who{{"dr.who", identity::Role::kClinician, ""}, "TREAT"};
      ASSERT_TRUE(records_->create(who, "CareTeam", team, nullptr).is_ok());
    }
    api_ = std::make_unique<fhir::Api>(*records_, *tokens_, records::r4_resource_types(), clock_);
    http_ = std::make_unique<HttpServer>(*ledger_, HttpOptions{"127.0.0.1", 0, 8, false}, api_.get());
    auto port = http_->bind();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = *port;
    thread_ = std::thread([this] { EXPECT_TRUE(http_->run().is_ok()); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  void TearDown() override {
    if (http_) http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
    api_.reset();
    records_.reset();
    ledger_.reset();
  }

  std::string issue(const identity::Identity& who) {
    auto token = tokens_->issue(who);
    EXPECT_TRUE(token.is_ok()) << token.status().to_string();
    return token.is_ok() ? *token : "";
  }

  httplib::Headers auth(const std::string& token = "") const {
    return {{"Authorization", "Bearer " + (token.empty() ? clinician_ : token)}};
  }

  httplib::Result get(const std::string& path, httplib::Headers headers = {}) {
    if (headers.empty()) headers = auth();
    return client_->Get(path.c_str(), headers);
  }
  httplib::Result post(const std::string& path, const std::string& body, httplib::Headers headers = {},
                       const char* type = "application/fhir+json") {
    if (headers.empty()) headers = auth();
    return client_->Post(path.c_str(), headers, body, type);
  }
  httplib::Result put(const std::string& path, const std::string& body, httplib::Headers headers = {}) {
    if (headers.empty()) headers = auth();
    return client_->Put(path.c_str(), headers, body, "application/fhir+json");
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fhir"; }
  uint64_t size() const { return ledger_->head().size; }

  // Checks an error reply: status, FHIR content type and an OperationOutcome with `code`.
  static void expect_outcome(const httplib::Result& res, int status, std::string_view code) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), kFhirJson);
    Json j = Json::parse(res->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << res->body;
    EXPECT_EQ(j["resourceType"], "OperationOutcome");
    EXPECT_EQ(j["issue"][0]["severity"], "error");
    EXPECT_EQ(j["issue"][0]["code"], code) << res->body;
  }

  // Creates `body` at `type`; returns the new id.
  std::string create(const std::string& type, const std::string& body) {
    auto res = post("/fhir/" + type, body);
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 201) << res->body;
    return Json::parse(res->body, nullptr, false).value("id", "");
  }

  // Runs `node <args>` in tests/fhir_js; fails the test if its npm packages are missing.
  static testing::CommandOutcome node(const std::string& args) {
    std::string dir = testing::source_dir() + "/tests/fhir_js";
    if (!std::filesystem::exists(dir + "/node_modules")) {
      ADD_FAILURE() << dir << "/node_modules is missing: run scripts/install-deps.sh";
      return {};
    }
    return run_command("cd " + shell_quote(dir) + " && node " + args + " 2>&1");
  }

  static Json json(const httplib::Result& res) {
    EXPECT_TRUE(res);
    return res ? Json::parse(res->body, nullptr, false) : Json();
  }

  TempDir tmp_;
  note::SignerKey key_ = note::generate_signer_key("example.org/fhir-test");
  ManualClock clock_{kJan2024};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<identity::TokenStore> tokens_;
  std::string clinician_;
  std::string patient_p1_;
  std::string auditor_;
  std::string admin_;
  std::unique_ptr<records::RecordService> records_;
  std::unique_ptr<fhir::Api> api_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST_F(FhirApiTest, MetadataIsAnonymousAndAppendsNothing) {
  uint64_t before = size();
  auto res = client_->Get("/fhir/metadata");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kFhirJson);
  EXPECT_FALSE(res->has_header("X-Medseal-Ledger-Index"));
  Json j = json(res);
  EXPECT_EQ(j["resourceType"], "CapabilityStatement");
  EXPECT_EQ(j["fhirVersion"], "4.0.1");
  EXPECT_EQ(j["rest"][0]["resource"].size(), 146u);
  EXPECT_EQ(j["implementation"]["url"], base());
  EXPECT_EQ(size(), before);
}

TEST_F(FhirApiTest, CreateAnswers201WithLocationETagAndTheStoredBytes) {
  uint64_t before = size();
  auto res = post("/fhir/Observation", observation("Patient/p1"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), kFhirJson);
  Json j = json(res);
  std::string id = j["id"];
  EXPECT_EQ(res->get_header_value("Location"), base() + "/Observation/" + id + "/_history/1");
  EXPECT_EQ(res->get_header_value("ETag"), "W/\"1\"");
  EXPECT_EQ(res->get_header_value("Last-Modified"), "Mon, 01 Jan 2024 00:00:00 GMT");
  EXPECT_EQ(res->get_header_value("X-Medseal-Ledger-Index"), std::to_string(before));
  EXPECT_NE(res->body.find(R"("value":1.00,)"), std::string::npos) << res->body;  // exact bytes
  EXPECT_EQ(j["meta"]["versionId"], "1");
  EXPECT_EQ(size(), before + 1);
  // A read gives the same bytes.
  auto read = get("/fhir/Observation/" + id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(read->body, res->body);
  EXPECT_EQ(read->get_header_value("ETag"), "W/\"1\"");
  EXPECT_EQ(read->get_header_value("X-Medseal-Ledger-Index"), std::to_string(before + 1));
}

TEST_F(FhirApiTest, UpdateWithIfMatchVreadAndUpdateAsCreate) {
  std::string id = create("Patient", patient());
  Json v1 = json(get("/fhir/Patient/" + id));
  auto updated = put("/fhir/Patient/" + id, patient(id), {{"Authorization", "Bearer " + clinician_}, {"If-Match", "W/\"1\""}});
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->status, 200) << updated->body;
  EXPECT_EQ(updated->get_header_value("ETag"), "W/\"2\"");
  EXPECT_FALSE(updated->has_header("Location"));
  auto stale = put("/fhir/Patient/" + id, patient(id), {{"Authorization", "Bearer " + clinician_}, {"If-Match", "W/\"1\""}});
  expect_outcome(stale, 412, "conflict");
  expect_outcome(put("/fhir/Patient/" + id, patient(id), {{"Authorization", "Bearer " + clinician_}, {"If-Match", "2"}}),
                 400, "invalid");
  Json first = json(get("/fhir/Patient/" + id + "/_history/1"));
  EXPECT_EQ(first, v1);
  expect_outcome(get("/fhir/Patient/" + id + "/_history/9"), 404, "not-found");
  expect_outcome(get("/fhir/Patient/" + id + "/_history/0"), 400, "invalid");
  expect_outcome(get("/fhir/Patient/" + id + "/_history/01"), 400, "invalid");
  // Update-as-create: 201 with a Location.
  auto created = put("/fhir/Patient/new-one", patient("new-one"));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(created->get_header_value("Location"), base() + "/Patient/new-one/_history/1");
}

TEST_F(FhirApiTest, BodiesThatDoNotFitTheUrlAre400) {
  uint64_t before = size();
  expect_outcome(put("/fhir/Patient/a", patient("b")), 400, "invalid");  // id differs
  expect_outcome(put("/fhir/Patient/a", patient()), 400, "invalid");     // no id
  expect_outcome(post("/fhir/Patient", observation("Patient/p1")), 400, "invalid");  // wrong type
  // Malformed JSON; the diagnostics never echo content.
  auto bad = post("/fhir/Patient", R"({"resourceType":"Patient","name":"SECRET-NAME" "x"})");
  expect_outcome(bad, 400, "invalid");
  EXPECT_EQ(bad->body.find("SECRET"), std::string::npos) << bad->body;
  EXPECT_EQ(size(), before) << "bad input writes nothing";
}

TEST_F(FhirApiTest, DeleteThenReadIsGoneAndHistoryShowsEverything) {
  std::string id = create("Patient", patient());
  ASSERT_EQ(put("/fhir/Patient/" + id, patient(id))->status, 200);
  auto del = client_->Delete(("/fhir/Patient/" + id).c_str(), auth());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(del->get_header_value("ETag"), "W/\"3\"");
  EXPECT_EQ(json(del)["issue"][0]["severity"], "information");
  auto gone = get("/fhir/Patient/" + id);
  expect_outcome(gone, 410, "deleted");
  EXPECT_EQ(gone->get_header_value("ETag"), "W/\"3\"");
  expect_outcome(client_->Delete("/fhir/Patient/never-was", auth()), 404, "not-found");

  auto history = get("/fhir/Patient/" + id + "/_history");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->status, 200);
  Json h = json(history);
  EXPECT_EQ(h["type"], "history");
  EXPECT_EQ(h["total"], 3);
  ASSERT_EQ(h["entry"].size(), 3u);
  EXPECT_FALSE(h["entry"][0].contains("resource"));
  EXPECT_EQ(h["entry"][0]["request"]["method"], "DELETE");
  EXPECT_EQ(h["entry"][0]["response"]["etag"], "W/\"3\"");
  EXPECT_EQ(h["entry"][1]["resource"]["meta"]["versionId"], "2");
  EXPECT_EQ(h["entry"][2]["request"]["method"], "POST");
  EXPECT_EQ(h["entry"][2]["fullUrl"], base() + "/Patient/" + id);
  for (const Json& e : h["entry"]) EXPECT_TRUE(e["response"].contains("lastModified"));

  create("Patient", patient());
  Json type_history = json(get("/fhir/Patient/_history?_count=2"));
  EXPECT_EQ(type_history["total"], 4);
  EXPECT_EQ(type_history["entry"].size(), 2u);
  EXPECT_EQ(type_history["link"][1]["relation"], "next");
}

TEST_F(FhirApiTest, SearchByPatientIdAndLastUpdatedWithPaging) {
  clock_.set(kJan2024);
  std::string a = create("Observation", observation("Patient/p1"));
  clock_.set(kJan2024 + 10 * kDay);
  std::string b = create("Observation", observation("Patient/p1"));
  std::string c = create("Observation", observation("Patient/p2"));

  Json p1 = json(get("/fhir/Observation?patient=Patient/p1"));
  EXPECT_EQ(p1["type"], "searchset");
  EXPECT_EQ(p1["total"], 2);
  EXPECT_EQ(json(get("/fhir/Observation?patient=p2"))["total"], 1);
  Json ids = json(get("/fhir/Observation?_id=" + a + "," + c));
  EXPECT_EQ(ids["total"], 2);
  EXPECT_EQ(json(get("/fhir/Observation?_lastUpdated=lt2024-01-05"))["total"], 1);
  EXPECT_EQ(json(get("/fhir/Observation?_lastUpdated=ge2024-01-05&patient=Patient/p1"))["entry"][0]["resource"]["id"], b);
  EXPECT_EQ(json(get("/fhir/Observation?_lastUpdated=eq2024-01&_lastUpdated=gt2024-01-11"))["total"], 0);
  EXPECT_EQ(json(get("/fhir/Observation?_lastUpdated=ge2024-01-11T00:00:00%2B01:00"))["total"], 2);

  Json page = json(get("/fhir/Observation?_count=2&_format=json"));
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["entry"].size(), 2u);
  ASSERT_EQ(page["link"].size(), 2u);
  std::string next = page["link"][1]["url"];
  EXPECT_NE(next.find("_offset=2"), std::string::npos) << next;
  Json last = json(get(next.substr(next.find("/fhir/"))));
  EXPECT_EQ(last["entry"].size(), 1u);
  EXPECT_EQ(last["link"].size(), 1u) << "no next link on the last page";
  EXPECT_EQ(page["entry"][0]["search"]["mode"], "match");
}

TEST_F(FhirApiTest, BadParametersAre400AndOtherFormats406) {
  uint64_t before = size();
  expect_outcome(get("/fhir/Observation?name=x"), 400, "invalid");
  expect_outcome(get("/fhir/Observation?_lastUpdated=ne2024"), 400, "invalid");
  expect_outcome(get("/fhir/Observation?_count=-1"), 400, "invalid");
  expect_outcome(get("/fhir/Observation/x?_count=1"), 400, "invalid");
  expect_outcome(get("/fhir/AuditEvent"), 400, "invalid");  // whose trail?
  expect_outcome(get("/fhir/Observation?_format=xml"), 406, "not-supported");
  expect_outcome(get("/fhir/Observation", {{"Authorization", "Bearer " + clinician_}, {"Accept", "application/fhir+xml"}}),
                 406, "not-supported");
  auto ok = get("/fhir/Observation", {{"Authorization", "Bearer " + clinician_}, {"Accept", "application/json, text/html;q=0.9"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(size(), before + 1) << "only the good search appended";
}

TEST_F(FhirApiTest, PathsMethodsAndContentTypes) {
  expect_outcome(get("/fhir/Nonsense"), 404, "not-supported");
  expect_outcome(get("/fhir/patient/1"), 404, "not-supported");
  expect_outcome(get("/fhir/Patient/bad_id"), 400, "invalid");
  expect_outcome(get("/fhir/Patient/1/_history/1/extra"), 404, "not-supported");
  expect_outcome(get("/fhir/Patient/1/"), 404, "not-supported");
  auto patch = client_->Patch("/fhir/Patient/1", auth(), "{}", "application/json-patch+json");
  expect_outcome(patch, 405, "not-supported");
  EXPECT_EQ(patch->get_header_value("Allow"), "GET, PUT, DELETE");
  expect_outcome(client_->Delete("/fhir/Patient", auth()), 405, "not-supported");
  expect_outcome(client_->Put("/fhir/AuditEvent", auth(), "{}", "application/fhir+json"), 405, "not-supported");
  expect_outcome(get("/fhir"), 405, "not-supported");
  expect_outcome(post("/fhir/Patient", patient(), {}, "text/plain"), 415, "not-supported");
  expect_outcome(post("/fhir/Patient", patient(), {}, "application/fhir+json; charset=latin1"), 415, "not-supported");
  // Long paths reach the body-reading handler's pattern match; they are refused, not fatal.
  auto long_path = post("/fhir/Patient/" + std::string(7000, 'a'), patient());
  ASSERT_TRUE(long_path);
  EXPECT_EQ(long_path->status, 400);  // not a valid id
  auto charset = post("/fhir/Patient", patient(), {}, "application/json; charset=UTF-8");
  ASSERT_TRUE(charset);
  EXPECT_EQ(charset->status, 201) << charset->body;
}

TEST_F(FhirApiTest, BodiesOver8MiBAre413) {
  std::string big = R"({"resourceType":"Patient","text":")" + std::string(8 << 20, 'a') + "\"}";
  auto res = post("/fhir/Patient", big);
  expect_outcome(res, 413, "too-costly");
}

TEST_F(FhirApiTest, NoOrUnknownTokenIs401AndRecorded) {
  uint64_t before = size();
  auto none = client_->Get("/fhir/Patient/p1");
  expect_outcome(none, 401, "login");
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(none->get_header_value("X-Medseal-Ledger-Index"), std::to_string(before));
  expect_outcome(get("/fhir/Patient/p1", {{"Authorization", "Bearer mst_nottoken"}}), 401, "login");
  expect_outcome(get("/fhir/Patient/p1", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401, "login");
  expect_outcome(post("/fhir/Patient", patient(), {{"Authorization", "Bearer nope"}}), 401, "login");
  EXPECT_EQ(size(), before + 4);
  // The refusal's statement is in the ledger, with its receipt.
  auto receipt = get("/ledger/receipts/" + std::to_string(before), auth(auditor_));
  ASSERT_TRUE(receipt);
  ASSERT_EQ(receipt->status, 200) << receipt->body;
  auto verified = ledger::verify_receipt(receipt->body, note::verifier_of(key_));
  ASSERT_TRUE(verified.is_ok()) << verified.status().to_string();
  Json statement = Json::parse(verified->statement);
  EXPECT_EQ(statement["outcome"], "denied");
  EXPECT_EQ(statement["who"], "anonymous");
  EXPECT_EQ(statement["op"], "read");
  EXPECT_EQ(statement["resources"][0], "Patient/p1");
}

TEST_F(FhirApiTest, PurposeHeaderIsRecordedAndBounded) {
  std::string id = create("Patient", patient());
  auto res = get("/fhir/Patient/" + id, {{"Authorization", "Bearer " + clinician_}, {"X-Medseal-Purpose", "BTG"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  uint64_t index = std::stoull(res->get_header_value("X-Medseal-Ledger-Index"));
  auto receipt = ledger::verify_receipt(get("/ledger/receipts/" + std::to_string(index), auth(auditor_))->body, note::verifier_of(key_));
  ASSERT_TRUE(receipt.is_ok());
  EXPECT_EQ(Json::parse(receipt->statement)["purpose"], "BTG");
  expect_outcome(get("/fhir/Patient/" + id, {{"Authorization", "Bearer " + clinician_},
                                             {"X-Medseal-Purpose", std::string(65, 'x')}}),
                 400, "invalid");
}

// A clinician without a care relation is refused with directions; X-Medseal-Break-Glass gets
// the read, its reason and rule in the ledger (records/policy.h).
TEST_F(FhirApiTest, BreakGlassHeaderGivesAccessWithoutARelation) {
  const std::string id = create("Observation", observation("Patient/p1"));
  const std::string stranger = issue({"dr.er", identity::Role::kClinician, ""});
  auto refused = get("/fhir/Observation/" + id, auth(stranger));
  expect_outcome(refused, 403, "forbidden");
  EXPECT_NE(refused->body.find("X-Medseal-Break-Glass"), std::string::npos) << refused->body;
  auto res = get("/fhir/Observation/" + id, {{"Authorization", "Bearer " + stranger},
                                             {"X-Medseal-Break-Glass", "unconscious in the ER"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  uint64_t index = std::stoull(res->get_header_value("X-Medseal-Ledger-Index"));
  auto receipt = ledger::verify_receipt(get("/ledger/receipts/" + std::to_string(index), auth(auditor_))->body,
                                        note::verifier_of(key_));
  ASSERT_TRUE(receipt.is_ok());
  const Json statement = Json::parse(receipt->statement);
  EXPECT_EQ(statement["rule"], "break-glass");
  EXPECT_EQ(statement["reason"], "unconscious in the ER");
  expect_outcome(get("/fhir/Observation/" + id, {{"Authorization", "Bearer " + stranger},
                                                 {"X-Medseal-Break-Glass", std::string(201, 'x')}}),
                 400, "invalid");
}

TEST_F(FhirApiTest, TransactionAnswersOneEntryPerRequest) {
  std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":)" + patient() +
                       R"(,"request":{"method":"POST","url":"Patient"}},
    {"resource":)" + observation("urn:uuid:11111111-1111-4111-8111-111111111111") +
                       R"(,"request":{"method":"POST","url":"Observation"}},
    {"resource":)" + patient("fixed") + R"(,"request":{"method":"PUT","url":"Patient/fixed"}}]})";
  uint64_t before = size();
  auto res = post("/fhir", bundle);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Medseal-Ledger-Index"), std::to_string(before));
  Json j = json(res);
  EXPECT_EQ(j["type"], "transaction-response");
  ASSERT_EQ(j["entry"].size(), 3u);
  for (const Json& e : j["entry"]) {
    EXPECT_EQ(e["response"]["status"], "201 Created");
    EXPECT_EQ(e["response"]["etag"], "W/\"1\"");
  }
  std::string location = j["entry"][1]["response"]["location"];
  Json obs = json(get("/fhir/" + location));
  std::string patient_location = j["entry"][0]["response"]["location"];
  EXPECT_EQ(obs["subject"]["reference"], patient_location.substr(0, patient_location.find("/_history")));
  EXPECT_EQ(j["entry"][2]["response"]["location"], "Patient/fixed/_history/1");
  expect_outcome(post("/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[]})"), 400, "invalid");
}

TEST_F(FhirApiTest, AccessTrailIsAuditEvents) {
  std::string id = create("Observation", observation("Patient/p1"));
  ASSERT_EQ(get("/fhir/Observation/" + id)->status, 200);
  ASSERT_EQ(get("/fhir/Observation/" + id, auth(patient_p1_))->status, 200);
  auto res = get("/fhir/AuditEvent?patient=Patient/p1", auth(patient_p1_));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  Json j = json(res);
  EXPECT_EQ(j["type"], "searchset");
  // newest first: patient read, clinician read, create, and the fixture's care team
  ASSERT_EQ(j["entry"].size(), 4u);
  const Json& newest = j["entry"][0]["resource"];
  EXPECT_EQ(newest["resourceType"], "AuditEvent");
  EXPECT_EQ(newest["subtype"][0]["code"], "read");
  EXPECT_EQ(newest["agent"][0]["who"]["display"], "p1");
  EXPECT_EQ(newest["entity"][0]["what"]["reference"], "Observation/" + id + "/_history/1");
  const Json& oldest = j["entry"][2]["resource"];
  EXPECT_EQ(oldest["subtype"][0]["code"], "create");
  EXPECT_EQ(oldest["action"], "C");
  std::string index = oldest["extension"][0]["valueIdentifier"]["value"];
  EXPECT_EQ(oldest["id"], "ledger-" + index);
  EXPECT_EQ(j["entry"][2]["fullUrl"], base() + "/AuditEvent/ledger-" + index);
  // Another patient's trail is not p1's to read; the refusal is recorded.
  auto other = get("/fhir/AuditEvent?patient=Patient/p2", auth(patient_p1_));
  expect_outcome(other, 403, "forbidden");
  EXPECT_TRUE(other->has_header("X-Medseal-Ledger-Index"));
}

TEST_F(FhirApiTest, ReceiptsOfVersionsAndEntries) {
  std::string id = create("Observation", observation("Patient/p1"));
  auto res = get("/fhir/Observation/" + id + "/_history/1/$receipt");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "private, no-store");
  auto verified = ledger::verify_receipt(res->body, note::verifier_of(key_));
  ASSERT_TRUE(verified.is_ok()) << verified.status().to_string();
  EXPECT_EQ(Json::parse(verified->statement)["op"], "create");
  EXPECT_EQ(get("/fhir/Observation/" + id + "/_history/1/%24receipt")->status, 200);
  expect_outcome(get("/fhir/Observation/" + id + "/_history/2/$receipt"), 404, "not-found");

  // Clinicians get receipts of entries about their patients (care relation) and their own;
  // a clinician without a relation does not; entries in general are for auditors.
  EXPECT_EQ(get("/ledger/receipts/" + std::to_string(verified->index + 1))->status, 200);
  const std::string stranger = issue({"dr.no", identity::Role::kClinician, ""});
  expect_outcome(get("/ledger/receipts/" + std::to_string(verified->index), auth(stranger)), 403, "forbidden");
  auto entry = get("/ledger/receipts/" + std::to_string(verified->index), auth(auditor_));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->status, 200);
  EXPECT_EQ(entry->get_header_value("Cache-Control"), "private, no-store");
  expect_outcome(client_->Get("/ledger/receipts/0"), 401, "login");
  for (std::string bad : {"05", "-1", "x", "", "18446744073709551616"}) {
    expect_outcome(get("/ledger/receipts/" + bad), 400, "invalid");
  }
  expect_outcome(get("/ledger/receipts/999999"), 404, "not-found");
  expect_outcome(client_->Post("/ledger/receipts/0", auth(), "", "text/plain"), 405, "not-supported");
}

// What a patient or auditor does: fetch a version and its receipt over the API, then check both
// offline with `medseal verify`, which must notice one changed byte anywhere.
TEST_F(FhirApiTest, ReceiptsFromTheApiVerifyWithTheCommandLineVerifier) {
  const std::string id = create("Observation", observation("Patient/p1"));
  const std::string resource = get("/fhir/Observation/" + id + "/_history/1")->body;
  const std::string receipt = get("/fhir/Observation/" + id + "/_history/1/$receipt")->body;
  const std::string dir = tmp_.path();
  std::ofstream(dir + "/log.vkey") << note::format_verifier_key(note::verifier_of(key_)) << "\n";
  auto verify = [&](const std::string& r, const std::string& res) {
    std::ofstream(dir + "/receipt.txt", std::ios::binary) << r;
    std::ofstream(dir + "/resource.json", std::ios::binary) << res;
    return run_command(shell_quote(testing::medseal_binary()) + " verify --receipt " +
                       shell_quote(dir + "/receipt.txt") + " --resource " +
                       shell_quote(dir + "/resource.json") + " --vkey " + shell_quote(dir + "/log.vkey") +
                       " 2>&1");
  };
  auto ok = verify(receipt, resource);
  EXPECT_EQ(ok.status, 0) << ok.output;

  std::string changed_resource = resource;
  changed_resource[changed_resource.find("1.00")] = '2';
  auto bad_resource = verify(receipt, changed_resource);
  EXPECT_EQ(bad_resource.status, 1) << bad_resource.output;
  EXPECT_NE(bad_resource.output.find("SHA-256"), std::string::npos) << bad_resource.output;

  // One byte of the checkpoint's root hash (the line after its origin and size lines).
  std::string changed_receipt = receipt;
  const size_t origin = changed_receipt.find(key_.name + "\n");
  ASSERT_NE(origin, std::string::npos);
  const size_t root = changed_receipt.find('\n', changed_receipt.find('\n', origin) + 1) + 1;
  changed_receipt[root] = changed_receipt[root] == 'A' ? 'B' : 'A';
  auto bad_receipt = verify(changed_receipt, resource);
  EXPECT_EQ(bad_receipt.status, 1) << bad_receipt.output;
}

TEST_F(FhirApiTest, FhirKitClientSmokeTestPasses) {
  auto outcome = node("smoke.mjs --base " + shell_quote(base()) + " --token " + shell_quote(clinician_) +
                      " --shared " + shell_quote(testing::shared_dir()));
  EXPECT_EQ(outcome.status, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("ok   no-token"), std::string::npos) << outcome.output;
}

TEST_F(FhirApiTest, AuditEventsPassTheR4Validators) {
  std::string id = create("Observation", observation("Patient/p1"));
  get("/fhir/Observation/" + id, {{"Authorization", "Bearer " + clinician_}, {"X-Medseal-Purpose", "checking a result"}});
  get("/fhir/Observation?patient=Patient/p1");
  get("/fhir/Observation/" + id + "/_history");
  get("/fhir/Observation/" + id + "/_history/1/$receipt");
  get("/fhir/AuditEvent?patient=Patient/p2", auth(patient_p1_));  // refused
  auto res = get("/fhir/AuditEvent?patient=Patient/p1", auth(auditor_));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_GE(json(res)["entry"].size(), 5u);
  std::string file = tmp_.path() + "/trail.json";
  std::ofstream(file, std::ios::binary) << res->body;
  auto outcome = node("validate.mjs " + shell_quote(file));
  EXPECT_EQ(outcome.status, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("1 passed, 0 failed"), std::string::npos) << outcome.output;
}

// Every kind of JSON answer the API gives, written to files and run through the official R4 schema
// and FHIR.js.
TEST_F(FhirApiTest, EveryKindOfResponseBodyPassesTheR4Validators) {
  std::vector<httplib::Result> answers;
  answers.push_back(client_->Get("/fhir/metadata"));
  const std::string pid = create("Patient", testing::read_file(testing::shared_dir() + "/data/fhir-r4-examples/Patient-example.json"));
  const std::string oid = create("Observation", testing::read_file(testing::shared_dir() + "/data/fhir-r4-examples/Observation-decimal.json"));
  answers.push_back(get("/fhir/Patient/" + pid));
  answers.push_back(put("/fhir/Patient/" + pid, patient(pid)));
  answers.push_back(get("/fhir/Patient/" + pid + "/_history/1"));
  answers.push_back(get("/fhir/Patient/" + pid + "/_history"));
  answers.push_back(get("/fhir/Patient/_history?_count=1"));
  answers.push_back(get("/fhir/Observation?_id=" + oid));
  answers.push_back(get("/fhir/Observation?patient=Patient/p1&_lastUpdated=gt2020-01-01&_count=1"));
  answers.push_back(client_->Delete(("/fhir/Observation/" + oid).c_str(), auth()));
  answers.push_back(get("/fhir/Observation/" + oid));  // 410
  answers.push_back(post("/fhir", testing::read_file(testing::shared_dir() + "/data/synthea/" + smallest_synthea())));
  answers.push_back(get("/fhir/AuditEvent?patient=Patient/" + pid, auth(auditor_)));
  answers.push_back(get("/fhir/Patient/" + pid, auth(patient_p1_)));  // 403
  answers.push_back(get("/fhir/Patient/nope"));                       // 404
  answers.push_back(post("/fhir/Patient", "{not json"));               // 400
  answers.push_back(client_->Get("/fhir/Patient"));                     // 401
  answers.push_back(post("/fhir/Patient/" + pid + "/$erase", "", auth(admin_)));
  const std::string dir = tmp_.path() + "/answers";
  std::filesystem::create_directory(dir);
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i]) << "answer " << i;
    EXPECT_EQ(answers[i]->get_header_value("Content-Type"), kFhirJson) << "answer " << i;
    std::ofstream(dir + "/" + std::to_string(i) + ".json", std::ios::binary) << answers[i]->body;
  }
  auto outcome = node("validate.mjs " + shell_quote(dir));
  EXPECT_EQ(outcome.status, 0) << outcome.output;
  EXPECT_NE(outcome.output.find(std::to_string(answers.size()) + " passed, 0 failed"), std::string::npos)
      << outcome.output;
}

TEST_F(FhirApiTest, AnAdminErasesARecordAndTheLedgerStillVerifies) {
  const std::string id = create("Patient", patient());
  ASSERT_EQ(put("/fhir/Patient/" + id, patient(id))->status, 200);
  auto receipt = get("/fhir/Patient/" + id + "/_history/1/$receipt");
  ASSERT_EQ(receipt->status, 200);
  expect_outcome(post("/fhir/Patient/" + id + "/$erase", ""), 403, "forbidden");  // a clinician
  auto erased = post("/fhir/Patient/" + id + "/$erase", "", auth(admin_));
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->status, 200) << erased->body;
  EXPECT_FALSE(erased->get_header_value("X-Medseal-Ledger-Index").empty());
  expect_outcome(get("/fhir/Patient/" + id), 404, "not-found");
  expect_outcome(get("/fhir/Patient/" + id + "/_history/1/$receipt"), 404, "not-found");
  // The receipt issued before the erasure still verifies: the ledger did not change.
  auto verified = ledger::verify_receipt(receipt->body, note::verifier_of(key_));
  EXPECT_TRUE(verified.is_ok()) << verified.status().to_string();
  EXPECT_TRUE(testing::whole_log_verifies(*ledger_, note::verifier_of(key_)));
}

TEST_F(FhirApiTest, EveryOfficialExampleRoundTripsOverHttp) {
  const auto files = testing::fhir_examples();
  ASSERT_GE(files.size(), 200u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string body = testing::read_file(file);
    const Json original = Json::parse(body);
    const std::string type = original.at("resourceType");
    auto created = post("/fhir/" + type, body);
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    const std::string id = json(created)["id"];
    // Writing for an unregistered patient needs no relation ("new-patient"); reading it back
    // does: the clinician registers the patient.
    const std::string compartment = records::patient_compartment(created->body);
    if (!compartment.empty() && get("/fhir/" + compartment)->status == 404) {
      ASSERT_EQ(put("/fhir/" + compartment, patient(compartment.substr(8)))->status, 201);
    }
    auto read = get("/fhir/" + type + "/" + id);
    ASSERT_TRUE(read);
    ASSERT_EQ(read->status, 200);
    EXPECT_EQ(read->body, created->body);  // the stored bytes, exactly
    EXPECT_EQ(testing::without_server_fields(json(read)), testing::without_server_fields(original));
  }
}

TEST_F(FhirApiTest, EverySyntheaBundleLoadsOverHttpAndReadsBack) {
  const auto files = testing::synthea_bundles();
  ASSERT_EQ(files.size(), 40u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string bundle = testing::read_file(file);
    auto res = post("/fhir", bundle);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body.substr(0, 300);
    const Json answer = json(res);
    ASSERT_EQ(answer["type"], "transaction-response");
    ASSERT_EQ(answer["entry"].size(), Json::parse(bundle)["entry"].size());
    // The first and last entries read back: Location is .../Type/id/_history/1.
    for (const Json& e : {answer["entry"].front(), answer["entry"].back()}) {
      EXPECT_EQ(e["response"]["status"].get<std::string>().substr(0, 3), "201");
      std::string location = e["response"]["location"];
      location = location.substr(0, location.find("/_history/"));
      auto read = get(location.starts_with("http") ? location.substr(location.find("/fhir/")) : "/fhir/" + location);
      ASSERT_TRUE(read);
      EXPECT_EQ(read->status, 200) << location;
    }
  }
}

TEST_F(FhirApiTest, ThePublicLogStaysPublic) {
  create("Patient", patient());
  auto res = client_->Get("/log/checkpoint");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, ledger_->head().checkpoint);
}

}  // namespace
}  // namespace medseal::server
