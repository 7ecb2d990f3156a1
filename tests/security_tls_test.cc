// `medseal serve` over TLS negotiates modern suites only (server/tls.h), as Debian's own
// `openssl s_client` sees it: CBC, SHA-1 MACs, RSA key exchange and TLS 1.3's CCM suites are
// refused with the server's handshake-failure alert, ECDHE with AES-GCM or ChaCha20-Poly1305 is
// accepted, and the server's order of preference wins over the client's. A control run against
// `openssl s_server` with OpenSSL's defaults shows the client really offers what is refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/paths.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

using testing::run_command;
using testing::shell_quote;

// What s_client reports of one handshake offering `ciphers` (TLS 1.2) or `suites` (TLS 1.3).
struct Handshake {
  bool ok = false;
  std::string cipher;  // negotiated, when ok
  std::string output;
};

Handshake handshake(int port, const std::string& version, const std::string& offer) {
  // @SECLEVEL=0: the client offers even what its own defaults would not, so a refusal is the server's.
  std::string option = version == "-tls1_3" ? "-ciphersuites " + shell_quote(offer)
                                            : "-cipher " + shell_quote(offer + ":@SECLEVEL=0");
  auto out = run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " " + version + " " +
                         option + " </dev/null 2>&1");
  Handshake h{out.status == 0, "", out.output};
  size_t at = out.output.find("Cipher is ");
  if (at != std::string::npos) {
    at += 10;
    h.cipher = out.output.substr(at, out.output.find('\n', at) - at);
  }
  if (h.cipher == "(NONE)") h.ok = false;
  return h;
}

// The server's "handshake failure" alert, as OpenSSL's client reports it.
bool refused_by_server(const Handshake& h) {
  return !h.ok && h.output.find("alert handshake failure") != std::string::npos;
}

constexpr const char* kWeakTls12[] = {
    "ECDHE-ECDSA-AES128-SHA",     // CBC, SHA-1 MAC
    "ECDHE-ECDSA-AES256-SHA",     // CBC, SHA-1 MAC
    "ECDHE-ECDSA-AES128-SHA256",  // CBC
    "ECDHE-ECDSA-AES256-SHA384",  // CBC
    "ECDHE-ECDSA-NULL-SHA",       // no encryption
};
constexpr const char* kStrongTls12[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                        "ECDHE-ECDSA-CHACHA20-POLY1305"};

class TlsCiphersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::signal(SIGPIPE, SIG_IGN);
    tmp_ = new testing::TempDir();
    pki_ = tmp_->path() + "/pki";
    auto made = run_command(shell_quote(testing::source_dir() + "/scripts/test-pki.sh") + " " + shell_quote(pki_));
    ASSERT_EQ(made.status, 0) << made.output;
    server_ = new testing::Server(tmp_->path() + "/data", {"--tls-cert", pki_ + "/server.pem", "--tls-key",
                                                           pki_ + "/server.key", "--no-sentinel"});
    ASSERT_TRUE(server_->ready()) << server_->stderr_text();
    port_ = std::stoi(server_->base().substr(server_->base().rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tmp_;
  }

  static testing::TempDir* tmp_;
  static testing::Server* server_;
  static std::string pki_;
  static int port_;
};

testing::TempDir* TlsCiphersTest::tmp_ = nullptr;
testing::Server* TlsCiphersTest::server_ = nullptr;
std::string TlsCiphersTest::pki_;
int TlsCiphersTest::port_ = 0;

TEST_F(TlsCiphersTest, WeakTls12SuitesAreRefusedByTheServer) {
  for (const char* cipher : kWeakTls12) {
    Handshake h = handshake(port_, "-tls1_2", cipher);
    EXPECT_TRUE(refused_by_server(h)) << cipher << " negotiated " << h.cipher << "\n" << h.output;
  }
  // RSA key exchange (and the server's key is ECDSA anyway).
  for (const char* cipher : {"AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"}) {
    EXPECT_FALSE(handshake(port_, "-tls1_2", cipher).ok) << cipher;
  }
}

TEST_F(TlsCiphersTest, ModernSuitesAreAccepted) {
  for (const char* cipher : kStrongTls12) {
    Handshake h = handshake(port_, "-tls1_2", cipher);
    EXPECT_TRUE(h.ok) << cipher << "\n" << h.output;
    EXPECT_EQ(h.cipher, cipher);
  }
  for (const char* suite : {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    Handshake h = handshake(port_, "-tls1_3", suite);
    EXPECT_TRUE(h.ok) << suite << "\n" << h.output;
    EXPECT_EQ(h.cipher, suite);
  }
}

TEST_F(TlsCiphersTest, Tls13CcmSuitesAreRefused) {
  for (const char* suite : {"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}) {
    Handshake h = handshake(port_, "-tls1_3", suite);
    EXPECT_FALSE(h.ok) << suite << " negotiated " << h.cipher;
  }
}

TEST_F(TlsCiphersTest, TheServersOrderWins) {
  // The client prefers a weak suite, then ChaCha20; the server picks its own first choice.
  Handshake h = handshake(port_, "-tls1_2",
                          "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256");
  ASSERT_TRUE(h.ok) << h.output;
  EXPECT_EQ(h.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsCiphersTest, ControlOpenSslDefaultsAcceptWhatMedsealRefuses) {
  int port = testing::free_loopback_port(SOCK_STREAM);
  ASSERT_GT(port, 0);
  std::string server = "openssl s_server -quiet -cert " + shell_quote(pki_ + "/server.pem") + " -key " +
                       shell_quote(pki_ + "/server.key") + " -accept 127.0.0.1:" + std::to_string(port) +
                       " -naccept 1 </dev/null >/dev/null 2>&1 &";
  ASSERT_EQ(run_command(server).status, 0);
  Handshake h;
  for (int i = 0; i < 50 && !h.ok; ++i) {  // until s_server listens
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    h = handshake(port, "-tls1_2", "ECDHE-ECDSA-AES128-SHA");
  }
  EXPECT_TRUE(h.ok) << h.output;
  EXPECT_EQ(h.cipher, "ECDHE-ECDSA-AES128-SHA");
}

}  // namespace
}  // namespace medseal
