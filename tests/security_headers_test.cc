// Every answer of `medseal serve` carries X-Content-Type-Options: nosniff (and no-referrer, no
// framing), and every answer but the public log's and the portal's static files carries
// Cache-Control: no-store, so no proxy
// or browser cache keeps health data, receipts or alerts. Walks server::routes() with every
// method, as a clinician (real records), an admin and nobody, plus the server's own refusals.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "server/http_server.h"
#include "server/portal_http.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

std::string instantiate(std::string path) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"{type}", "Patient"}, {"{id}", "h1"}, {"{vid}", "1"},
                          {"{path}", "checkpoint"}, {"{index}", "0"}}) {
    for (size_t at = path.find(from); at != std::string::npos; at = path.find(from)) path.replace(at, from.size(), to);
  }
  return path;
}

std::string token_of(const testing::ProgramOutcome& issued) { return issued.out.substr(0, issued.out.find('\n')); }

// A line naming what is missing from an answer, or "".
std::string missing_headers(const std::string& what, const httplib::Result& res, bool cacheable) {
  if (!res) return what + ": no answer";
  std::string why;
  if (res->get_header_value("X-Content-Type-Options") != "nosniff") why += " nosniff";
  if (res->get_header_value("Referrer-Policy") != "no-referrer") why += " referrer-policy";
  if (res->get_header_value("X-Frame-Options") != "DENY") why += " frame-options";
  bool no_store = res->get_header_value("Cache-Control").find("no-store") != std::string::npos;
  if (!cacheable && !no_store) why += " no-store (Cache-Control: " + res->get_header_value("Cache-Control") + ")";
  return why.empty() ? "" : what + " " + std::to_string(res->status) + ": missing" + why;
}

class HeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ready()) << server_.stderr_text();
    std::string admin = testing::read_file(tmp_.path() + "/data/admin.token");
    tokens_ = {"", admin.substr(0, admin.find('\n'))};
    auto clinician = testing::run_medseal({"token", "issue", "--data", tmp_.path() + "/data", "--role", "clinician",
                                           "--name", "dr.headers"});
    ASSERT_EQ(clinician.status, 0) << clinician.err;
    tokens_.push_back(token_of(clinician));
    httplib::Client c(server_.base());
    auto put = c.Put("/fhir/Patient/h1", {{"Authorization", "Bearer " + tokens_.back()}},
                     R"({"resourceType":"Patient","id":"h1"})", "application/fhir+json");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
  }

  testing::TempDir tmp_;
  testing::Server server_{tmp_.path() + "/data", {"--no-sentinel", "--auth-failure-limit", "0"}};
  std::vector<std::string> tokens_;  // nobody, admin, clinician
};

TEST_F(HeadersTest, EveryRouteAnswersWithTheSecurityHeaders) {
  std::vector<std::string> wrong;
  size_t answers = 0;
  httplib::Client c(server_.base());
  c.set_keep_alive(true);
  for (const server::ServerRoute& route : server::routes()) {
    // The public log, and the portal's static files (no health data; revalidated, not stored).
    const std::vector<std::string> portal_files = server::PortalHttp::anonymous_paths();
    bool cacheable = route.path.starts_with("/log/") ||
                     std::find(portal_files.begin(), portal_files.end(), route.path) != portal_files.end();
    std::string path = instantiate(route.path);
    for (const std::string& token : tokens_) {
      if (route.path == "/alerts/stream" && !token.empty()) continue;  // never ends for an auditor
      for (const char* method : {"GET", "HEAD", "POST", "PUT", "DELETE"}) {
        httplib::Request req;
        req.method = method;
        req.path = path;
        if (!token.empty()) req.set_header("Authorization", "Bearer " + token);
        if (std::string(method) == "POST" || std::string(method) == "PUT") {
          req.body = R"({"resourceType":"Patient","id":"h1"})";
          req.set_header("Content-Type", "application/fhir+json");
        }
        auto res = c.send(req);
        if (!res) {
          c.stop();  // a body refused unread closes the connection; not an answer to judge
          continue;
        }
        ++answers;
        std::string why = missing_headers(std::string(method) + " " + path, res, cacheable);
        if (!why.empty()) wrong.push_back(why);
      }
    }
  }
  EXPECT_GT(answers, 200u);
  std::string first;
  for (size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " answers without the headers:\n" << first;
}

TEST_F(HeadersTest, HealthDataReadsAreNeverStored) {
  httplib::Client c(server_.base());
  httplib::Headers auth = {{"Authorization", "Bearer " + tokens_[2]}};
  for (const char* path : {"/fhir/Patient/h1", "/fhir/Patient?_id=h1", "/fhir/Patient/h1/_history",
                           "/fhir/Patient/h1/_history/1", "/fhir/Patient/h1/_history/1/$receipt"}) {
    auto res = c.Get(path, auth);
    ASSERT_TRUE(res) << path;
    ASSERT_EQ(res->status, 200) << path << " " << res->body;
    EXPECT_NE(res->get_header_value("Cache-Control").find("no-store"), std::string::npos) << path;
  }
}

TEST_F(HeadersTest, TheServersOwnRefusalsCarryThemToo) {
  httplib::Client c(server_.base());
  std::string big(9 << 20, ' ');
  std::vector<std::pair<std::string, httplib::Result>> answers;
  answers.emplace_back("unknown path", c.Get("/no/such/thing"));
  answers.emplace_back("unknown FHIR path", c.Get("/fhir/NotAType/1"));
  answers.emplace_back("body too large",
                       c.Post("/fhir/Patient", {{"Authorization", "Bearer " + tokens_[2]}}, big, "application/fhir+json"));
  httplib::Headers huge;
  for (int i = 0; i < 400; ++i) huge.emplace("X-Filler-" + std::to_string(i), std::string(100, 'a'));
  answers.emplace_back("headers too large", c.Get("/fhir/Patient", huge));
  for (const auto& [what, res] : answers) {
    if (!res) continue;  // a refused body may reset the connection first
    EXPECT_EQ(missing_headers(what, res, false), "");
  }
  ASSERT_TRUE(answers[3].second);
  EXPECT_EQ(answers[3].second->status, 431);
}

}  // namespace
}  // namespace medseal
