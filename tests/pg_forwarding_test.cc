// Who the client is, through a follower (cluster/forwarded_identity.h): two `medseal serve` nodes
// over TLS with client certificates (scripts/test-pki.sh) on one PostgreSQL schema, started once
// for the file. A card holder is served through the follower as by the leader; failed
// authentications through the follower are counted against the client's own address, so one bad
// client does not lock out everyone behind that follower; and a client that writes the forwarding
// headers itself, to either node, gains nothing. An alert the follower raises itself (a burst of
// refused certificates) reaches the ledger through the leader (cluster/alert_intake.h), and is
// listed by the follower's own /alerts. /forensics and /portal/whoami through the follower are the
// leader's, as the client. Clients pick their loopback source address
// (127.0.0.0/8 is all local) so that the leader can tell them from the follower. A follower
// forwards over https only to a leader whose certificate it trusts.
// Skipped without MEDSEAL_TEST_PG (support/test_stores.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "storage/postgres/leadership.h"
#include "support/acked_writes.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "support/test_stores.h"

namespace medseal::testing {
namespace {

constexpr const char* kCardHolder = "PNOEE-38001085718";  // valid.pem, a clinician
constexpr int kFailureLimit = 5;                          // --auth-failure-limit on both nodes

class PgForwarding : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test_pg_url().empty()) return;
    ::signal(SIGPIPE, SIG_IGN);
    tmp_ = new TempDir();
    space_ = new StoreSpace(StoreKind::kPostgres);
    pki_ = tmp_->path() + "/pki";
    auto made = run_command(shell_quote(source_dir() + "/scripts/test-pki.sh") + " " + shell_quote(pki_));
    ASSERT_EQ(made.status, 0) << made.output;
    const std::string first = tmp_->path() + "/node0";
    ProgramOutcome key = run_medseal({"keygen", "--out", first, "--origin", "forwarding.example/medseal"});
    ASSERT_EQ(key.status, 0) << key.err;
    std::filesystem::permissions(first, std::filesystem::perms::owner_all);
    ProgramOutcome user = run_medseal({"user", "add", "--data", first, "--person", kCardHolder, "--role",
                                       "clinician", "--name", "mari.tamm"});
    ASSERT_EQ(user.status, 0) << user.err;
    clinician_ = issue_bearer(first, "clinician", "dr.token");
    auditor_ = issue_bearer(first, "auditor", "audit");
    for (int i = 1; i < 4; ++i) {  // 2 and 3 for another log, before any server writes in the first
      std::filesystem::copy(first, tmp_->path() + "/node" + std::to_string(i), std::filesystem::copy_options::recursive);
    }
    for (int i = 0; i < 2; ++i) {
      nodes_[i] = new Server(tmp_->path() + "/node" + std::to_string(i),
                             {"--store", space_->location(), "--tls-cert", pki_ + "/server.pem", "--tls-key",
                              pki_ + "/server.key", "--client-ca", pki_ + "/ca.pem", "--crl", pki_ + "/crl.pem",
                              "--auth-failure-limit", std::to_string(kFailureLimit)});
      ASSERT_TRUE(nodes_[i]->ready()) << nodes_[i]->stderr_text();
    }
    ASSERT_TRUE(eventually([] { return leader() >= 0; })) << "no leader elected";
  }
  static void TearDownTestSuite() {
    for (Server*& node : nodes_) delete node, node = nullptr;
    delete space_;
    delete tmp_;
  }
  void SetUp() override {
    if (test_pg_url().empty()) GTEST_SKIP() << kNoTestPg;
  }

  // The node whose address the leader advertised, or -1.
  static int leader() {
    auto conn = storage::postgres::Conn::connect(space_->location());
    if (!conn) return -1;
    auto address = storage::postgres::find_leader_address(**conn);
    for (int i = 0; address && i < 2; ++i) {
      if (nodes_[i]->base() == *address) return i;
    }
    return -1;
  }
  static int follower() { return 1 - leader(); }

  // A client of node `node` from loopback address `from`, with client certificate `cert` ("" none),
  // verifying the node against the test CA.
  static std::unique_ptr<httplib::SSLClient> client(int node, const std::string& from, const std::string& cert = "") {
    return client_of(*nodes_[node], from, cert);
  }
  static std::unique_ptr<httplib::SSLClient> client_of(const Server& server, const std::string& from,
                                                       const std::string& cert = "") {
    const std::string& base = server.base();
    const int port = std::stoi(base.substr(base.rfind(':') + 1));
    auto c = cert.empty() ? std::make_unique<httplib::SSLClient>("127.0.0.1", port)
                          : std::make_unique<httplib::SSLClient>("127.0.0.1", port, pki_ + "/" + cert + ".pem",
                                                                 pki_ + "/" + cert + ".key");
    c->set_ca_cert_path((pki_ + "/ca.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_socket_options([from](int sock) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
      EXPECT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&local), sizeof local), 0) << from;
    });
    return c;
  }

  // The status of GET /fhir/Patient with `headers`; 0 when there was no answer. Authenticated
  // clients get 200 or 403 (a page with patients they have no relation to), others 401 or 429.
  static int get_patients(httplib::SSLClient& c, httplib::Headers headers = {}) {
    headers.emplace("Accept", "application/fhir+json");
    auto res = c.Get("/fhir/Patient", headers);
    return res ? res->status : 0;
  }

  static bool authenticated(int status) { return status == 200 || status == 403; }

  // True once a statement in the leader's ledger holds every one of `parts`, polled for 10 s: the
  // leader appends handed-over alerts every watch interval (250 ms).
  static bool ledger_holds(const std::vector<std::string>& parts) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto res = client(leader(), "127.0.0.11")->Get("/ledger/statements?from=0&count=1000", auditor_);
      EXPECT_TRUE(res && res->status == 200) << (res ? std::to_string(res->status) + " " + res->body : "no answer");
      if (!res || res->status != 200) return false;
      const nlohmann::json page = nlohmann::json::parse(res->body);
      for (const nlohmann::json& entry : page["entries"]) {
        auto statement = crypto::base64_decode(entry["statement"].get<std::string>());
        bool all = statement.has_value();
        for (const std::string& part : parts) all = all && statement->find(part) != std::string::npos;
        if (all) return true;
      }
    }
    return false;
  }

  static TempDir* tmp_;
  static StoreSpace* space_;
  static std::string pki_;
  static Server* nodes_[2];
  static httplib::Headers clinician_, auditor_;  // tokens every node knows
};

TempDir* PgForwarding::tmp_ = nullptr;
StoreSpace* PgForwarding::space_ = nullptr;
std::string PgForwarding::pki_;
Server* PgForwarding::nodes_[2] = {nullptr, nullptr};
httplib::Headers PgForwarding::clinician_, PgForwarding::auditor_;

TEST_F(PgForwarding, ACardHolderIsServedThroughTheFollowerAsThePerson) {
  auto card = client(follower(), "127.0.0.2", "valid");
  auto put = card->Put("/fhir/Patient/fwd-1", {{"Accept", "application/fhir+json"}},
                       R"({"resourceType":"Patient","id":"fwd-1"})", "application/fhir+json");
  ASSERT_TRUE(put) << httplib::to_string(put.error());
  ASSERT_EQ(put->status, 201) << put->body;
  auto read = card->Get("/fhir/Patient/fwd-1", {{"Accept", "application/fhir+json"}});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200) << read->body;
  // The leader recorded the person the users registry names for the card, not the follower.
  httplib::Headers auditor = auditor_;
  auditor.emplace("Accept", "application/fhir+json");
  auto trail = client(leader(), "127.0.0.2")->Get("/fhir/AuditEvent?patient=Patient/fwd-1", auditor);
  ASSERT_TRUE(trail);
  EXPECT_EQ(trail->status, 200) << trail->body;
  EXPECT_NE(trail->body.find(R"("display":"mari.tamm")"), std::string::npos) << trail->body;
}

TEST_F(PgForwarding, FailedAuthenticationsThroughTheFollowerCountAgainstTheClient) {
  const int through = follower();
  auto bad = client(through, "127.0.0.3");
  for (int i = 0; i < kFailureLimit; ++i) {
    EXPECT_EQ(get_patients(*bad, {{"Authorization", "Bearer wrong-" + std::to_string(i)}}), 401) << i;
  }
  EXPECT_EQ(get_patients(*bad, clinician_), 429) << "the bad client's address is over its limit";
  // Another client behind the same follower is not: the leader counted the bad client's address.
  auto good = client(through, "127.0.0.4");
  EXPECT_TRUE(authenticated(get_patients(*good, clinician_)));
  auto card = client(through, "127.0.0.4", "valid");
  EXPECT_TRUE(authenticated(get_patients(*card)));
}

TEST_F(PgForwarding, ForwardingHeadersAClientWritesItselfGainNothing) {
  const httplib::Headers forged = {
      {"X-Medseal-Forwarded-For", "127.0.0.9"},
      {"X-Medseal-Forwarded-Person", kCardHolder},
      {"X-Medseal-Forwarded-Proof", "v1 " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                 std::chrono::system_clock::now().time_since_epoch())
                                                                 .count()) +
                                        " " + std::string(32, 'a') + " " + std::string(64, '0')}};
  for (int node : {leader(), follower()}) {
    // No person from the headers: without credentials the answer is 401.
    EXPECT_EQ(get_patients(*client(node, "127.0.0.5"), forged), 401) << "node " << node;
  }
  // Failures are counted against the sender's own address, not the one its headers name.
  auto liar = client(leader(), "127.0.0.6");
  for (int i = 0; i < kFailureLimit; ++i) {
    httplib::Headers h = forged;
    h.emplace("Authorization", "Bearer wrong-" + std::to_string(i));
    EXPECT_EQ(get_patients(*liar, h), 401) << i;
  }
  EXPECT_EQ(get_patients(*liar, clinician_), 429);
  EXPECT_TRUE(authenticated(get_patients(*client(leader(), "127.0.0.9"), clinician_)));
  EXPECT_TRUE(nodes_[leader()]->wait_for_stderr("forwarded identity ignored", 5));
}

TEST_F(PgForwarding, AnAlertTheFollowerRaisesReachesTheLedger) {
  const int through = follower();
  for (int i = 0; i < kFailureLimit; ++i) {
    auto expired = client(through, "127.0.0.10", "expired");
    EXPECT_EQ(get_patients(*expired), 0) << "an expired card is refused at the handshake";
  }
  // Only the follower saw these cards: its auth-failure-burst alert names the card's person.
  ASSERT_TRUE(nodes_[through]->wait_for_stderr("person:PNOEE-38001085729", 5)) << nodes_[through]->stderr_text();
  EXPECT_TRUE(ledger_holds({R"("op":"alert")", "person:PNOEE-38001085729"}))
      << "the follower's alert is not in the ledger\n" << nodes_[through]->stderr_text();
}

// The authenticated routes besides /fhir and /ledger (server/http_server.cc, leader_answers).
// /forensics appends an access entry, which only the leader can: the follower forwards it, and the
// auditor it names is the token's.
TEST_F(PgForwarding, AnAuditorsForensicsThroughTheFollowerIsAnsweredAndRecorded) {
  auto res = client(follower(), "127.0.0.20")->Get("/forensics?identity=forensics-probe", auditor_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(nlohmann::json::accept(res->body)) << res->body.substr(0, 200);
  EXPECT_TRUE(ledger_holds({R"("op":"forensics")", "identity=forensics-probe", R"("audit")"}));
  // A card holder of another role is refused by the leader, as the person on the card.
  auto card = client(follower(), "127.0.0.20", "valid")->Get("/forensics?identity=forensics-card");
  ASSERT_TRUE(card);
  EXPECT_EQ(card->status, 403) << card->body;
  EXPECT_TRUE(ledger_holds({R"("op":"forensics")", "identity=forensics-card", "mari.tamm"}));
}

// /portal/whoami names whom the leader takes the credentials for, and its failures count with the
// client's others at the leader, as on one node.
TEST_F(PgForwarding, ThePortalsWhoamiThroughTheFollowerIsTheLeaders) {
  auto card = client(follower(), "127.0.0.21", "valid")->Get("/portal/whoami");
  ASSERT_TRUE(card);
  ASSERT_EQ(card->status, 200) << card->body;
  EXPECT_EQ(nlohmann::json::parse(card->body).value("name", ""), "mari.tamm") << card->body;
  auto bad = client(follower(), "127.0.0.22");
  for (int i = 0; i < kFailureLimit; ++i) {
    auto res = bad->Get("/portal/whoami", {{"Authorization", "Bearer wrong-" + std::to_string(i)}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << i;
  }
  EXPECT_EQ(get_patients(*bad, clinician_), 429) << "the leader did not count the whoami failures";
}

// The alert routes are each node's own (its pipeline, a per-node scrape): the follower answers
// them itself, listing the alerts it raised, after authenticating the client as any node does.
TEST_F(PgForwarding, TheFollowersAlertsAreItsOwn) {
  const int through = follower();
  for (int i = 0; i < kFailureLimit; ++i) {
    EXPECT_EQ(get_patients(*client(through, "127.0.0.23", "expired")), 0);
  }
  EXPECT_TRUE(eventually([&] {
    auto res = client(through, "127.0.0.24")->Get("/alerts", auditor_);
    return res && res->status == 200 && res->body.find("person:PNOEE-38001085729") != std::string::npos;
  })) << "the follower's /alerts does not list its own alert";
  auto scrape = client(through, "127.0.0.24")->Get("/metrics", auditor_);
  ASSERT_TRUE(scrape);
  EXPECT_EQ(scrape->status, 200) << scrape->body;
  auto card = client(through, "127.0.0.24", "valid")->Get("/alerts");
  ASSERT_TRUE(card);
  EXPECT_EQ(card->status, 403) << "a clinician's card";
  auto none = client(through, "127.0.0.24")->Get("/alerts");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
}

// Over https a follower forwards only to a leader whose certificate it trusts: by default one
// chaining to its own --tls-cert chain, or to --cluster-ca. Two more nodes on another log.
TEST_F(PgForwarding, AFollowerForwardsOnlyToALeaderWhoseCertificateItTrusts) {
  StoreSpace other_log(StoreKind::kPostgres);
  const std::string other = tmp_->path() + "/other";
  auto made = run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 "
                          "-addext subjectAltName=IP:127.0.0.1 -keyout " + shell_quote(other + ".key") +
                          " -out " + shell_quote(other + ".pem") + " 2>&1");
  ASSERT_EQ(made.status, 0) << made.output;
  Server stranger(tmp_->path() + "/node2", {"--store", other_log.location(), "--tls-cert", other + ".pem",
                                            "--tls-key", other + ".key"});
  ASSERT_TRUE(stranger.ready()) << stranger.stderr_text();
  ASSERT_TRUE(eventually([&] {
    auto conn = storage::postgres::Conn::connect(other_log.location());
    auto address = conn ? storage::postgres::find_leader_address(**conn) : Result<std::string>(conn.status());
    return address && *address == stranger.base();
  })) << "the node with the other certificate does not lead";
  const std::vector<std::string> follower_flags = {"--store", other_log.location(), "--tls-cert", pki_ + "/server.pem",
                                                   "--tls-key", pki_ + "/server.key"};
  {
    Server wary(tmp_->path() + "/node3", follower_flags);
    ASSERT_TRUE(wary.ready()) << wary.stderr_text();
    auto res = client_of(wary, "127.0.0.13")->Get("/fhir/Patient", clinician_);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503) << res->body;
    EXPECT_NE(res->body.find("not trusted"), std::string::npos) << res->body;
    EXPECT_EQ(wary.stop(), 0);
  }
  std::vector<std::string> trusting_flags = follower_flags;
  trusting_flags.insert(trusting_flags.end(), {"--cluster-ca", other + ".pem"});
  Server trusting(tmp_->path() + "/node3", trusting_flags);
  ASSERT_TRUE(trusting.ready()) << trusting.stderr_text();
  EXPECT_TRUE(authenticated(get_patients(*client_of(trusting, "127.0.0.13"), clinician_)));
}

}  // namespace
}  // namespace medseal::testing
