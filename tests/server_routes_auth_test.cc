// Walks every route a running `medseal serve` registers (server::routes(), which builds on the
// FHIR router's own table) and proves that none but /healthz, /log/* and /fhir/metadata answers
// without authentication: each route with its method is 401 without credentials and with a bad
// token, for every R4 resource type; every other method on every instantiated path is an error
// too. The route table is held to the router: each instantiated path routes to its own entry.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "records/resource.h"
#include "server/fhir_api.h"
#include "server/http_server.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

constexpr const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// The template with its placeholders filled in: an existing id and version, the checkpoint.
std::string instantiate(std::string path, std::string_view type) {
  replace_all(path, "{type}", std::string(type));
  replace_all(path, "{id}", "p1");
  replace_all(path, "{vid}", "1");
  replace_all(path, "{path}", "checkpoint");
  replace_all(path, "{index}", "0");
  return path;
}

httplib::Result send(httplib::Client& client, const std::string& method, const std::string& path,
                     std::string_view type, const std::string& token = "") {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.set_header("Accept", "application/fhir+json");
  if (!token.empty()) req.set_header("Authorization", "Bearer " + token);
  if (method == "POST" || method == "PUT" || method == "PATCH") {
    req.body = R"({"resourceType":")" + std::string(type) + R"(","id":"p1"})";
    req.set_header("Content-Type", "application/fhir+json");
  }
  return client.send(req);
}

class RoutesAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ready()) << server_.stderr_text();
    std::string token = testing::read_file(tmp_.path() + "/data/admin.token");
    admin_ = token.substr(0, token.find('\n'));
    client_ = std::make_unique<httplib::Client>(server_.base());
    client_->set_keep_alive(true);
    // Admins write no clinical content (records/policy.h): a clinician registers the patient.
    testing::ProgramOutcome issued = testing::run_medseal(
        {"token", "issue", "--data", tmp_.path() + "/data", "--role", "clinician", "--name", "dr.routes"});
    ASSERT_EQ(issued.status, 0) << issued.err;
    auto put = send(*client_, "PUT", "/fhir/Patient/p1", "Patient", issued.out.substr(0, issued.out.find('\n')));
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201) << put->body;
  }

  testing::TempDir tmp_;
  testing::Server server_{tmp_.path() + "/data", {"--auth-failure-limit", "0"}};
  std::string admin_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RoutesAuthTest, TheRouteTableIsTheRoutersOwn) {
  auto table = server::fhir::routes();
  ASSERT_GE(table.size(), 13u);
  std::set<int> reached;
  for (size_t i = 0; i < table.size(); ++i) {
    for (std::string_view type : records::r4_resource_types()) {
      std::string path = instantiate(std::string(table[i].path), type);
      // GET /AuditEvent is the trail, a route of its own: /{type} stands for the other types.
      if (table[i].path == "/{type}" && table[i].method == "GET" && type == "AuditEvent") continue;
      int index = server::fhir::route_index(table[i].method, path);
      ASSERT_EQ(index, static_cast<int>(i)) << table[i].method << " " << path;
      reached.insert(index);
    }
  }
  EXPECT_EQ(reached.size(), table.size());
  EXPECT_EQ(server::fhir::route_index("GET", "/NotAType"), -1);
}

struct Case {
  std::string method, path, type, token;
  bool anonymous = false;
};

// Sends every case from `threads` keep-alive clients at once (refusals are ledger appends, which
// the ledger batches) and returns a line per case answered otherwise than `judge` wants.
std::vector<std::string> run_cases(const std::string& base, const std::vector<Case>& cases,
                                   const std::function<std::string(const Case&, const httplib::Result&)>& judge) {
  constexpr size_t kThreads = 8;
  std::mutex mu;
  std::vector<std::string> wrong;
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      httplib::Client client(base);
      client.set_keep_alive(true);
      for (size_t i = next++; i < cases.size(); i = next++) {
        const Case& c = cases[i];
        std::string why = judge(c, send(client, c.method, c.path, c.type, c.token));
        if (why.empty()) continue;
        std::lock_guard lock(mu);
        wrong.push_back(c.method + " " + c.path + (c.token.empty() ? "" : " (token)") + ": " + why);
      }
    });
  }
  for (auto& t : threads) t.join();
  return wrong;
}

std::string first_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < 20; ++i) out += lines[i] + "\n";
  return out;
}

TEST_F(RoutesAuthTest, OnlyThePublicRoutesAnswerWithoutAuthentication) {
  const std::set<std::string> expected_public = {"/healthz", "/log/{path}", "/fhir/metadata"};
  const std::string bad_token = "mst_" + std::string(43, 'A');
  std::vector<Case> cases;
  for (const server::ServerRoute& route : server::routes()) {
    // The portal's page and assets hold no data (server/portal_http.h); /portal/whoami does.
    bool portal_asset = route.path == "/" || (route.path.starts_with("/portal/") && route.path != "/portal/whoami");
    EXPECT_EQ(route.anonymous, expected_public.contains(route.path) || portal_asset) << route.path;
    std::vector<std::string_view> types = {"Patient"};
    if (route.path.find("{type}") != std::string::npos) {
      types.assign(records::r4_resource_types().begin(), records::r4_resource_types().end());
    }
    for (std::string_view type : types) {
      std::string path = instantiate(route.path, type);
      cases.push_back({route.method, path, std::string(type), "", route.anonymous});
      if (route.method == "GET") cases.push_back({"HEAD", path, std::string(type), "", route.anonymous});
      if (type == "Patient") cases.push_back({route.method, path, std::string(type), bad_token, route.anonymous});
    }
  }
  ASSERT_GT(cases.size(), 1500u);
  auto wrong = run_cases(server_.base(), cases, [](const Case& c, const httplib::Result& res) -> std::string {
    if (!res) return "no answer";
    if (c.anonymous) return res->status == 200 ? "" : "status " + std::to_string(res->status);
    if (res->status != 401) return "status " + std::to_string(res->status) + " " + res->body;
    if (res->get_header_value("WWW-Authenticate") != "Bearer") return "no WWW-Authenticate: Bearer";
    return "";
  });
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first:\n" << first_lines(wrong);
}

TEST_F(RoutesAuthTest, EveryListedRouteIsARealRoute) {
  // With the admin's token no listed route is refused as unknown (404 for the path, 405): the
  // table lists what the server serves.
  std::vector<Case> cases;
  for (const server::ServerRoute& route : server::routes()) {
    if (route.path == "/alerts/stream") continue;  // never ends for an admin; alerts_http_test has it
    cases.push_back({route.method, instantiate(route.path, "Patient"), "Patient", admin_, route.anonymous});
  }
  auto wrong = run_cases(server_.base(), cases, [](const Case&, const httplib::Result& res) -> std::string {
    if (!res) return "no answer";
    if (res->status == 401 || res->status == 405) return "status " + std::to_string(res->status);
    for (const char* unknown : {"no such FHIR", "not a FHIR R4 resource type", "no such resource"}) {
      if (res->body.find(unknown) != std::string::npos) return res->body;
    }
    return "";
  });
  EXPECT_TRUE(wrong.empty()) << first_lines(wrong);
}

TEST_F(RoutesAuthTest, NoOtherMethodOnAnyPathAnswersWithoutAuthentication) {
  std::vector<std::string> paths = {"/", "/fhir", "/fhir/", "/ledger/receipts/", "/ledger", "/admin", "/log"};
  for (const server::ServerRoute& route : server::routes()) {
    if (route.anonymous) continue;
    for (std::string_view type : {"Patient", "Observation", "AuditEvent", "Binary", "Consent"}) {
      paths.push_back(instantiate(route.path, type));
    }
  }
  std::vector<Case> cases;
  for (const std::string& path : paths) {
    for (const char* method : kMethods) cases.push_back({method, path, "Patient", "", false});
  }
  auto wrong = run_cases(server_.base(), cases, [](const Case& c, const httplib::Result& res) -> std::string {
    if (c.path == "/" && (c.method == "GET" || c.method == "HEAD")) return "";  // the portal's page
    // A body sent to a read-only path is refused unread, and the connection closed; the client
    // may then see the reset before the 405. Either way nothing was served.
    if (!res) return "";
    return res->status >= 400 ? "" : "status " + std::to_string(res->status) + " " + res->body;
  });
  EXPECT_TRUE(wrong.empty()) << first_lines(wrong);
  auto alive = httplib::Client(server_.base()).Get("/healthz");
  ASSERT_TRUE(alive) << "the server stopped answering";
  EXPECT_EQ(alive->status, 200);
}

}  // namespace
}  // namespace medseal
