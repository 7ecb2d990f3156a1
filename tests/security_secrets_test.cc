// Keys and tokens stay secret on disk and out of logs: `medseal serve` with the access log on,
// tokens issued while it runs and requests made with them (and with a wrong token) leave no
// token and no key seed on serve's stdout or stderr, nor on `token issue`'s stderr; the secrets
// in DATA are mode 0600, the store and alert outbox (health data) are the owner's alone, nothing
// in DATA is writable by group or others; and serve refuses a data directory others may write.
#include <gtest/gtest.h>
#include <httplib.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

mode_t mode_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

class SecretsTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string data_ = tmp_.path() + "/data";
};

// `medseal serve` with stdout and stderr to files (as a service manager would keep them), for
// the whole of its life; stopped with SIGTERM when the object goes.
class ServeToFiles {
 public:
  ServeToFiles(const std::string& data, const std::string& prefix, std::vector<std::string> extra)
      : out_(prefix + ".out"), err_(prefix + ".err") {
    int out_fd = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err_fd = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::vector<std::string> argv = {testing::medseal_binary(), "serve", "--data", data, "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = testing::spawn_program(argv, "", out_fd, err_fd);
    ::close(out_fd);
    ::close(err_fd);
    testing::eventually([this] { return out().find("stop:") != std::string::npos; }, std::chrono::seconds(20));
    std::string text = out();
    if (text.rfind("listening on ", 0) == 0) base_ = text.substr(13, text.find('\n') - 13);
  }
  ~ServeToFiles() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    testing::wait_exit_status(pid_);
    pid_ = -1;
  }
  const std::string& base() const { return base_; }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }

 private:
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string out_, err_, base_;
  pid_t pid_ = -1;
};

TEST_F(SecretsTest, NoTokenOrKeySeedReachesTheLogs) {
  std::vector<std::string> secrets;
  std::string token_issue_stderr;
  std::string serve_out, serve_err;
  {
    ServeToFiles server(data_, tmp_.path() + "/serve", {"--access-log", "--auth-failure-limit", "0"});
    ASSERT_FALSE(server.base().empty()) << server.out() << server.err();
    secrets.push_back(first_line(testing::read_file(data_ + "/admin.token")));
    for (const char* role : {"clinician", "auditor"}) {
      auto issued = testing::run_medseal({"token", "issue", "--data", data_, "--role", role, "--name", std::string("s.") + role});
      ASSERT_EQ(issued.status, 0) << issued.err;
      secrets.push_back(first_line(issued.out));
      token_issue_stderr += issued.err;
    }
    secrets.push_back("mst_" + std::string(43, 'Q'));  // a wrong token is a secret too (a typo of a real one)
    httplib::Client c(server.base());
    for (const std::string& token : secrets) {
      httplib::Headers auth = {{"Authorization", "Bearer " + token}};
      c.Get("/fhir/Patient", auth);
      c.Put("/fhir/Patient/s1", auth, R"({"resourceType":"Patient","id":"s1"})", "application/fhir+json");
      c.Get("/fhir/Patient/s1/_history/1/$receipt", auth);
      c.Get("/alerts", auth);
      c.Get("/ledger/receipts/0", auth);
    }
    auto good = c.Get("/fhir/Patient/s1", {{"Authorization", "Bearer " + secrets[1]}});
    ASSERT_TRUE(good);
    EXPECT_EQ(good->status, 200) << good->body;
    server.stop();
    serve_out = server.out();
    serve_err = server.err();
  }
  // The access log did log the requests: the grep below looks where secrets would be.
  EXPECT_NE(serve_err.find("/fhir/Patient/s1"), std::string::npos) << serve_err;
  std::string key = first_line(testing::read_file(data_ + "/log.key"));
  ASSERT_EQ(key.rfind("PRIVATE+KEY+", 0), 0u);
  secrets.push_back(key);
  size_t seed_at = 0;  // after PRIVATE+KEY+<name>+<hash>+ (the seed's base64 may hold '+' itself)
  for (int plus = 0; plus < 4; ++plus) seed_at = key.find('+', seed_at) + 1;
  secrets.push_back(key.substr(seed_at));  // the encoded seed alone
  for (const std::string& secret : secrets) {
    ASSERT_GE(secret.size(), 20u);
    EXPECT_EQ(serve_out.find(secret), std::string::npos) << "serve's stdout has a secret";
    EXPECT_EQ(serve_err.find(secret), std::string::npos) << "serve's stderr has a secret";
    EXPECT_EQ(token_issue_stderr.find(secret), std::string::npos) << "token issue's stderr has a secret";
  }
  EXPECT_NE(serve_out.find("admin.token"), std::string::npos) << "stdout still says where the admin token is";
}

TEST_F(SecretsTest, SecretsAreOwnerOnlyAndNothingIsWritableByOthers) {
  {
    testing::Server server(data_, {"--no-sentinel"});
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    auto issued = testing::run_medseal({"token", "issue", "--data", data_, "--role", "clinician", "--name", "m"});
    ASSERT_EQ(issued.status, 0);
    httplib::Client c(server.base());
    auto put = c.Put("/fhir/Patient/m1", {{"Authorization", "Bearer " + first_line(issued.out)}},
                     R"({"resourceType":"Patient","id":"m1"})", "application/fhir+json");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 201);
    // While it runs: the store's WAL and shared memory exist now.
    for (const auto& entry : std::filesystem::directory_iterator(data_)) {
      std::string name = entry.path().filename().string();
      mode_t mode = mode_of(entry.path().string());
      EXPECT_EQ(mode & 022, 0) << name << " is writable by group or others: " << std::oct << mode;
      if (name.ends_with(".vkey")) continue;  // a public key
      EXPECT_EQ(mode & 077, 0) << name << " is readable by others: " << std::oct << mode;
    }
  }
  EXPECT_EQ(mode_of(data_), 0700u);
  for (const char* secret : {"log.key", "admin.token", "tokens", "users"}) {
    EXPECT_EQ(mode_of(data_ + "/" + secret), 0600u) << secret;
  }
  EXPECT_TRUE(std::filesystem::exists(data_ + "/medseal.db"));
}

TEST_F(SecretsTest, ServeRefusesADataDirectoryOthersMayWrite) {
  ASSERT_EQ(::mkdir(data_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(data_.c_str(), 0777), 0);
  auto out = testing::run_medseal({"serve", "--data", data_, "--listen", "127.0.0.1:0"});
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.err.find("writable by group or others"), std::string::npos) << out.err;
  EXPECT_FALSE(std::filesystem::exists(data_ + "/log.key")) << "refused before writing anything";
}

}  // namespace
}  // namespace medseal
