// Search parameters and ids that look like SQL, paths, NUL bytes, very long or odd Unicode are
// harmless: fed to every search parameter (and as a parameter name) and every id position of
// `medseal serve`, each is a 4xx OperationOutcome or a correct empty result, never a 5xx, never a
// hit; afterwards the store holds exactly what it held (the record reads back byte for byte at its
// version, no Patient was added), the ledger verifies with `medseal log verify`, and the server
// still answers. Every SQL statement in src/ binds its values (see README "Security"); this test
// is the outside view of that.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

// Every byte but unreserved ones percent-encoded, so the payload arrives exactly as written.
std::string encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Payloads, percent-encoded, plus a few sent raw (already encoded, or bad encodings on purpose).
std::vector<std::string> payloads() {
  std::vector<std::string> out;
  for (const std::string& p : std::vector<std::string>{
           "' OR 1=1 --", "1' OR '1'='1", "inj1' --", "\"; DROP TABLE record_versions; --",
                        ";DROP TABLE record_versions", "inj1; DELETE FROM record_versions",
                        "x') UNION SELECT * FROM sqlite_master --", "../../etc/passwd", "..\\..\\etc\\passwd",
                        "/etc/passwd", "Patient/../../../etc/passwd", "%00", "*", "%", "_", "inj1%", "Ω≈ç√∫",
                        "😀", "Patient/inj1\n", "\t", "$(id)", "<script>alert(1)</script>",
                        std::string(2000, 'A'), std::string("inj1\0x", 6)}) {
    out.push_back(encode(p));
  }
  for (const char* raw : {"%00", "inj1%00", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%2F..%2Fetc%2Fpasswd", "%C0%AF",
                          "%ZZ", "%", "%FF%FE", "%E2%80%AE"}) {
    out.push_back(raw);
  }
  return out;
}

struct Probe {
  std::string method, target;
  int token = 0;  // index into the test's tokens
};

// The targets each payload X is sent to: every search parameter, a parameter name, and every id.
std::vector<Probe> probes(const std::string& x) {
  std::vector<Probe> out;
  for (const char* param : {"patient", "_id", "_lastUpdated", "_count", "_offset", "_format"}) {
    out.push_back({"GET", "/fhir/Patient?" + std::string(param) + "=" + x});
    out.push_back({"GET", "/fhir/Observation?" + std::string(param) + "=" + x});
  }
  out.push_back({"GET", "/fhir/Observation?patient=Patient/" + x});
  out.push_back({"GET", "/fhir/Patient?" + x + "=1"});
  out.push_back({"GET", "/fhir/Patient?_id=inj1," + x});
  out.push_back({"GET", "/fhir/AuditEvent?patient=" + x, 1});
  out.push_back({"GET", "/fhir/AuditEvent?patient=Patient/inj1&_count=" + x, 1});
  out.push_back({"GET", "/fhir/Patient/_history?_count=" + x});
  out.push_back({"GET", "/fhir/Patient/" + x});
  out.push_back({"PUT", "/fhir/Patient/" + x});
  out.push_back({"DELETE", "/fhir/Patient/" + x});
  out.push_back({"GET", "/fhir/Patient/" + x + "/_history"});
  out.push_back({"GET", "/fhir/Patient/inj1/_history/" + x});
  out.push_back({"GET", "/fhir/Patient/" + x + "/_history/1/$receipt"});
  out.push_back({"GET", "/fhir/Patient/inj1/_history/" + x + "/$receipt"});
  out.push_back({"POST", "/fhir/Patient/" + x + "/$erase", 2});
  out.push_back({"GET", "/fhir/" + x});
  out.push_back({"GET", "/fhir/" + x + "/inj1"});
  out.push_back({"GET", "/ledger/receipts/" + x});
  return out;
}

std::string token_line(const std::string& text) { return text.substr(0, text.find('\n')); }

class InjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ready()) << server_.stderr_text();
    for (const char* role : {"clinician", "auditor"}) {
      auto issued = testing::run_medseal({"token", "issue", "--data", data_, "--role", role, "--name", std::string("inj.") + role});
      ASSERT_EQ(issued.status, 0) << issued.err;
      tokens_.push_back(token_line(issued.out));
    }
    tokens_.push_back(token_line(testing::read_file(data_ + "/admin.token")));
    auto put = client().Put("/fhir/Patient/inj1", R"({"resourceType":"Patient","id":"inj1","active":true})",
                            "application/fhir+json");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
    stored_ = put->body;
  }

  httplib::Client client(int token = 0) {
    httplib::Client c(server_.base());
    c.set_url_encode(false);
    c.set_bearer_token_auth(tokens_[static_cast<size_t>(token)]);
    c.set_default_headers({{"Accept", "application/fhir+json"}});
    return c;
  }

  // The Patient type history's total: every Patient version ever written.
  int patient_versions() {
    auto res = client().Get("/fhir/Patient/_history?_count=0");
    if (!res || res->status != 200) return -1;
    return nlohmann::json::parse(res->body).value("total", -1);
  }

  testing::TempDir tmp_;
  std::string data_ = tmp_.path() + "/data";
  testing::Server server_{data_, {"--auth-failure-limit", "0", "--no-sentinel"}};
  std::vector<std::string> tokens_;  // clinician, auditor, admin
  std::string stored_;
};

// "" when `res` is a harmless answer: a 4xx OperationOutcome (a too-long request line may be the
// HTTP library's plain 414), or a 200 search or history Bundle with no entries.
std::string judge(const httplib::Result& res) {
  if (!res) return "no answer";
  if (res->status == 414) return "";
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  std::string type = body.is_object() ? body.value("resourceType", "") : "";
  if (res->status >= 400 && res->status < 500) {
    return type == "OperationOutcome" ? "" : "4xx without an OperationOutcome: " + res->body.substr(0, 120);
  }
  if (res->status == 200 && type == "Bundle" && !body.contains("entry")) return "";
  return "status " + std::to_string(res->status) + ": " + res->body.substr(0, 160);
}

TEST_F(InjectionTest, HostileParametersAndIdsAreRefusedOrFindNothing) {
  int versions_before = patient_versions();
  ASSERT_EQ(versions_before, 1);
  std::vector<std::string> wrong;
  size_t sent = 0;
  for (const std::string& x : payloads()) {
    for (const Probe& p : probes(x)) {
      httplib::Client c = client(p.token);
      httplib::Request req;
      req.method = p.method;
      req.path = p.target;
      if (p.method == "PUT") {
        req.body = R"({"resourceType":"Patient","id":"inj2"})";
        req.set_header("Content-Type", "application/fhir+json");
      }
      ++sent;
      std::string why = judge(c.send(req));
      if (!why.empty()) wrong.push_back(p.method + " " + p.target.substr(0, 100) + ": " + why);
    }
  }
  EXPECT_GT(sent, 800u);
  std::string first;
  for (size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " of " << sent << " answered otherwise:\n" << first;

  // The store holds what it held: one Patient version, read back byte for byte.
  EXPECT_EQ(patient_versions(), versions_before);
  auto read = client().Get("/fhir/Patient/inj1");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(read->body, stored_);
  EXPECT_EQ(read->get_header_value("ETag"), "W/\"1\"");
  // The ledger (every refusal and access in it) verifies from what the server publishes.
  auto verified = testing::run_medseal({"log", "verify", "--url", server_.log_url(), "--vkey", data_ + "/log.vkey"});
  EXPECT_EQ(verified.status, 0) << verified.err;
  auto health = client().Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(InjectionTest, TheJudgeCatchesAHit) {
  // The judge above must be able to fail: a search that finds the record is not harmless.
  EXPECT_NE(judge(client().Get("/fhir/Patient?_id=inj1")), "");
  EXPECT_EQ(judge(client().Get("/fhir/Patient?_id=nobody")), "");
}

}  // namespace
}  // namespace medseal
