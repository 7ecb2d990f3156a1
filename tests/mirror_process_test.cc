// `medseal mirror` as an operator runs it, against a real `medseal serve`: --once for cron, a
// long-running mirror that serves what it verified, and a log that rewrites its history with its
// own key (stop, restore an old copy of its data directory, append other entries, restart).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/background.h"
#include "support/paths.h"
#include "support/process.h"

namespace medseal {
namespace {

namespace fs = std::filesystem;
using testing::ProgramOutcome;
using testing::read_file;
using testing::run_medseal;
using testing::TempDir;

using Daemon = testing::Background;

void append(const std::string& data, const std::string& tag, int count, const std::string& scratch) {
  std::string input = scratch + "/append." + tag;
  {
    std::ofstream in(input);
    for (int i = 0; i < count; ++i) in << R"({"tag":")" << tag << R"(","n":)" << i << "}\n";
  }
  ProgramOutcome r = run_medseal({"log", "append", "--data", data}, input);
  ASSERT_EQ(r.status, 0) << r.err;
}

// The JSON alert lines (`{"alert":...}`) in `text` whose kind is `kind`.
size_t alert_lines(const std::string& text, const std::string& kind) {
  size_t count = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(R"({"alert":)", 0) == 0 && line.find(R"("kind":")" + kind + "\"") != std::string::npos) ++count;
  }
  return count;
}

class MirrorProcessTest : public ::testing::Test {
 protected:
  ProgramOutcome mirror_once(const std::string& log_url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"mirror", "--url", log_url, "--vkey", data_ + "/log.vkey",
                                     "--data", mirror_dir_, "--once"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_medseal(args);
  }
  Daemon serve(const std::string& listen = "127.0.0.1:0") {
    return Daemon({"serve", "--data", data_, "--listen", listen}, tmp_.path() + "/serve.err");
  }

  TempDir tmp_;
  std::string data_ = tmp_.path() + "/log";
  std::string mirror_dir_ = tmp_.path() + "/mirror";
};

TEST_F(MirrorProcessTest, FollowsServesAndFlagsALogThatRewritesItsHistory) {
  append(data_, "first", 300, tmp_.path());
  fs::copy(data_, tmp_.path() + "/backup", fs::copy_options::recursive);  // an old copy of the store
  append(data_, "honest", 200, tmp_.path());

  std::string port;
  std::string verified_checkpoint;
  {
    Daemon log = serve();
    ASSERT_FALSE(log.base().empty()) << log.stderr_text();
    port = log.base().substr(log.base().rfind(':') + 1);
    ProgramOutcome once = mirror_once(log.base() + "/log");
    ASSERT_EQ(once.status, 0) << once.err;
    EXPECT_EQ(alert_lines(once.err, "fork") + alert_lines(once.err, "log-rollback"), 0u) << once.err;
    verified_checkpoint = read_file(mirror_dir_ + "/log/checkpoint");
    EXPECT_EQ(verified_checkpoint.substr(0, verified_checkpoint.find("\n\n")).substr(verified_checkpoint.find('\n') + 1, 4), "500\n");
  }
  // The long-running mirror resumes the same directory and serves what it verified.
  Daemon mirror({"mirror", "--url", "http://127.0.0.1:" + port + "/log", "--vkey", data_ + "/log.vkey",
                 "--data", mirror_dir_, "--listen", "127.0.0.1:0", "--interval-ms", "200"},
                tmp_.path() + "/mirror.err");
  ASSERT_FALSE(mirror.base().empty()) << mirror.stderr_text();
  ProgramOutcome audit = run_medseal({"log", "verify", "--url", mirror.base() + "/log", "--vkey", data_ + "/log.vkey"});
  ASSERT_EQ(audit.status, 0) << audit.err;
  EXPECT_NE(audit.out.find("at size 500"), std::string::npos) << audit.out;

  // History rewritten with the log's own key: the old copy, other entries, same address.
  fs::remove_all(data_);
  fs::copy(tmp_.path() + "/backup", data_, fs::copy_options::recursive);
  append(data_, "rewritten", 400, tmp_.path());
  {
    Daemon log = serve("127.0.0.1:" + port);
    ASSERT_FALSE(log.base().empty()) << log.stderr_text();
    EXPECT_TRUE(mirror.wait_for_stderr(R"("kind":"fork")", 30)) << mirror.stderr_text();
    EXPECT_EQ(mirror.stop(), 0) << mirror.stderr_text();
    EXPECT_EQ(alert_lines(mirror.stderr_text(), "fork"), 1u) << "raised once, not once per poll";
    EXPECT_EQ(alert_lines(read_file(mirror_dir_ + "/alerts.jsonl"), "fork"), 1u);
    EXPECT_EQ(read_file(mirror_dir_ + "/log/checkpoint"), verified_checkpoint) << "the bad state is not adopted";

    ProgramOutcome again = mirror_once(log.base() + "/log");
    EXPECT_EQ(again.status, 1);
    EXPECT_EQ(alert_lines(again.err, "fork"), 1u) << again.err;
    EXPECT_NE(again.err.find(R"("size":700)"), std::string::npos) << "evidence: the new checkpoint";
    EXPECT_NE(again.err.find(R"("size":500)"), std::string::npos) << "evidence: the verified checkpoint";
    EXPECT_EQ(alert_lines(read_file(mirror_dir_ + "/alerts.jsonl"), "fork"), 2u);
  }
}

TEST_F(MirrorProcessTest, ASplitViewIsSeenThroughAPeer) {
  append(data_, "first", 40, tmp_.path());
  fs::copy(data_, tmp_.path() + "/other", fs::copy_options::recursive);
  append(data_, "mine", 10, tmp_.path());
  std::string mine = data_;
  data_ = tmp_.path() + "/other";
  append(data_, "theirs", 20, tmp_.path());
  Daemon theirs = serve();
  data_ = mine;
  Daemon log = serve();
  ASSERT_FALSE(log.base().empty() || theirs.base().empty());

  ProgramOutcome alone = mirror_once(log.base() + "/log");
  EXPECT_EQ(alone.status, 0) << alone.err;
  ProgramOutcome with_peer = mirror_once(log.base() + "/log", {"--peer", theirs.base() + "/log"});
  EXPECT_EQ(with_peer.status, 1);
  EXPECT_EQ(alert_lines(with_peer.err, "fork"), 1u) << with_peer.err;
  EXPECT_NE(with_peer.err.find(theirs.base() + "/log"), std::string::npos) << with_peer.err;
}

TEST_F(MirrorProcessTest, UsageErrorsAreOneLine) {
  ProgramOutcome help = run_medseal({"mirror", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--peer"), std::string::npos) << help.out;
  std::string vkey = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"mirror", "--vkey", vkey, "--data", mirror_dir_},
           {"mirror", "--url", "http://127.0.0.1:1/log", "--vkey", "nonsense", "--data", mirror_dir_},
           {"mirror", "--url", "ftp://x/log", "--vkey", vkey, "--data", mirror_dir_},
           {"mirror", "--url", "http://127.0.0.1:1/log", "--vkey", vkey, "--data", mirror_dir_, "--quorum", "1"},
           {"mirror", "--url", "http://127.0.0.1:1/log", "--vkey", vkey, "--data", mirror_dir_, "--interval-ms", "0"},
           {"mirror", "--url", "http://127.0.0.1:1/log", "--vkey", vkey, "--data", mirror_dir_, "--once"},
       }) {
    ProgramOutcome r = run_medseal(args);
    EXPECT_NE(r.status, 0) << args.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace medseal
