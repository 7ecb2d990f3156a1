// Issue 5's network, with real processes on loopback: a log (`medseal serve`) with three witnesses
// (`medseal witness`, quorum 2) and a mirror (`medseal mirror`). Honest growth is cosigned and
// mirrored; a witness killed mid-stream leaves the log working and catches up after a restart; a
// log that rewrites its history with its own key is refused by every witness and flagged by the
// mirror; and a split view (two histories served at once under one key) is detected.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "ledger/keyfile.h"
#include "note/witness_quorum.h"
#include "support/background.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

namespace fs = std::filesystem;
using testing::Background;
using testing::eventually;
using testing::ProgramOutcome;
using testing::read_file;
using testing::run_medseal;
using testing::Server;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr size_t kWitnesses = 3;
constexpr size_t kQuorum = 2;

std::string chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

class WitnessNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_medseal({"keygen", "--out", data_}).status, 0);
    auto vkey = ledger::read_verifier_key_file(log_vkey());
    ASSERT_TRUE(vkey.is_ok());
    log_key_ = *vkey;
    for (size_t i = 0; i < kWitnesses; ++i) {
      start_witness(i);
      ASSERT_TRUE(witnesses_[i]->ready()) << witnesses_[i]->stderr_text();
      auto key = ledger::read_verifier_key_file(witness_dir(i) + "/witness.vkey");
      ASSERT_TRUE(key.is_ok()) << key.status().to_string();
      witness_keys_.push_back(*key);
    }
  }

  std::string log_vkey() const { return data_ + "/log.vkey"; }
  std::string witness_dir(size_t i) const { return tmp_.path() + "/witness" + std::to_string(i); }

  // Starts witness i (again, after a kill: the same data directory, so the same key and state).
  void start_witness(size_t i) {
    if (witnesses_.size() <= i) witnesses_.resize(i + 1);
    witnesses_[i].reset();
    std::vector<std::string> args = {"witness", "--data", witness_dir(i), "--listen", listen_of(i),
                                     "--log", log_vkey()};
    if (!fs::exists(witness_dir(i) + "/witness.key")) {
      args.insert(args.end(), {"--name", "witness" + std::to_string(i) + ".example"});
    }
    witnesses_[i] = std::make_unique<Background>(args, witness_dir(i) + ".err");
    urls_.resize(kWitnesses);
    if (witnesses_[i]->ready()) urls_[i] = witnesses_[i]->base();
  }

  // The first start takes any free port; a restart takes the same one, as the log knows it.
  std::string listen_of(size_t i) const {
    if (urls_.size() <= i || urls_[i].empty()) return "127.0.0.1:0";
    return urls_[i].substr(std::string("http://").size());
  }

  // `medseal serve` on `data` with the three witnesses and a quorum of two.
  std::unique_ptr<Server> serve(const std::string& data) {
    std::vector<std::string> flags;
    for (size_t i = 0; i < kWitnesses; ++i) {
      flags.push_back("--witness");
      flags.push_back(urls_[i] + "=" + witness_dir(i) + "/witness.vkey");
    }
    flags.insert(flags.end(), {"--witness-quorum", std::to_string(kQuorum)});
    return std::make_unique<Server>(data, flags);
  }

  // Appends `count` system entries while no server holds `data`; `tag` makes their content differ.
  void append(const std::string& data, const std::string& tag, int count) {
    std::string text;
    for (int i = 0; i < count; ++i) text += R"({"tag":")" + tag + R"(","n":)" + std::to_string(i) + "}\n";
    ProgramOutcome r = run_medseal({"log", "append", "--data", data}, write_file(data + ".in", text));
    ASSERT_EQ(r.status, 0) << r.err;
  }

  // Grows a running log: each receipt fetched is itself an access entry.
  void grow(const Server& server, int entries) {
    if (token_.empty()) {
      ProgramOutcome r = run_medseal({"token", "issue", "--data", data_, "--role", "auditor", "--name", "audit"});
      ASSERT_EQ(r.status, 0) << r.err;
      token_ = chomp(r.out);
    }
    httplib::Client client(server.base());
    for (int i = 0; i < entries; ++i) {
      auto res = client.Get("/ledger/receipts/0", {{"Authorization", "Bearer " + token_}});
      ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    }
  }

  // The witnesses (of the three) whose cosignatures verify on what the log serves now; empty if
  // it serves no checkpoint that the log key signed.
  std::vector<std::string> cosigners(const Server& server, uint64_t* size = nullptr) {
    auto res = httplib::Client(server.base()).Get("/log/checkpoint");
    if (!res || res->status != 200) return {};
    auto report = note::open_cosigned_checkpoint(res->body, log_key_, witness_keys_);
    if (!report) return {};
    if (size) *size = report->checkpoint.size;
    std::vector<std::string> names;
    for (const auto& sig : report->cosigned) names.push_back(sig.key.name);
    return names;
  }

  // Waits until the log serves a checkpoint of at least `min_size` cosigned by a quorum.
  bool cosigned_at_least(const Server& server, uint64_t min_size) {
    return eventually([&] {
      uint64_t size = 0;
      return cosigners(server, &size).size() >= kQuorum && size >= min_size;
    }, 20s);
  }

  ProgramOutcome mirror_once(const std::string& log_url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"mirror", "--url", log_url, "--vkey", log_vkey(), "--data", mirror_dir_,
                                     "--once", "--quorum", std::to_string(kQuorum)};
    for (size_t i = 0; i < kWitnesses; ++i) args.insert(args.end(), {"--witness", witness_dir(i) + "/witness.vkey"});
    args.insert(args.end(), extra.begin(), extra.end());
    return run_medseal(args);
  }

  TempDir tmp_;
  std::string data_ = tmp_.path() + "/log";
  std::string mirror_dir_ = tmp_.path() + "/mirror";
  std::string token_;
  note::VerifierKey log_key_;
  std::vector<note::VerifierKey> witness_keys_;
  std::vector<std::unique_ptr<Background>> witnesses_;
  std::vector<std::string> urls_;
};

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(WitnessNetworkTest, HonestGrowthIsCosignedMirroredAndVerifiesWithTheQuorum) {
  append(data_, "honest", 40);
  auto server = serve(data_);
  ASSERT_TRUE(server->ready()) << server->stderr_text();
  ASSERT_TRUE(cosigned_at_least(*server, 40)) << server->stderr_text();

  ProgramOutcome mirrored = mirror_once(server->log_url());
  EXPECT_EQ(mirrored.status, 0) << mirrored.err;

  grow(*server, 30);
  ASSERT_TRUE(cosigned_at_least(*server, 70)) << server->stderr_text();
  mirrored = mirror_once(server->log_url());
  EXPECT_EQ(mirrored.status, 0) << mirrored.err;

  // A receipt for an entry the cosigned checkpoint covers carries the cosignatures: it verifies
  // with the log key and two of the three witness keys, offline.
  httplib::Client client(server->base());
  auto res = client.Get("/ledger/receipts/12", {{"Authorization", "Bearer " + token_}});
  ASSERT_TRUE(res && res->status == 200);
  EXPECT_EQ(res->get_header_value("X-Medseal-Witnessed"), "witnessed");
  std::string receipt = write_file(tmp_.path() + "/receipt", res->body);
  std::vector<std::string> args = {"verify", "--receipt", receipt, "--vkey", log_vkey(), "--quorum", "2"};
  for (size_t i = 0; i < kWitnesses; ++i) args.insert(args.end(), {"--witness", witness_dir(i) + "/witness.vkey"});
  ProgramOutcome verified = run_medseal(args);
  EXPECT_EQ(verified.status, 0) << verified.err;
  EXPECT_EQ(server->stderr_text().find(R"({"alert":)"), std::string::npos) << server->stderr_text();
}

TEST_F(WitnessNetworkTest, AWitnessKilledMidStreamLeavesTheLogWorkingAndCatchesUp) {
  append(data_, "before", 10);
  auto server = serve(data_);
  ASSERT_TRUE(server->ready()) << server->stderr_text();
  grow(*server, 10);
  ASSERT_TRUE(cosigned_at_least(*server, 20));

  witnesses_[2]->kill();
  grow(*server, 20);  // appends go on
  uint64_t before = 0;
  ASSERT_TRUE(cosigned_at_least(*server, 40)) << "the two remaining witnesses are a quorum";
  ASSERT_EQ(cosigners(*server, &before).size(), 2u);

  start_witness(2);
  ASSERT_TRUE(witnesses_[2]->ready()) << witnesses_[2]->stderr_text();
  // After its backoff the log resyncs it (409 with the size it last cosigned, then a proof) and
  // the restarted witness cosigns newer checkpoints again.
  bool caught_up = eventually([&] {
    grow(*server, 1);
    uint64_t size = 0;
    return cosigners(*server, &size).size() == kWitnesses && size > before;
  }, 90s);
  EXPECT_TRUE(caught_up) << server->stderr_text();
  EXPECT_EQ(server->stderr_text().find(R"("kind":"witness-refusal")"), std::string::npos);
}

TEST_F(WitnessNetworkTest, ARewrittenHistoryIsRefusedByEveryWitnessAndFlaggedByTheMirror) {
  append(data_, "original", 100);
  const std::string backup = tmp_.path() + "/backup";
  fs::copy(data_, backup, fs::copy_options::recursive);
  {
    auto server = serve(data_);
    ASSERT_TRUE(server->ready()) << server->stderr_text();
    grow(*server, 20);
    ASSERT_TRUE(cosigned_at_least(*server, 120));
    ProgramOutcome mirrored = mirror_once(server->log_url());
    ASSERT_EQ(mirrored.status, 0) << mirrored.err;
    EXPECT_EQ(server->stop(), 0);
  }
  // The operator restores the old store and signs a different history with the log's own key.
  fs::remove_all(data_);
  fs::rename(backup, data_);
  append(data_, "rewritten", 200);
  auto server = serve(data_);
  ASSERT_TRUE(server->ready()) << server->stderr_text();

  // Every witness refuses (422: no consistency proof leads from what it cosigned to this tree),
  // each raising a critical alert; no quorum, so no witnessed checkpoint is served.
  for (size_t i = 0; i < kWitnesses; ++i) {
    const std::string name = "witness" + std::to_string(i) + ".example";
    EXPECT_TRUE(eventually([&] {
      const std::string err = server->stderr_text();
      size_t at = err.find(R"("kind":"witness-refusal")");
      return at != std::string::npos && err.find(name, err.rfind('\n', at) + 1) != std::string::npos;
    }, 20s)) << name << "\n" << server->stderr_text();
  }
  EXPECT_TRUE(cosigners(*server).empty());
  auto res = httplib::Client(server->base()).Get("/log/checkpoint");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;

  // The same rewritten log without witnesses serves its own signed checkpoint; the mirror flags
  // the fork against the history it verified.
  EXPECT_EQ(server->stop(), 0);
  Server raw(data_);
  ASSERT_TRUE(raw.ready()) << raw.stderr_text();
  ProgramOutcome forked = run_medseal({"mirror", "--url", raw.log_url(), "--vkey", log_vkey(), "--data",
                                       mirror_dir_, "--once"});
  EXPECT_EQ(forked.status, 1) << forked.err;
  EXPECT_EQ(count(forked.err, R"("kind":"fork")"), 1u) << forked.err;
}

TEST_F(WitnessNetworkTest, ASplitViewIsDetected) {
  append(data_, "shared", 50);
  const std::string other = tmp_.path() + "/other";
  fs::copy(data_, other, fs::copy_options::recursive);
  append(data_, "view-a", 30);
  append(other, "view-b", 30);
  // Two servers under one key at once: clients of A and clients of B see different trees of the
  // same size.
  auto a = serve(data_);
  ASSERT_TRUE(a->ready()) << a->stderr_text();
  ASSERT_TRUE(cosigned_at_least(*a, 80)) << a->stderr_text();
  auto b = serve(other);
  ASSERT_TRUE(b->ready()) << b->stderr_text();
  // The witnesses cosigned A's view, so they refuse B's (409: another root at the size they hold):
  // B never reaches a quorum and its operator gets witness-refusal alerts.
  EXPECT_TRUE(eventually([&] { return count(b->stderr_text(), R"("kind":"witness-refusal")") >= kWitnesses; }, 20s))
      << b->stderr_text();
  EXPECT_TRUE(cosigners(*b).empty());
  b.reset();

  // A mirror that follows A and compares with what another vantage point got from B (B serving
  // without witnesses, as a log that bypasses them would) raises a fork alert.
  Server b_raw(other);
  ASSERT_TRUE(b_raw.ready()) << b_raw.stderr_text();
  ProgramOutcome split = mirror_once(a->log_url(), {"--peer", b_raw.log_url()});
  EXPECT_EQ(split.status, 1) << split.err;
  EXPECT_GE(count(split.err, R"("kind":"fork")"), 1u) << split.err;
  EXPECT_NE(split.err.find(b_raw.log_url()), std::string::npos) << split.err;
}

}  // namespace
}  // namespace medseal
