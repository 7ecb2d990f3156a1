// `medseal serve` over TLS with client certificates from scripts/test-pki.sh: a valid ID-card-like
// certificate is the identity of the person the users registry maps its serialNumber to; an
// expired, a revoked (CRL) and a foreign-CA certificate are refused during the TLS handshake, so
// the client never gets an HTTP answer (the server logs each with the person and the reason); a
// registered person revoked while the server runs is 401 within about a second; bearer tokens
// still work over TLS without a certificate; TLS 1.1 is refused; bad TLS files and plain HTTP on
// a reachable address refuse to start with one line.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

using testing::ProgramOutcome;
using testing::run_command;
using testing::run_medseal;
using testing::shell_quote;
using testing::TempDir;

constexpr const char* kClinicianPerson = "PNOEE-38001085718";

class TlsServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A server refusing a client certificate in TLS 1.3 closes the socket the client is writing
    // its request to; OpenSSL's write() must not kill the test.
    ::signal(SIGPIPE, SIG_IGN);
    tmp_ = new TempDir();
    pki_ = tmp_->path() + "/pki";
    data_ = tmp_->path() + "/data";
    auto made = run_command(shell_quote(testing::source_dir() + "/scripts/test-pki.sh") + " " + shell_quote(pki_));
    ASSERT_EQ(made.status, 0) << made.output;
    ASSERT_EQ(::mkdir(data_.c_str(), 0700), 0);
    // Every client certificate's person is registered, so a refusal can only be the certificate's.
    for (auto [person, name] : {std::pair{kClinicianPerson, "mari.tamm"}, {"PNOEE-38001085729", "vello.vana"},
                                {"PNOEE-38001085730", "tiina.tagasi"}}) {
      auto added = run_medseal({"user", "add", "--data", data_, "--person", person, "--role", "clinician", "--name", name});
      ASSERT_EQ(added.status, 0) << added.err;
    }
    server_ = new testing::Server(data_, {"--tls-cert", pki_ + "/server.pem", "--tls-key", pki_ + "/server.key",
                                          "--client-ca", pki_ + "/ca.pem", "--crl", pki_ + "/crl.pem"});
    ASSERT_TRUE(server_->ready()) << server_->first_lines() << server_->stderr_text();
    ASSERT_EQ(server_->base().rfind("https://127.0.0.1:", 0), 0u) << server_->base();
    port_ = std::stoi(server_->base().substr(server_->base().rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
  }

  // A client that verifies the server against the test CA, with the named client certificate
  // ("" for none).
  static std::unique_ptr<httplib::SSLClient> client(const std::string& cert) {
    auto c = cert.empty() ? std::make_unique<httplib::SSLClient>("127.0.0.1", port_)
                          : std::make_unique<httplib::SSLClient>("127.0.0.1", port_, pki_ + "/" + cert + ".pem",
                                                                 pki_ + "/" + cert + ".key");
    c->set_ca_cert_path((pki_ + "/ca.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    return c;
  }

  static httplib::Result get_patients(httplib::SSLClient& c, const std::string& token = "") {
    httplib::Headers h = {{"Accept", "application/fhir+json"}};
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get("/fhir/Patient", h);
  }

  static std::string admin_token() {
    std::string t = testing::read_file(data_ + "/admin.token");
    return t.substr(0, t.find('\n'));
  }

  static TempDir* tmp_;
  static testing::Server* server_;
  static std::string pki_, data_;
  static int port_;
};

TempDir* TlsServeTest::tmp_ = nullptr;
testing::Server* TlsServeTest::server_ = nullptr;
std::string TlsServeTest::pki_, TlsServeTest::data_;
int TlsServeTest::port_ = 0;

TEST_F(TlsServeTest, AValidCertificateIsTheRegisteredPerson) {
  auto c = client("valid");
  auto res = get_patients(*c);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  auto put = c->Put("/fhir/Patient/tls-1", {{"Accept", "application/fhir+json"}},
                    R"({"resourceType":"Patient","id":"tls-1"})", "application/fhir+json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201) << put->body;
  // The access trail names the writer as the users registry names the certificate's person.
  ProgramOutcome auditor = run_medseal({"token", "issue", "--data", data_, "--role", "auditor", "--name", "audit"});
  ASSERT_EQ(auditor.status, 0) << auditor.err;
  const std::string auditor_token = auditor.out.substr(0, auditor.out.find('\n'));
  auto trail = client("")->Get("/fhir/AuditEvent?patient=Patient/tls-1",
                               {{"Accept", "application/fhir+json"}, {"Authorization", "Bearer " + auditor_token}});
  ASSERT_TRUE(trail);
  EXPECT_EQ(trail->status, 200) << trail->body;
  EXPECT_NE(trail->body.find(R"("display":"mari.tamm")"), std::string::npos) << trail->body;
  EXPECT_EQ(trail->body.find(kClinicianPerson), std::string::npos) << "the name, not the personal code";
}

TEST_F(TlsServeTest, ExpiredRevokedAndForeignCertificatesAreRefusedAtTheHandshake) {
  for (const char* cert : {"expired", "revoked", "foreign"}) {
    auto c = client(cert);
    auto res = get_patients(*c);
    EXPECT_FALSE(res) << cert << " got HTTP " << res->status;
  }
  // Each refusal is logged with the certificate's person and OpenSSL's reason.
  for (const char* reason : {"certificate has expired", "certificate revoked", "unable to get local issuer certificate"}) {
    EXPECT_TRUE(server_->wait_for_stderr(reason, 5)) << reason << "\n" << server_->stderr_text();
  }
  EXPECT_NE(server_->stderr_text().find(R"("person":"PNOEE-38001085729")"), std::string::npos);
  // The same client with a good certificate is answered: the refusals above are the certificates'.
  auto res = get_patients(*client("valid"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsServeTest, WithoutACertificateATokenWorksAndNothingIs401) {
  auto c = client("");
  auto none = get_patients(*c);
  ASSERT_TRUE(none) << httplib::to_string(none.error());
  EXPECT_EQ(none->status, 401);
  // The admin sees no clinical content, but alerts are its business.
  auto with_token = c->Get("/alerts", {{"Authorization", "Bearer " + admin_token()}});
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 200) << with_token->body;
  auto healthz = c->Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
}

TEST_F(TlsServeTest, APersonRevokedWhileTheServerRunsIsRefusedWithinASecond) {
  auto added = run_medseal({"user", "add", "--data", data_, "--person", "PNOEE-49002124277", "--role", "patient",
                            "--name", "jaan.kask", "--patient", "Patient/jaan"});
  ASSERT_EQ(added.status, 0) << added.err;
  EXPECT_TRUE(testing::eventually([] {
    auto res = client("patient")->Get("/fhir/Patient/jaan", {{"Accept", "application/fhir+json"}});
    return res && res->status != 401;
  })) << "a person added while the server runs is known";
  auto revoked = run_medseal({"user", "revoke", "--data", data_, "--person", "PNOEE-49002124277"});
  ASSERT_EQ(revoked.status, 0) << revoked.err;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto res = client("patient")->Get("/fhir/Patient/jaan", {{"Accept", "application/fhir+json"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401) << res->body;
  EXPECT_NE(res->body.find("unknown certificate holder"), std::string::npos) << res->body;
}


TEST_F(TlsServeTest, Tls11IsRefusedTls12Accepted) {
  for (int version : {TLS1_1_VERSION, TLS1_2_VERSION}) {
    auto c = client("");
    SSL_CTX* ctx = c->ssl_context();
    SSL_CTX_set_security_level(ctx, 0);
    ASSERT_EQ(SSL_CTX_set_min_proto_version(ctx, version), 1);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(ctx, version), 1);
    auto res = c->Get("/healthz");
    if (version == TLS1_1_VERSION) {
      EXPECT_FALSE(res) << "TLS 1.1 was accepted";
    } else {
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 200);
    }
  }
}

TEST(TlsServeFlags, BadFilesAndPlainHttpOnAReachableAddressRefuseToStart) {
  TempDir tmp;
  const std::string pki = tmp.path() + "/pki";
  auto made = run_command(shell_quote(testing::source_dir() + "/scripts/test-pki.sh") + " " + shell_quote(pki));
  ASSERT_EQ(made.status, 0) << made.output;
  const std::string data = tmp.path() + "/data";
  const std::vector<std::vector<std::string>> refused = {
      {"--listen", "0.0.0.0:0"},
      {"--tls-cert", pki + "/server.pem"},
      {"--tls-cert", pki + "/server.pem", "--tls-key", pki + "/valid.key"},
      {"--tls-cert", pki + "/missing.pem", "--tls-key", pki + "/server.key"},
      {"--tls-cert", pki + "/server.pem", "--tls-key", pki + "/server.key", "--client-ca", pki + "/server.key"},
      {"--tls-cert", pki + "/server.pem", "--tls-key", pki + "/server.key", "--client-ca", pki + "/ca.pem", "--crl",
       pki + "/ca.pem"},
      {"--tls-cert", pki + "/server.pem", "--tls-key", pki + "/server.key", "--identity-field", "noSuchField"},
      {"--client-ca", pki + "/ca.pem"},
  };
  for (const auto& flags : refused) {
    std::vector<std::string> args = {"serve", "--data", data};
    if (flags[0] != "--listen") args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = run_medseal(args);
    EXPECT_EQ(r.status, 2) << flags.back() << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("medseal serve: ", 0), 0u) << r.err;
  }
}

}  // namespace
}  // namespace medseal
