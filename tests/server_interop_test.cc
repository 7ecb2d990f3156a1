// Interoperability of the served log with Go's golang.org/x/mod/sumdb/tlog and sumdb/note, a
// third-party tlog implementation: tests/interop/tlog_interop.go opens our checkpoint with
// note.Open, reads our tiles through tlog.TileHashReader (which checks each tile against the
// signed root), recomputes the root with tlog.TreeHash, proves entries with ProveRecord /
// CheckRecord and proves consistency with older checkpoints with ProveTree / CheckTree.
// Without Go these tests fail (scripts/install-deps.sh installs it); they never skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "ledger/ledger.h"
#include "note/keys.h"
#include "server/http_server.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/paths.h"
#include "support/process.h"

namespace medseal::server {
namespace {

using medseal::testing::CommandOutcome;
using medseal::testing::go_interop_tool;
using medseal::testing::run_command;
using medseal::testing::shell_quote;
using medseal::testing::TempDir;

class ServerGoInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    tool_ = go_interop_tool("tlog_interop", &why);
    ASSERT_FALSE(tool_.empty()) << why;
    auto store = storage::open_sqlite_store(tmp_.path() + "/medseal.db");
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(*store);
    auto ledger = ledger::Ledger::open(*store_, key_);
    ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
    ledger_ = std::move(*ledger);
    http_ = std::make_unique<HttpServer>(*ledger_, HttpOptions{"127.0.0.1", 0, 16, false});
    auto port = http_->bind();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    url_ = "http://127.0.0.1:" + std::to_string(*port) + "/log";
    thread_ = std::thread([this] { EXPECT_TRUE(http_->run().is_ok()); });
  }

  void TearDown() override {
    if (http_) http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
    ledger_.reset();
  }

  // Grows the log to `size` entries; returns the path of a file holding its checkpoint then.
  std::string grow_to(uint64_t size) {
    uint64_t now = ledger_->head().size;
    std::vector<ledger::AppendRequest> requests(size - now);
    for (uint64_t i = 0; i < requests.size(); ++i) requests[i].statement = "entry " + std::to_string(now + i);
    EXPECT_TRUE(ledger_->append_all(std::move(requests)).is_ok());
    std::string path = tmp_.path() + "/checkpoint." + std::to_string(size);
    std::ofstream(path, std::ios::binary) << ledger_->head().checkpoint;
    return path;
  }

  CommandOutcome go(const std::string& old_checkpoint = "") {
    std::string vkey = note::format_verifier_key(note::verifier_of(key_));
    std::string command = shell_quote(tool_) + " -url " + shell_quote(url_) + " -vkey " + shell_quote(vkey);
    if (!old_checkpoint.empty()) command += " -old " + shell_quote(old_checkpoint);
    return run_command(command);
  }

  std::string tool_;
  TempDir tmp_;
  note::SignerKey key_ = note::generate_signer_key("example.org/go-interop");
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
  std::string url_;
};

// Sizes around every tile boundary up to a three-level tree.
const std::vector<uint64_t> kSizes = {1, 2, 3, 255, 256, 257, 511, 512, 1000, 65535, 65536, 65537, 70000};

TEST_F(ServerGoInterop, GoVerifiesTheCheckpointTilesAndEntriesAtEverySize) {
  for (uint64_t size : kSizes) {
    grow_to(size);
    CommandOutcome r = go();
    ASSERT_EQ(r.status, 0) << "size " << size << ": " << r.output;
    EXPECT_EQ(r.output.rfind("ok size=" + std::to_string(size) + " ", 0), 0u) << r.output;
  }
}

TEST_F(ServerGoInterop, GoProvesConsistencyWithEveryOlderCheckpoint) {
  std::vector<std::string> olds;
  for (uint64_t size : kSizes) olds.push_back(grow_to(size));
  for (size_t i = 0; i < kSizes.size(); ++i) {
    CommandOutcome r = go(olds[i]);
    ASSERT_EQ(r.status, 0) << "old size " << kSizes[i] << ": " << r.output;
    EXPECT_NE(r.output.find(" old=" + std::to_string(kSizes[i])), std::string::npos) << r.output;
  }
}

TEST_F(ServerGoInterop, GoRejectsACheckpointFromAnotherKey) {
  grow_to(10);
  std::string other = note::format_verifier_key(
      note::verifier_of(note::generate_signer_key("example.org/go-interop")));
  CommandOutcome r = run_command(shell_quote(tool_) + " -url " + shell_quote(url_) + " -vkey " + shell_quote(other));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("note.Open"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace medseal::server
