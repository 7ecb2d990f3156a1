// The alert pipeline: the durable outbox survives a crash, a webhook that goes down and comes back
// receives every alert exactly once and in order, and every alert becomes a ledger entry even when
// the ledger fails for a while.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "alerts/ledger_sink.h"
#include "alerts/outbox.h"
#include "alerts/pipeline.h"
#include "alerts/webhook_sink.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "support/eventually.h"
#include "support/fault_store.h"
#include "support/memory_store.h"
#include "support/fake_witness.h"
#include "support/paths.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// What a webhook receiver got, kept across its restarts.
struct Received {
  mutable std::mutex mu;
  std::vector<std::string> ids;  // X-Medseal-Alert-Id, in arrival order
  std::vector<nlohmann::json> bodies;

  std::vector<std::string> all_ids() const {
    std::lock_guard lock(mu);
    return ids;
  }
};

// A webhook receiver on loopback: a real HTTP server that can be stopped and started again on the
// same port.
class Receiver {
 public:
  Receiver(Received& received, int port) {
    server_.Post("/hook", [&received](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(received.mu);
      received.ids.push_back(req.get_header_value(alerts::kAlertIdHeader));
      received.bodies.push_back(nlohmann::json::parse(req.body, nullptr, false));
      res.status = 204;
    });
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1") : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    eventually([this] { return server_.is_running(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

alerts::Alert alert_with_id(std::string id, std::string kind = "fork") {
  alerts::Alert a = alerts::make_alert(alerts::Severity::kCritical, std::move(kind), "log forked at size 7");
  a.id = std::move(id);
  a.resources = {"Patient/p1/_history/2"};
  a.indexes = {7};
  a.evidence = {{"expected", "aa"}, {"found", "bb"}};
  return a;
}

alerts::PipelineOptions options_for(const std::string& dir, int webhook_port) {
  alerts::PipelineOptions o;
  o.outbox_path = dir + "/alerts.db";
  if (webhook_port > 0) o.webhooks = {"http://127.0.0.1:" + std::to_string(webhook_port) + "/hook"};
  o.to_stderr = false;
  o.backoff = {20ms, 200ms};
  return o;
}

TEST(AlertOutbox, AlertsRaisedBeforeACrashAreDeliveredAfterTheRestart) {
  testing::TempDir dir;
  int port = testing::free_loopback_port(SOCK_STREAM);
  // The first life: the webhook is down; the process dies without any cleanup right after raise().
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto p = alerts::Pipeline::start(options_for(dir.path(), port));
    if (!p) ::_exit(2);
    for (const char* id : {"a1", "a2", "a3"}) (*p)->raise(alert_with_id(id));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  Received received;
  Receiver receiver(received, port);
  ASSERT_EQ(receiver.port(), port);
  auto p = alerts::Pipeline::start(options_for(dir.path(), port));
  ASSERT_TRUE(p) << p.status().to_string();
  ASSERT_TRUE(eventually([&] { return received.all_ids().size() >= 3; }));
  std::this_thread::sleep_for(100ms);  // nothing more arrives
  EXPECT_EQ(received.all_ids(), (std::vector<std::string>{"a1", "a2", "a3"}));
  // The restarted server still lists them for GET /alerts, newest first.
  auto recent = (*p)->recent(0, 10);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.front().id, "a3");
  EXPECT_EQ(recent.front().evidence["found"], "bb");
}

TEST(AlertWebhook, ReceiverThatGoesDownAndComesBackGetsEveryAlertOnceInOrder) {
  testing::TempDir dir;
  Received received;
  auto receiver = std::make_unique<Receiver>(received, 0);
  int port = receiver->port();
  auto p = alerts::Pipeline::start(options_for(dir.path(), port));
  ASSERT_TRUE(p) << p.status().to_string();
  (*p)->raise(alert_with_id("b1"));
  (*p)->raise(alert_with_id("b2"));
  ASSERT_TRUE(eventually([&] { return received.all_ids().size() == 2; }));
  std::string no_failures = "medseal_alert_delivery_failures_total{destination=\"webhook http://127.0.0.1:" +
                            std::to_string(port) + "\"} 0\n";
  EXPECT_NE((*p)->metrics_text().find(no_failures), std::string::npos) << (*p)->metrics_text();

  receiver.reset();  // down
  for (const char* id : {"b3", "b4", "b5"}) (*p)->raise(alert_with_id(id));
  // Metrics name the webhook by its origin: the path may be a secret.
  std::string failures = "medseal_alert_delivery_failures_total{destination=\"webhook http://127.0.0.1:" +
                         std::to_string(port) + "\"} ";
  ASSERT_TRUE(eventually([&] {
    std::string text = (*p)->metrics_text();
    return text.find(failures) != std::string::npos && text.find(failures + "0\n") == std::string::npos;
  })) << (*p)->metrics_text();
  EXPECT_EQ((*p)->metrics_text().find("/hook"), std::string::npos);
  EXPECT_EQ(received.all_ids().size(), 2u);

  receiver = std::make_unique<Receiver>(received, port);  // back
  ASSERT_EQ(receiver->port(), port);
  ASSERT_TRUE(eventually([&] { return received.all_ids().size() >= 5; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(received.all_ids(), (std::vector<std::string>{"b1", "b2", "b3", "b4", "b5"}));
  std::lock_guard lock(received.mu);
  EXPECT_EQ(received.bodies[4]["id"], "b5");
  EXPECT_EQ(received.bodies[4]["kind"], "fork");
  EXPECT_EQ(received.bodies[4]["indexes"], nlohmann::json::array({7}));
}

TEST(AlertWebhook, ADestinationAddedLaterGetsOnlyNewAlerts) {
  testing::TempDir dir;
  {
    auto p = alerts::Pipeline::start(options_for(dir.path(), 0));
    ASSERT_TRUE(p) << p.status().to_string();
    (*p)->raise(alert_with_id("old"));
  }
  Received received;
  Receiver receiver(received, 0);
  auto p = alerts::Pipeline::start(options_for(dir.path(), receiver.port()));
  ASSERT_TRUE(p) << p.status().to_string();
  (*p)->raise(alert_with_id("new"));
  ASSERT_TRUE(eventually([&] { return !received.all_ids().empty(); }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(received.all_ids(), std::vector<std::string>{"new"});
}

TEST(AlertWebhook, BadUrlsAreRefused) {
  EXPECT_FALSE(alerts::make_webhook_destination("ftp://x/hook"));
  EXPECT_FALSE(alerts::make_webhook_destination("http://"));
  EXPECT_FALSE(alerts::make_webhook_destination("127.0.0.1:80/hook"));
  EXPECT_FALSE(alerts::make_webhook_destination("http://user:secret@127.0.0.1:80/hook"));
  EXPECT_TRUE(alerts::make_webhook_destination("http://127.0.0.1:80/hook"));
}

class AlertLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger::LedgerOptions options;
    options.batch_window = 1ms;
    auto l = ledger::Ledger::open(faults_, note::generate_signer_key("test/alerts"), options);
    ASSERT_TRUE(l) << l.status().to_string();
    ledger_ = std::move(*l);
  }
  void TearDown() override {
    pipeline_.reset();  // its ledger worker before the ledger
    ledger_.reset();
  }
  uint64_t size() { return ledger_->head().size; }

  testing::TempDir dir_;
  testing::MemoryStore store_;
  testing::FaultStore faults_{store_};
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<alerts::Pipeline> pipeline_;
};

TEST_F(AlertLedgerTest, EveryAlertIsASystemEntryWithIdsButNoEvidence) {
  auto o = options_for(dir_.path(), 0);
  o.ledger = ledger_.get();
  auto p = alerts::Pipeline::start(o);
  ASSERT_TRUE(p) << p.status().to_string();
  pipeline_ = std::move(*p);
  alerts::Alert a = alert_with_id("c1");
  pipeline_->raise(a);
  ASSERT_TRUE(eventually([&] { return size() == 1; }));
  auto extra = store_.read_extra(0);
  ASSERT_TRUE(extra) << extra.status().to_string();
  EXPECT_EQ(extra->statement, alerts::alert_statement(a));
  EXPECT_EQ(extra->statement, "{\"v\":1,\"op\":\"alert\",\"time\":" + std::to_string(a.time_ms) +
                                  ",\"id\":\"c1\",\"kind\":\"fork\",\"severity\":\"critical\","
                                  "\"summary\":\"log forked at size 7\",\"resources\":[\"Patient/p1/_history/2\"],"
                                  "\"indexes\":[7]}");
  EXPECT_EQ(extra->statement.find("evidence"), std::string::npos);
}

TEST_F(AlertLedgerTest, ALedgerThatFailsDelaysTheEntryButLosesNoAlert) {
  Received received;
  Receiver receiver(received, 0);
  auto o = options_for(dir_.path(), receiver.port());
  o.ledger = ledger_.get();
  auto p = alerts::Pipeline::start(o);
  ASSERT_TRUE(p) << p.status().to_string();
  pipeline_ = std::move(*p);

  faults_.fail_commits(Status::io("disk full"));
  pipeline_->raise(alert_with_id("d1"));
  // The other sinks have it at once; the ledger does not.
  ASSERT_TRUE(eventually([&] { return received.all_ids() == std::vector<std::string>{"d1"}; }));
  EXPECT_EQ(pipeline_->recent(0, 10).size(), 1u);
  ASSERT_TRUE(eventually([&] { return faults_.failed_commits() >= 2; }));  // retried
  EXPECT_EQ(size(), 0u);

  faults_.clear();
  ASSERT_TRUE(eventually([&] { return size() == 1; }));
  auto extra = store_.read_extra(0);
  ASSERT_TRUE(extra);
  EXPECT_NE(extra->statement.find("\"id\":\"d1\""), std::string::npos);
}

TEST(AlertMetrics, CountsPerKindAndSeverityAndTheIntegrityGauge) {
  testing::TempDir dir;
  auto p = alerts::Pipeline::start(options_for(dir.path(), 0));
  ASSERT_TRUE(p) << p.status().to_string();
  (*p)->raise(alerts::make_alert(alerts::Severity::kWarning, "witness-refusal", "w1 refused"));
  (*p)->raise(alerts::make_alert(alerts::Severity::kCritical, "witness-refusal", "w1 refused"));
  EXPECT_TRUE((*p)->integrity_ok());  // a refusing witness is not a tampered log
  EXPECT_NE((*p)->metrics_text().find("medseal_integrity_ok 1\n"), std::string::npos);
  (*p)->raise(alerts::make_alert(alerts::Severity::kCritical, "content-mismatch", "Patient/p1 changed"));
  std::string text = (*p)->metrics_text();
  EXPECT_FALSE((*p)->integrity_ok());
  EXPECT_NE(text.find("medseal_integrity_ok 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("medseal_alerts_total{kind=\"witness-refusal\",severity=\"warning\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("medseal_alerts_total{kind=\"content-mismatch\",severity=\"critical\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE medseal_alerts_total counter\n"), std::string::npos);
  // A restart does not clear the gauge; the counters start again.
  p->reset();
  auto again = alerts::Pipeline::start(options_for(dir.path(), 0));
  ASSERT_TRUE(again) << again.status().to_string();
  EXPECT_FALSE((*again)->integrity_ok());
  EXPECT_EQ((*again)->metrics_text().find("medseal_alerts_total{"), std::string::npos);
}

TEST(AlertMetrics, ARestartAfterOnlyNonIntegrityAlertsKeepsTheGaugeAtOne) {
  testing::TempDir dir;
  {
    auto p = alerts::Pipeline::start(options_for(dir.path(), 0));
    ASSERT_TRUE(p) << p.status().to_string();
    (*p)->raise(alerts::make_alert(alerts::Severity::kCritical, "witness-refusal", "w1 refused"));
    (*p)->raise(alerts::make_alert(alerts::Severity::kWarning, "fork", "a warning only"));
  }
  auto p = alerts::Pipeline::start(options_for(dir.path(), 0));
  ASSERT_TRUE(p) << p.status().to_string();
  EXPECT_TRUE((*p)->integrity_ok());
}

TEST(AlertOutbox, AStoredAlertReadsBackWhole) {
  testing::TempDir dir;
  auto outbox = alerts::Outbox::open(dir.path() + "/alerts.db");
  ASSERT_TRUE(outbox) << outbox.status().to_string();
  alerts::Alert a = alert_with_id("e1");
  ASSERT_TRUE((*outbox)->add(a));
  EXPECT_EQ((*outbox)->add(a).status().code(), Code::kConflict);  // one row per id
  auto newest = (*outbox)->newest(5);
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ(alerts::to_json(newest->front()), alerts::to_json(a));
  EXPECT_FALSE(alerts::alert_from_json(nlohmann::json{{"id", "x"}}));
}

// `medseal serve` end to end: a witness that refuses raises an alert through the one pipeline, and
// it reaches the webhook, GET /alerts, /metrics and the ledger.
TEST(AlertServe, AWitnessRefusalReachesTheWebhookAlertsMetricsAndLedger) {
  testing::TempDir dir;
  std::string data = dir.path() + "/data";
  auto keygen = testing::run_medseal({"keygen", "--origin", "test/alerts-serve", "--out", data});
  ASSERT_EQ(keygen.status, 0) << keygen.err;
  auto vkey = note::parse_verifier_key(keygen.out.substr(0, keygen.out.find('\n')));
  ASSERT_TRUE(vkey) << keygen.out;
  testing::FakeWitness witness("witness.example/w1", *vkey);
  witness.set_mode(testing::FakeWitness::Mode::kRefuse403);
  Received received;
  Receiver receiver(received, 0);
  testing::Server server(data, {"--witness", witness.url() + "=" + note::format_verifier_key(witness.vkey()),
                                "--alert-webhook", "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  httplib::Client c(server.base());
  (void)c.Get("/fhir/Patient");  // a refused request: an entry, so a checkpoint to submit

  ASSERT_TRUE(eventually([&] { return !received.all_ids().empty(); }, 20s)) << server.stderr_text();
  std::string id = received.all_ids().front();
  {
    std::lock_guard lock(received.mu);
    EXPECT_EQ(received.bodies.front()["kind"], "witness-refusal");
  }
  std::string admin = testing::read_file(data + "/admin.token");
  while (!admin.empty() && (admin.back() == '\n' || admin.back() == ' ')) admin.pop_back();
  auto listed = c.Get("/alerts", {{"Authorization", "Bearer " + admin}});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_EQ(nlohmann::json::parse(listed->body)["alerts"][0]["id"], id);
  EXPECT_TRUE(eventually([&] {
    auto m = c.Get("/metrics", {{"Authorization", "Bearer " + admin}});
    return m && m->body.find("medseal_alert_deliveries_total{destination=\"ledger\"} 1\n") != std::string::npos &&
           m->body.find("medseal_alerts_total{kind=\"witness-refusal\",severity=") != std::string::npos;
  }));
  EXPECT_NE(server.stderr_text().find("\"alert\":{"), std::string::npos);  // the JSON line on stderr
}

TEST(AlertServe, BadAlertFlagsAreUsageErrors) {
  testing::TempDir dir;
  auto r = testing::run_medseal({"serve", "--data", dir.path() + "/d", "--listen", "127.0.0.1:0",
                                 "--alert-syslog", "syslog.example:514"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("udp://HOST:PORT"), std::string::npos) << r.err;
  r = testing::run_medseal({"serve", "--data", dir.path() + "/d", "--listen", "127.0.0.1:0",
                            "--alert-webhook", "hooks.example/x"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("webhook"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace medseal
