// Certificate holders and failed authentications: the users registry (strict file, add, revoke,
// changes by another process seen by a running registry), the person a certificate names, the
// failure limiter (per source and per identity, windows, one auth-failure-burst alert per window),
// the authenticator's choices, and a running server's 429 with Retry-After, its alert, and no
// secret in its log.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/pem.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "alerts/alert.h"
#include "identity/auth_limiter.h"
#include "identity/authenticator.h"
#include "identity/certificate.h"
#include "identity/user_registry.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::identity {
namespace {

using medseal::testing::read_file;
using medseal::testing::TempDir;

class ManualClock : public Clock {
 public:
  uint64_t now_ms() const override { return now_.load(); }
  void advance(uint64_t ms) { now_ += ms; }

 private:
  std::atomic<uint64_t> now_{1'700'000'000'000};
};

const Identity kClinician{"mari.tamm", Role::kClinician, ""};
const Identity kPatient{"jaan.kask", Role::kPatient, "Patient/jaan"};

TEST(UserRegistry, AddFindRevokeAndAddAgain) {
  TempDir tmp;
  const std::string path = tmp.path() + "/users";
  auto users = UserRegistry::open(path);
  ASSERT_TRUE(users.is_ok()) << users.status().to_string();
  EXPECT_EQ(testing::file_mode(path), 0600u);
  ASSERT_TRUE((*users)->add("PNOEE-38001085718", kClinician).is_ok());
  EXPECT_EQ((*users)->add("PNOEE-38001085718", kPatient).code(), Code::kConflict);
  auto who = (*users)->find("PNOEE-38001085718");
  ASSERT_TRUE(who.is_ok());
  EXPECT_EQ(who->name, "mari.tamm");
  EXPECT_EQ(who->role, Role::kClinician);
  EXPECT_EQ((*users)->find("PNOEE-00000000000").status().message(), "unknown certificate holder");

  ASSERT_TRUE((*users)->revoke("PNOEE-38001085718").is_ok());
  EXPECT_EQ((*users)->find("PNOEE-38001085718").status().code(), Code::kNotFound);
  EXPECT_EQ((*users)->revoke("PNOEE-38001085718").code(), Code::kNotFound);
  ASSERT_TRUE((*users)->add("PNOEE-38001085718", kPatient).is_ok()) << "a revoked person may come back";
  EXPECT_EQ((*users)->find("PNOEE-38001085718")->patient, "Patient/jaan");

  auto reopened = UserRegistry::open(path);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  auto all = (*reopened)->list();
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE((*all)[0].revoked);
  EXPECT_FALSE((*all)[1].revoked);
  EXPECT_EQ((*all)[1].who.role, Role::kPatient);

  EXPECT_EQ((*users)->add("has space", kClinician).code(), Code::kInvalidArgument);
  EXPECT_EQ((*users)->add("PNOEE-1", {"x", Role::kPatient, ""}).code(), Code::kInvalidArgument);
}

TEST(UserRegistry, ChangesByAnotherProcessAreSeenByARunningRegistry) {
  TempDir tmp;
  const std::string path = tmp.path() + "/users";
  auto server = UserRegistry::open(path);
  auto cli = UserRegistry::open(path);
  ASSERT_TRUE(server.is_ok() && cli.is_ok());
  EXPECT_FALSE((*server)->find("PNOEE-1").is_ok());
  ASSERT_TRUE((*cli)->add("PNOEE-1", kClinician).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE((*server)->find("PNOEE-1").is_ok());
  ASSERT_TRUE((*cli)->revoke("PNOEE-1").is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE((*server)->find("PNOEE-1").is_ok());
}

TEST(UserRegistry, ADamagedFileIsRefusedNamingTheLine) {
  TempDir tmp;
  const std::string path = tmp.path() + "/users";
  const std::string good = R"({"person":"P-1","name":"a","role":"clinician","patient":"","created":1})" "\n";
  for (const std::string& bad : {std::string("nonsense"),
                                 std::string(R"({"person":"P-1","name":"a","role":"clinician","patient":"","created":1})"),
                                 std::string(R"({"person":"P 2","name":"a","role":"clinician","patient":"","created":1})"),
                                 std::string(R"({"person":"P-2","name":"a","role":"root","patient":"","created":1})"),
                                 std::string(R"({"person":"P-2","name":"a","role":"clinician","patient":"","created":1,"x":1})"),
                                 std::string(R"({"revoked":"P-9","at":1})"),
                                 std::string(R"({"revoked":"P-1"})")}) {
    std::ofstream(path, std::ios::trunc) << good << bad << "\n";
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    auto opened = UserRegistry::open(path);
    ASSERT_FALSE(opened.is_ok()) << bad;
    EXPECT_NE(opened.status().message().find("line 2"), std::string::npos) << opened.status().message();
  }
  std::ofstream(path, std::ios::trunc) << good << R"({"revoked":"P-1","at":2})" "\n";
  EXPECT_TRUE(UserRegistry::open(path).is_ok());
}

X509* read_certificate(const std::string& file) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return cert;
}

TEST(Certificate, ThePersonIsTheConfiguredSubjectField) {
  TempDir tmp;
  auto made = testing::run_command(testing::shell_quote(testing::source_dir() + "/scripts/test-pki.sh") + " " +
                                   testing::shell_quote(tmp.path()));
  ASSERT_EQ(made.status, 0) << made.output;
  X509* cert = read_certificate(tmp.path() + "/valid.pem");
  ASSERT_NE(cert, nullptr);
  auto serial = parse_identity_field("serialNumber");
  auto cn = parse_identity_field("CN");
  auto email = parse_identity_field("emailAddress");
  ASSERT_TRUE(serial.is_ok() && cn.is_ok() && email.is_ok());
  EXPECT_EQ(*certificate_person(*cert, *serial), "PNOEE-38001085718");
  // "TAMM,MARI,38001085718": a comma is not a person-id character.
  EXPECT_EQ(certificate_person(*cert, *cn).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(certificate_person(*cert, *email).status().code(), Code::kNotFound);
  EXPECT_EQ(parse_identity_field("noSuchField").status().code(), Code::kInvalidArgument);
  X509_free(cert);
}

TEST(AuthFailureLimiter, LimitsPerSourceAndPerIdentityWithOneAlertPerWindow) {
  alerts::MemorySink sink;
  ManualClock clock;
  AuthFailureLimiter limiter(sink, {3, 60}, clock);
  for (int i = 0; i < 2; ++i) limiter.record_failure("10.0.0.1", "token:abc");
  EXPECT_EQ(limiter.retry_after("10.0.0.1", "token:abc"), 0u);
  limiter.record_failure("10.0.0.1", "token:abc");
  EXPECT_EQ(limiter.retry_after("10.0.0.1", ""), 60u);
  EXPECT_EQ(limiter.retry_after("10.0.0.2", "token:abc"), 60u) << "the identity is limited from anywhere";
  EXPECT_EQ(limiter.retry_after("10.0.0.2", "token:def"), 0u);
  limiter.record_failure("10.0.0.1", "token:abc");
  auto raised = sink.alerts();
  ASSERT_EQ(raised.size(), 2u) << "one per key reaching the limit, not per failure";
  EXPECT_EQ(raised[0].kind, "auth-failure-burst");
  EXPECT_EQ(raised[0].evidence["key"], "source:10.0.0.1");
  EXPECT_EQ(raised[1].evidence["key"], "identity:token:abc");
  clock.advance(30'000);
  EXPECT_EQ(limiter.retry_after("10.0.0.1", ""), 30u);
  clock.advance(30'000);
  EXPECT_EQ(limiter.retry_after("10.0.0.1", "token:abc"), 0u) << "the window has ended";

  AuthFailureLimiter off(sink, {0, 60}, clock);
  for (int i = 0; i < 100; ++i) off.record_failure("10.0.0.9", "");
  EXPECT_EQ(off.retry_after("10.0.0.9", ""), 0u);
}

TEST(Authenticator, TokenFirstThenCertificateAndFailuresCounted) {
  TempDir tmp;
  auto tokens = TokenStore::open(tmp.path() + "/tokens");
  auto users = UserRegistry::open(tmp.path() + "/users");
  ASSERT_TRUE(tokens.is_ok() && users.is_ok());
  ASSERT_TRUE((*users)->add("PNOEE-1", kClinician).is_ok());
  std::string token = *(*tokens)->issue(kPatient);
  alerts::MemorySink sink;
  AuthFailureLimiter limiter(sink, {2, 60});
  Authenticator auth(**tokens, users->get(), &limiter);

  EXPECT_EQ(auth.authenticate({"", "PNOEE-1", "a"}).who->name, "mari.tamm");
  EXPECT_EQ(auth.authenticate({token, "PNOEE-1", "a"}).who->name, "jaan.kask") << "a bearer token counts first";
  Authentication none = auth.authenticate({"", "", "a"});
  EXPECT_FALSE(none.who);
  EXPECT_EQ(none.reason, "no credentials");
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(auth.authenticate({"", "", "a"}).who);
  EXPECT_EQ(auth.authenticate({"", "", "a"}).retry_after_s, 0u) << "no credentials is not a failed attempt";

  EXPECT_EQ(auth.authenticate({"", "PNOEE-2", "b"}).reason, "unknown certificate holder");
  EXPECT_EQ(auth.authenticate({"mst_bad", "", "b"}).reason, "unknown token");
  Authentication limited = auth.authenticate({token, "", "b"});
  EXPECT_FALSE(limited.who) << "good credentials from a limited source are refused too";
  EXPECT_GT(limited.retry_after_s, 0u);
  EXPECT_EQ(limited.reason, "too many failed authentications");
  EXPECT_TRUE(auth.authenticate({token, "", "c"}).who);
}

TEST(AuthFailureLimit, ARunningServerAnswers429WithRetryAfterAndAlertsWithoutSecrets) {
  TempDir tmp;
  testing::Server server(tmp.path() + "/data", {"--auth-failure-limit", "3"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::string admin = read_file(tmp.path() + "/data/admin.token");
  admin = admin.substr(0, admin.find('\n'));
  httplib::Client client(server.base());
  const std::string secret = "mst_" + std::string(40, 'S') + "abc";
  auto get = [&](const std::string& token) {
    return client.Get("/fhir/Patient", {{"Accept", "application/fhir+json"}, {"Authorization", "Bearer " + token}});
  };
  for (int i = 0; i < 3; ++i) {
    auto res = get(secret);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
  }
  auto limited = get(secret);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "60");
  EXPECT_NE(limited->body.find(R"("resourceType":"OperationOutcome")"), std::string::npos) << limited->body;
  EXPECT_NE(limited->body.find(R"("code":"throttled")"), std::string::npos) << limited->body;
  auto good = get(admin);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 429) << "the source is limited, whatever it presents";
  auto healthz = client.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200) << "public routes are not limited";

  ASSERT_TRUE(server.wait_for_stderr("auth-failure-burst", 5)) << server.stderr_text();
  const std::string log = server.stderr_text();
  EXPECT_EQ(log.find(secret.substr(4)), std::string::npos) << "the token is never logged";
  EXPECT_EQ(log.find(admin.substr(4)), std::string::npos);
  EXPECT_NE(log.find("source:127.0.0.1"), std::string::npos) << log;
}

}  // namespace
}  // namespace medseal::identity
