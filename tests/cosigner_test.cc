// Background witnessing against fake witnesses (tests/support/fake_witness.h): cosignatures are
// collected, verified and assembled once a quorum has them; 409s resynchronize with a correct
// consistency proof; a witness that is down, hangs, refuses or forges neither stops the log nor
// counts; refusals raise one alert per episode; errors back off; requests are coalesced; the
// cosigned checkpoint survives a restart and never goes backwards.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/receipt.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "support/eventually.h"
#include "support/fake_witness.h"
#include "support/memory_store.h"
#include "support/paths.h"
#include "witness/cosigned_checkpoint.h"
#include "witness/cosigner.h"
#include "witness/witnessed_ledger.h"

namespace medseal::witness {
namespace {

using medseal::testing::eventually;
using medseal::testing::FakeWitness;
using Mode = FakeWitness::Mode;
using namespace std::chrono_literals;

size_t alerts_of_kind(const alerts::MemorySink& sink, std::string_view kind) {
  size_t n = 0;
  for (const alerts::Alert& a : sink.alerts()) n += a.kind == kind;
  return n;
}

class CosignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger::LedgerOptions options;
    options.batch_window = 1ms;
    auto l = ledger::Ledger::open(store_, key_, options);
    ASSERT_TRUE(l) << l.status().to_string();
    ledger_ = std::move(*l);
    options_.poll_interval = 2ms;
    options_.backoff_initial = 20ms;
    options_.backoff_max = 200ms;
    options_.target_max_age = 300ms;
    options_.client.read_timeout = 500ms;
    options_.state_file = dir_.path() + "/" + std::string(kCosignedCheckpointFile);
  }
  void TearDown() override {
    cosigner_.reset();
    ledger_.reset();
  }

  FakeWitness& add_witness(std::string name) {
    witnesses_.push_back(std::make_unique<FakeWitness>(std::move(name), log_vkey_));
    return *witnesses_.back();
  }

  Status start(size_t quorum = 0) {
    std::vector<WitnessConfig> configs;
    for (auto& w : witnesses_) configs.push_back({w->url(), w->vkey()});
    options_.quorum = quorum;
    auto c = Cosigner::start(*ledger_, store_, log_vkey_, configs, alerts_, options_);
    if (!c) return c.status();
    cosigner_ = std::move(*c);
    return Status::ok();
  }

  void append(size_t n) {
    std::vector<ledger::AppendRequest> requests(n);
    for (size_t i = 0; i < n; ++i) requests[i].statement = R"({"i":)" + std::to_string(i) + "}";
    ASSERT_TRUE(ledger_->append_all(std::move(requests)));
  }

  bool cosigned_at(uint64_t size, std::chrono::milliseconds limit = 10s) {
    return eventually([&] { return cosigner_->cosigned().size == size; }, limit);
  }

  std::vector<note::VerifierKey> witness_keys() const {
    std::vector<note::VerifierKey> keys;
    for (auto& w : witnesses_) keys.push_back(w->vkey());
    return keys;
  }

  testing::TempDir dir_;
  testing::MemoryStore store_;
  note::SignerKey key_ = note::generate_signer_key("example.org/cosigner-test");
  note::VerifierKey log_vkey_ = note::verifier_of(key_);
  std::unique_ptr<ledger::Ledger> ledger_;
  alerts::MemorySink alerts_;
  CosignerOptions options_;
  std::vector<std::unique_ptr<FakeWitness>> witnesses_;
  std::unique_ptr<Cosigner> cosigner_;
};

TEST_F(CosignerTest, CollectsAndVerifiesEveryWitnessCosignature) {
  add_witness("w.example/one");
  add_witness("w.example/two");
  add_witness("w.example/three");
  ASSERT_TRUE(start());
  EXPECT_EQ(cosigner_->quorum(), 3u);
  EXPECT_EQ(cosigner_->cosigned().size, 0u);
  append(10);
  ASSERT_TRUE(cosigned_at(10));

  storage::LogHead cosigned = cosigner_->cosigned();
  auto opened = open_cosigned(cosigned.checkpoint, log_vkey_, witness_keys(), 3);
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->witnesses, 3u);
  EXPECT_EQ(opened->checkpoint.size, 10u);
  // The log's own note, with one cosignature per witness after the log's signature.
  auto note = note::parse_note(cosigned.checkpoint);
  ASSERT_TRUE(note);
  ASSERT_EQ(note->signatures.size(), 4u);
  EXPECT_EQ(note->signatures[0].name, key_.name);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(note::verify_cosignature(note->text, witnesses_[i]->vkey(), note->signatures[i + 1]));
  }
  EXPECT_TRUE(cosigner_->is_witnessed(cosigned.checkpoint));
  EXPECT_FALSE(cosigner_->is_witnessed(ledger_->head().checkpoint));  // the log's signature alone
  for (const WitnessStatus& s : cosigner_->status()) {
    EXPECT_EQ(s.cosigned_size, 10u) << s.name;
    EXPECT_EQ(s.last_error, "") << s.name;
  }
  EXPECT_TRUE(alerts_.alerts().empty());
}

TEST_F(CosignerTest, QuorumHoldsWhileOneWitnessIsDownAndAnotherHangs) {
  add_witness("w.example/up-1");
  add_witness("w.example/up-2");
  add_witness("w.example/down").set_mode(Mode::kFail500);
  add_witness("w.example/hangs").set_mode(Mode::kHang);
  ASSERT_TRUE(start(2));
  for (int round = 1; round <= 5; ++round) {
    auto before = std::chrono::steady_clock::now();
    append(7);
    // Appends never wait for witnesses.
    EXPECT_LT(std::chrono::steady_clock::now() - before, 400ms);
    ASSERT_TRUE(cosigned_at(7u * round)) << "round " << round;
  }
  auto opened = open_cosigned(cosigner_->cosigned().checkpoint, log_vkey_, witness_keys(), 2);
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->witnesses, 2u);
  auto status = cosigner_->status();
  EXPECT_NE(status[2].last_error.find("500"), std::string::npos) << status[2].last_error;
  EXPECT_EQ(status[3].cosigned_size, 0u);
  EXPECT_TRUE(alerts_.alerts().empty());  // being down is no refusal
}

TEST_F(CosignerTest, NoQuorumNoCosignedCheckpoint) {
  add_witness("w.example/up");
  add_witness("w.example/down").set_mode(Mode::kFail500);
  ASSERT_TRUE(start());  // quorum: both
  append(5);
  ASSERT_TRUE(eventually([&] { return witnesses_[0]->cosigned_count() >= 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(cosigner_->cosigned().size, 0u);
  // Once the second one is back, a checkpoint both cosigned is served.
  witnesses_[1]->set_mode(Mode::kHonest);
  ASSERT_TRUE(cosigned_at(5));
}

TEST_F(CosignerTest, ConflictResynchronizesWithAConsistencyProofFromTheWitnessSize) {
  add_witness("w.example/remembers");
  ASSERT_TRUE(start());
  append(50);
  ASSERT_TRUE(cosigned_at(50));
  // A restart forgets what the witness has; the witness does not.
  cosigner_.reset();
  std::remove(options_.state_file.c_str());
  append(30);
  size_t calls_before = witnesses_[0]->calls().size();
  ASSERT_TRUE(start());
  ASSERT_TRUE(cosigned_at(80));
  auto calls = witnesses_[0]->calls();
  ASSERT_GE(calls.size(), calls_before + 2);
  const FakeWitness::Call& probe = calls[calls_before];
  EXPECT_EQ(probe.old_size, 0u);
  EXPECT_EQ(probe.status, 409);
  const FakeWitness::Call& resync = calls[calls_before + 1];
  EXPECT_EQ(resync.old_size, 50u);
  EXPECT_EQ(resync.size, 80u);
  EXPECT_GT(resync.proof_lines, 0u);
  EXPECT_TRUE(resync.proof_verified);
  EXPECT_EQ(resync.status, 200);
  // And from then on, proofs from the size it last cosigned.
  append(1);
  ASSERT_TRUE(cosigned_at(81));
  calls = witnesses_[0]->calls();
  EXPECT_EQ(calls.back().old_size, 80u);
  EXPECT_TRUE(calls.back().proof_verified);
}

TEST_F(CosignerTest, ErrorsBackOffExponentially) {
  add_witness("w.example/down").set_mode(Mode::kFail500);
  ASSERT_TRUE(start());
  append(3);
  std::this_thread::sleep_for(1000ms);
  // 20, 40, 80, 160, then 200 ms apart: about 8 calls in a second, not hundreds.
  size_t calls = witnesses_[0]->calls().size();
  EXPECT_GE(calls, 4u);
  EXPECT_LE(calls, 11u);
  EXPECT_GE(cosigner_->status()[0].consecutive_failures, 4u);
  // Back up: the next try (at most backoff_max later) succeeds.
  witnesses_[0]->set_mode(Mode::kHonest);
  ASSERT_TRUE(cosigned_at(3, 2s));
  EXPECT_EQ(cosigner_->status()[0].consecutive_failures, 0u);
}

TEST_F(CosignerTest, RefusalRaisesOneCriticalAlertPerEpisode) {
  FakeWitness& w = add_witness("w.example/refuses");
  w.set_mode(Mode::kRefuse403);
  ASSERT_TRUE(start());
  append(4);
  ASSERT_TRUE(eventually([&] { return w.calls().size() >= 4; }));
  ASSERT_EQ(alerts_of_kind(alerts_, "witness-refusal"), 1u);
  alerts::Alert a = alerts_.alerts()[0];
  EXPECT_EQ(a.severity, alerts::Severity::kCritical);
  EXPECT_EQ(a.evidence["witness"], "w.example/refuses");
  EXPECT_EQ(a.evidence["url"], w.url());
  EXPECT_EQ(a.evidence["checkpoint_size"], 4);
  EXPECT_EQ(a.evidence["http_status"], 403);
  EXPECT_EQ(cosigner_->cosigned().size, 0u);

  // The episode ends with a cosignature; the next refusal (a 422) is a new one.
  w.set_mode(Mode::kHonest);
  ASSERT_TRUE(cosigned_at(4, 2s));
  w.set_mode(Mode::kRefuse422);
  append(2);
  size_t seen = w.calls().size();
  ASSERT_TRUE(eventually([&] { return w.calls().size() >= seen + 3; }));
  EXPECT_EQ(alerts_of_kind(alerts_, "witness-refusal"), 2u);
  EXPECT_EQ(alerts_.alerts().back().evidence["http_status"], 422);
  EXPECT_EQ(alerts_.alerts().size(), 2u);
}

TEST_F(CosignerTest, ForgedCosignatureIsNotCounted) {
  add_witness("w.example/honest");
  add_witness("w.example/forger").set_mode(Mode::kForge);
  ASSERT_TRUE(start(2));
  append(6);
  ASSERT_TRUE(eventually([&] { return witnesses_[1]->cosigned_count() >= 2; }));
  EXPECT_EQ(cosigner_->cosigned().size, 0u);
  EXPECT_EQ(alerts_of_kind(alerts_, "bad-signature"), 1u);
  EXPECT_EQ(cosigner_->status()[1].cosigned_size, 0u);
  // With a quorum of 1 the honest witness suffices, and the forgery is still not in the note.
  cosigner_.reset();
  ASSERT_TRUE(start(1));
  ASSERT_TRUE(cosigned_at(6));
  auto note = note::parse_note(cosigner_->cosigned().checkpoint);
  ASSERT_TRUE(note);
  ASSERT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(note->signatures[1].name, "w.example/honest");
}

TEST_F(CosignerTest, RequestsAreCoalescedToTheNewestCheckpoint) {
  FakeWitness& w = add_witness("w.example/slow");
  options_.client.read_timeout = 10s;
  w.set_mode(Mode::kHang);
  ASSERT_TRUE(start());
  append(1);
  std::this_thread::sleep_for(100ms);  // the first request is sent, and hangs
  for (int i = 0; i < 40; ++i) append(1);  // 41 checkpoints while the first request hangs
  w.set_mode(Mode::kHonest);
  ASSERT_TRUE(cosigned_at(41));
  // The hung request, at most one that its answer made stale, and the newest: not 41.
  EXPECT_LE(w.calls().size(), 3u);
  EXPECT_EQ(w.calls().back().size, 41u);
}

TEST_F(CosignerTest, ServedCheckpointNeverGoesBackwards) {
  add_witness("w.example/a");
  add_witness("w.example/b");
  ASSERT_TRUE(start(1));
  std::atomic<bool> done{false};
  uint64_t last = 0;
  bool backwards = false;
  std::thread watcher([&] {
    while (!done) {
      uint64_t size = cosigner_->cosigned().size;
      if (size < last) backwards = true;
      last = size;
    }
  });
  for (int i = 0; i < 100; ++i) append(3);
  EXPECT_TRUE(cosigned_at(300));
  done = true;
  watcher.join();
  EXPECT_FALSE(backwards);
}

TEST_F(CosignerTest, CosignedCheckpointSurvivesARestartAndIsReverified) {
  add_witness("w.example/p");
  ASSERT_TRUE(start());
  append(12);
  ASSERT_TRUE(cosigned_at(12));
  std::string saved = cosigner_->cosigned().checkpoint;
  cosigner_.reset();

  // Served at once after a restart, before any witness answers.
  witnesses_[0]->set_mode(Mode::kHang);
  ASSERT_TRUE(start());
  EXPECT_EQ(cosigner_->cosigned().checkpoint, saved);
  EXPECT_EQ(testing::read_file(options_.state_file), saved);
  witnesses_[0]->set_mode(Mode::kHonest);
  cosigner_.reset();

  // A damaged file, or one of another log, stops the start rather than being served.
  std::string damaged = saved;
  damaged[damaged.find('\n') + 1] ^= 1;  // the size line
  std::ofstream(options_.state_file, std::ios::trunc) << damaged;
  EXPECT_EQ(start().code(), Code::kVerificationFailed);
  std::ofstream(options_.state_file, std::ios::trunc) << "not a note";
  EXPECT_FALSE(start());
}

TEST_F(CosignerTest, SavedCheckpointBeyondTheStoreIsARollback) {
  add_witness("w.example/r");
  ASSERT_TRUE(start());
  append(8);
  ASSERT_TRUE(cosigned_at(8));
  cosigner_.reset();
  // Another store (a restored backup) with fewer entries under the same key.
  testing::MemoryStore older;
  ledger_.reset();
  auto l = ledger::Ledger::open(older, key_);
  ASSERT_TRUE(l);
  ledger_ = std::move(*l);
  append(3);
  std::vector<WitnessConfig> configs = {{witnesses_[0]->url(), witnesses_[0]->vkey()}};
  auto c = Cosigner::start(*ledger_, older, log_vkey_, configs, alerts_, options_);
  EXPECT_EQ(c.status().code(), Code::kVerificationFailed);
  EXPECT_NE(c.status().message().find("rolled back"), std::string::npos) << c.status().message();
  ledger_.reset();
}

TEST_F(CosignerTest, ConfigurationIsChecked) {
  FakeWitness& w = add_witness("w.example/c");
  EXPECT_EQ(start(2).code(), Code::kInvalidArgument);  // quorum beyond the witnesses
  std::vector<WitnessConfig> twice = {{w.url(), w.vkey()}, {w.url(), w.vkey()}};
  EXPECT_EQ(Cosigner::start(*ledger_, store_, log_vkey_, twice, alerts_, options_).status().code(),
            Code::kInvalidArgument);
  std::vector<WitnessConfig> plain_key = {{w.url(), log_vkey_}};
  EXPECT_EQ(Cosigner::start(*ledger_, store_, log_vkey_, plain_key, alerts_, options_).status().code(),
            Code::kInvalidArgument);
}

TEST_F(CosignerTest, ReceiptsAreBuiltAgainstTheCosignedCheckpointWhenItCoversThem) {
  add_witness("w.example/receipts");
  ASSERT_TRUE(start());
  append(20);
  ASSERT_TRUE(cosigned_at(20));
  WitnessedLedger witnessed(*ledger_, store_, *cosigner_);
  witnesses_[0]->set_mode(Mode::kHang);  // nothing newer gets cosigned
  append(5);
  auto covered = witnessed.receipt(19);
  ASSERT_TRUE(covered) << covered.status().to_string();
  EXPECT_TRUE(is_witnessed_receipt(*cosigner_, *covered));
  auto verified = ledger::verify_receipt(*covered, log_vkey_);
  ASSERT_TRUE(verified) << verified.status().to_string();
  EXPECT_EQ(verified->checkpoint.size, 20u);
  EXPECT_EQ(verified->checkpoint_note, cosigner_->cosigned().checkpoint);

  auto pending = witnessed.receipt(22);
  ASSERT_TRUE(pending) << pending.status().to_string();
  EXPECT_FALSE(is_witnessed_receipt(*cosigner_, *pending));
  auto verified_pending = ledger::verify_receipt(*pending, log_vkey_);
  ASSERT_TRUE(verified_pending) << verified_pending.status().to_string();
  EXPECT_EQ(verified_pending->checkpoint.size, 25u);
  EXPECT_FALSE(is_witnessed_receipt(*cosigner_, "not a receipt"));
  witnesses_[0]->set_mode(Mode::kHonest);
}

}  // namespace
}  // namespace medseal::witness
