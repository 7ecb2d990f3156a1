// GET /alerts, /alerts/stream (Server-Sent Events) and /metrics on a real HTTP server over
// loopback: who may read them, what the stream delivers, and that streams end with their clients
// and with the server.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "alerts/pipeline.h"
#include "identity/token_store.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "server/alerts_http.h"
#include "server/http_server.h"
#include "support/eventually.h"
#include "support/memory_store.h"
#include "support/paths.h"

namespace medseal {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

class AlertsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = ledger::Ledger::open(store_, note::generate_signer_key("test/alerts-http"));
    ASSERT_TRUE(l) << l.status().to_string();
    ledger_ = std::move(*l);
    auto tokens = identity::TokenStore::open(dir_.path() + "/tokens");
    ASSERT_TRUE(tokens) << tokens.status().to_string();
    tokens_ = std::move(*tokens);
    auditor_ = *tokens_->issue({"audit.team", identity::Role::kAuditor, ""});
    admin_ = *tokens_->issue({"admin", identity::Role::kAdmin, ""});
    clinician_ = *tokens_->issue({"dr.who", identity::Role::kClinician, ""});
    alerts::PipelineOptions o;
    o.outbox_path = dir_.path() + "/alerts.db";
    o.ledger = ledger_.get();
    o.to_stderr = false;
    auto p = alerts::Pipeline::start(o);
    ASSERT_TRUE(p) << p.status().to_string();
    pipeline_ = std::move(*p);
    authenticator_ = std::make_unique<identity::Authenticator>(*tokens_);
    alerts_http_ = std::make_unique<server::AlertsHttp>(*pipeline_, *authenticator_, 300ms);
    server::HttpOptions options{"127.0.0.1", 0, 16};
    options.alerts = alerts_http_.get();
    http_ = std::make_unique<server::HttpServer>(*ledger_, options);
    auto port = http_->bind();
    ASSERT_TRUE(port) << port.status().to_string();
    port_ = *port;
    thread_ = std::thread([this] { (void)http_->run(); });
  }

  void TearDown() override {
    stop_server();
    pipeline_.reset();
    ledger_.reset();
  }

  void stop_server() {
    if (!thread_.joinable()) return;
    http_->stop();
    thread_.join();
  }

  httplib::Result get(const std::string& path, const std::string& token) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get(path, h);
  }

  std::string metrics() {
    auto r = get("/metrics", auditor_);
    return r && r->status == 200 ? r->body : "";
  }

  bool has_stream_clients(int n) {
    return metrics().find("medseal_alert_stream_clients " + std::to_string(n) + "\n") != std::string::npos;
  }

  testing::TempDir dir_;
  testing::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<identity::TokenStore> tokens_;
  std::unique_ptr<identity::Authenticator> authenticator_;
  std::string auditor_, admin_, clinician_;
  std::unique_ptr<alerts::Pipeline> pipeline_;
  std::unique_ptr<server::AlertsHttp> alerts_http_;
  std::unique_ptr<server::HttpServer> http_;
  std::thread thread_;
  int port_ = 0;
};

// The events of an SSE stream read by a client on its own thread.
class StreamClient {
 public:
  StreamClient(int port, const std::string& token) : client_("127.0.0.1", port) {
    client_.set_read_timeout(30, 0);
    thread_ = std::thread([this, token] {
      auto res = client_.Get("/alerts/stream", {{"Authorization", "Bearer " + token}},
                       [this](const httplib::Response& r) {
                         std::lock_guard lock(mu_);
                         status_ = r.status;
                         content_type_ = r.get_header_value("Content-Type");
                         return true;
                       },
                       [this](const char* data, size_t n) {
                         std::lock_guard lock(mu_);
                         text_.append(data, n);
                         return !quit_;
                       });
      std::lock_guard lock(mu_);
      ended_ = true;
    });
  }
  ~StreamClient() {
    quit();
    client_.stop();  // rather than wait for the next event or keep-alive
    thread_.join();
  }
  void quit() {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  std::string text() const {
    std::lock_guard lock(mu_);
    return text_;
  }
  int status() const {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string content_type() const {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_, content_type_;
  int status_ = 0;
  bool quit_ = false, ended_ = false;
  httplib::Client client_;
  std::thread thread_;
};

TEST_F(AlertsHttpTest, AlertsNeedAnAuditorOrAdminToken) {
  pipeline_->raise(alerts::make_alert(alerts::Severity::kCritical, "fork", "forked"));
  for (const char* path : {"/alerts", "/alerts/stream"}) {
    auto anonymous = get(path, "");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401) << path;
    EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
    auto unknown = get(path, "mst_nobody");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 401) << path;
    auto clinician = get(path, clinician_);
    ASSERT_TRUE(clinician);
    EXPECT_EQ(clinician->status, 403) << path;
  }
  auto auditor = get("/alerts", auditor_);
  ASSERT_TRUE(auditor);
  EXPECT_EQ(auditor->status, 200);
  auto admin = get("/alerts", admin_);
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 200);
  EXPECT_EQ(nlohmann::json::parse(admin->body)["alerts"][0]["kind"], "fork");
}

TEST_F(AlertsHttpTest, AlertsAreListedNewestFirstWithSinceAndLimit) {
  alerts::Alert old_one = alerts::make_alert(alerts::Severity::kWarning, "witness-refusal", "w1");
  old_one.time_ms = 1000;
  alerts::Alert new_one = alerts::make_alert(alerts::Severity::kCritical, "fork", "f");
  new_one.time_ms = 2000;
  pipeline_->raise(old_one);
  pipeline_->raise(new_one);
  auto all = get("/alerts", auditor_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200);
  EXPECT_EQ(all->get_header_value("Content-Type"), "application/json");
  auto list = nlohmann::json::parse(all->body)["alerts"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], new_one.id);
  EXPECT_EQ(list[1]["id"], old_one.id);
  EXPECT_EQ(nlohmann::json::parse(get("/alerts?limit=1", auditor_)->body)["alerts"].size(), 1u);
  auto since = nlohmann::json::parse(get("/alerts?since=1000", auditor_)->body)["alerts"];
  ASSERT_EQ(since.size(), 1u);
  EXPECT_EQ(since[0]["id"], new_one.id);
  EXPECT_EQ(get("/alerts?limit=0", auditor_)->status, 400);
  EXPECT_EQ(get("/alerts?since=x", auditor_)->status, 400);
  EXPECT_EQ(get("/alerts?patient=p1", auditor_)->status, 400);
  httplib::Client c("127.0.0.1", port_);
  auto post = c.Post("/alerts", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST_F(AlertsHttpTest, TheStreamDeliversAlertsRaisedAfterConnecting) {
  pipeline_->raise(alerts::make_alert(alerts::Severity::kCritical, "fork", "before"));
  StreamClient client(port_, auditor_);
  ASSERT_TRUE(eventually([&] { return has_stream_clients(1); }));
  alerts::Alert a = alerts::make_alert(alerts::Severity::kCritical, "content-mismatch", "Patient/p1 changed");
  alerts::Alert b = alerts::make_alert(alerts::Severity::kWarning, "witness-refusal", "w1 refused");
  pipeline_->raise(a);
  pipeline_->raise(b);
  ASSERT_TRUE(eventually([&] { return client.text().find(b.id) != std::string::npos; })) << client.text();
  EXPECT_EQ(client.status(), 200);
  EXPECT_EQ(client.content_type(), "text/event-stream");
  std::string text = client.text();
  std::string event_a = "id: " + a.id + "\nevent: content-mismatch\ndata: ";
  size_t at = text.find(event_a);
  ASSERT_NE(at, std::string::npos) << text;
  size_t data_end = text.find("\n\n", at);
  auto data = nlohmann::json::parse(text.substr(at + event_a.size(), data_end - at - event_a.size()));
  EXPECT_EQ(data["id"], a.id);
  EXPECT_EQ(data["summary"], "Patient/p1 changed");
  EXPECT_LT(at, text.find("id: " + b.id));
  EXPECT_EQ(text.find("before"), std::string::npos);  // only what came after connecting
}

TEST_F(AlertsHttpTest, AQuietStreamGetsKeepAliveComments) {
  StreamClient client(port_, auditor_);
  ASSERT_TRUE(eventually([&] { return client.text().find(": keep-alive\n\n") != std::string::npos; }, 5s))
      << client.text();
  EXPECT_EQ(client.text().find("event:"), std::string::npos);
}

TEST_F(AlertsHttpTest, ADisconnectedClientsStreamEnds) {
  {
    StreamClient client(port_, admin_);
    ASSERT_TRUE(eventually([&] { return has_stream_clients(1); }));
    client.quit();
    pipeline_->raise(alerts::make_alert(alerts::Severity::kInfo, "access-anomaly", "x"));
    ASSERT_TRUE(eventually([&] { return client.ended(); }));
  }
  // The server notices at its next write: each alert is one.
  ASSERT_TRUE(eventually([&] {
    pipeline_->raise(alerts::make_alert(alerts::Severity::kInfo, "access-anomaly", "x"));
    std::this_thread::sleep_for(50ms);
    return has_stream_clients(0);
  }));
}

TEST_F(AlertsHttpTest, StoppingTheServerEndsOpenStreams) {
  StreamClient client(port_, auditor_);
  ASSERT_TRUE(eventually([&] { return has_stream_clients(1); }));
  auto started = std::chrono::steady_clock::now();
  stop_server();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(eventually([&] { return client.ended(); }));
}

TEST_F(AlertsHttpTest, MetricsCountAlertsAndTheGaugeFlips) {
  std::string before = metrics();
  EXPECT_NE(before.find("medseal_integrity_ok 1\n"), std::string::npos) << before;
  auto r = get("/metrics", admin_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const std::string& token : {std::string(), clinician_}) {
    auto refused = get("/metrics", token);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, token.empty() ? 401 : 403);
  }
  pipeline_->raise(alerts::make_alert(alerts::Severity::kWarning, "witness-refusal", "w1"));
  pipeline_->raise(alerts::make_alert(alerts::Severity::kCritical, "fork", "f"));
  pipeline_->raise(alerts::make_alert(alerts::Severity::kCritical, "fork", "g"));
  std::string after = metrics();
  EXPECT_NE(after.find("medseal_integrity_ok 0\n"), std::string::npos) << after;
  EXPECT_NE(after.find("medseal_alerts_total{kind=\"fork\",severity=\"critical\"} 2\n"), std::string::npos) << after;
  EXPECT_NE(after.find("medseal_alerts_total{kind=\"witness-refusal\",severity=\"warning\"} 1\n"), std::string::npos);
  // The ledger worker appended all three.
  EXPECT_TRUE(eventually([&] {
    return metrics().find("medseal_alert_deliveries_total{destination=\"ledger\"} 3\n") != std::string::npos;
  })) << metrics();
  EXPECT_EQ(ledger_->head().size, 3u);
}

}  // namespace
}  // namespace medseal
