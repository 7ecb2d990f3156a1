// witness/witness.h over the SQLite witness store: the request format, every status code of
// tlog-witness v1.0.0 with a request that triggers exactly it, cosignatures that verify, the
// compare-and-set under racing requests, and a log written by another implementation (Tessera).
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "crypto/base64.h"
#include "merkle/hash.h"
#include "merkle/memory_tree.h"
#include "merkle/proof.h"
#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "support/paths.h"
#include "support/raw_sqlite.h"
#include "support/witness_log.h"
#include "tlog_client/tile_source.h"
#include "witness/sqlite_witness_store.h"
#include "witness/witness.h"

namespace medseal::witness {
namespace {

using medseal::testing::read_file;
using medseal::testing::shared_dir;
using medseal::testing::TempDir;
using medseal::testing::WitnessedLog;
using medseal::testing::add_checkpoint_body;
using medseal::testing::filled_seed;

constexpr uint64_t kNowSeconds = 1'700'000'123;

class FixedClock : public Clock {
 public:
  uint64_t now_ms() const override { return kNowSeconds * 1000 + 456; }
};

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = open_sqlite_witness_store(dir.path() + "/witness.db");
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(*store);
    auto w = Witness::create(witness_key, {note::verifier_of(log_key)}, *store_, clock);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    witness_.emplace(std::move(*w));
  }

  std::string checkpoint_text(uint64_t size, char fork = 'a') { return log.checkpoint_text(size, fork); }
  std::string signed_checkpoint(uint64_t size, char fork = 'a', const note::SignerKey* by = nullptr) {
    return log.checkpoint(size, fork, by);
  }
  std::vector<Hash> proof(uint64_t from, uint64_t to, char fork = 'a') { return log.proof(from, to, fork); }
  Reply add(uint64_t from, uint64_t to, char fork = 'a') { return witness_->add_checkpoint(log.body(from, to, fork)); }
  void expect_cosigned(const Reply& r, uint64_t size, char fork = 'a') {
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.body.back(), '\n');
    ASSERT_EQ(r.body.find('\n'), r.body.size() - 1) << "one signature line";
    auto sig = note::parse_signature_line(std::string_view(r.body).substr(0, r.body.size() - 1));
    ASSERT_TRUE(sig.is_ok()) << sig.status().to_string();
    auto ts = note::verify_cosignature(checkpoint_text(size, fork), note::verifier_of(witness_key), *sig);
    ASSERT_TRUE(ts.is_ok()) << ts.status().to_string();
    EXPECT_EQ(*ts, kNowSeconds);
  }
  void expect_conflict(const Reply& r, uint64_t size) {
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(r.content_type, "text/x.tlog.size");
    EXPECT_EQ(r.body, std::to_string(size) + "\n");
  }

  TempDir dir;
  FixedClock clock;
  WitnessedLog log;
  const note::SignerKey& log_key = log.key;
  const note::SignerKey witness_key =
      note::signer_key_from_seed("witness.example/w1", filled_seed(2), note::KeyType::kCosignatureV1);
  std::unique_ptr<WitnessStore> store_;
  std::optional<Witness> witness_;
};

TEST(WitnessParse, AcceptsTheSpecFraming) {
  Hash h{};
  h[0] = 7;
  auto r = parse_add_checkpoint(add_checkpoint_body(20, {h, h}, "note\n"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->old_size, 20u);
  EXPECT_EQ(r->proof.size(), 2u);
  EXPECT_EQ(r->proof[0], h);
  EXPECT_EQ(r->checkpoint_note, "note\n");
  EXPECT_TRUE(parse_add_checkpoint("old 0\n\nx").is_ok());
  EXPECT_TRUE(parse_add_checkpoint("old 18446744073709551615\n\nx").is_ok());
  EXPECT_TRUE(parse_add_checkpoint(add_checkpoint_body(1, std::vector<Hash>(kMaxProofLines), "x")).is_ok());
}

TEST(WitnessParse, RejectsAnythingElse) {
  const std::string b64 = crypto::base64_encode(std::string(32, 'h'));
  for (const std::string& bad : std::vector<std::string>{"", "old 1", "old 1\n", "old 1\nx", "old 01\n\nx", "old -1\n\nx",
                          "old +1\n\nx", "old  1\n\nx", "old 1 \n\nx", "Old 1\n\nx", "old\n\nx",
                          "old 18446744073709551616\n\nx", "old 1\r\n\r\nx", "old 1\n\n",
                          "old 1\n" + b64 + "\n", "old 1\n" + b64 + " \n\nx",
                          "old 1\n" + crypto::base64_encode(std::string(31, 'h')) + "\n\nx",
                          "old 1\n" + b64.substr(0, 43) + "\n\nx", "old 1\n \n\nx"}) {
    EXPECT_FALSE(parse_add_checkpoint(bad).is_ok()) << bad;
  }
  EXPECT_FALSE(parse_add_checkpoint(add_checkpoint_body(1, std::vector<Hash>(kMaxProofLines + 1), "x")).is_ok());
  EXPECT_FALSE(parse_add_checkpoint("old 0\n\n" + std::string(kMaxRequestBytes, 'x')).is_ok());
}

TEST(WitnessCreate, RefusesWrongKeys) {
  TempDir d;
  auto store = open_sqlite_witness_store(d.path() + "/w.db");
  ASSERT_TRUE(store.is_ok());
  FixedClock clock;
  auto log = note::verifier_of(note::signer_key_from_seed("example.com/log", filled_seed(1)));
  auto cosigner = note::signer_key_from_seed("w", filled_seed(2), note::KeyType::kCosignatureV1);
  auto ed25519 = note::signer_key_from_seed("w", filled_seed(2));
  EXPECT_TRUE(Witness::create(cosigner, {log}, **store, clock).is_ok());
  EXPECT_FALSE(Witness::create(ed25519, {log}, **store, clock).is_ok());
  EXPECT_FALSE(Witness::create(cosigner, {}, **store, clock).is_ok());
  EXPECT_FALSE(Witness::create(cosigner, {note::verifier_of(cosigner)}, **store, clock).is_ok());
}

TEST_F(WitnessTest, FirstCheckpointIsCosignedAndRepeatable) {
  expect_cosigned(add(0, 5), 5);
  expect_cosigned(add(5, 5), 5);  // the same checkpoint again: idempotent
  expect_cosigned(add(5, 9), 9);
  expect_cosigned(add(9, 16), 16);
}

TEST_F(WitnessTest, CosignatureJoinsTheCheckpointNote) {
  std::string note = signed_checkpoint(7);
  Reply r = witness_->add_checkpoint(add_checkpoint_body(0, {}, note));
  ASSERT_EQ(r.status, 200) << r.body;
  // The client's way per the spec: append the lines to the note and open it with both keys.
  std::vector<note::VerifierKey> keys = {note::verifier_of(log_key), note::verifier_of(witness_key)};
  auto opened = note::open_note(note + r.body, keys);
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(opened->verified.size(), 2u);
}

TEST_F(WitnessTest, Status400ForMalformedBodiesAndOldAboveSize) {
  EXPECT_EQ(witness_->add_checkpoint("old 0\n\nnot a note\n").status, 400);
  EXPECT_EQ(witness_->add_checkpoint("old 00\n\n" + signed_checkpoint(3)).status, 400);
  auto not_checkpoint = note::sign_note("example.com/log\nhello\n", std::span(&log_key, 1));
  ASSERT_TRUE(not_checkpoint.is_ok());
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(0, {}, *not_checkpoint)).status, 400);
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(4, {}, signed_checkpoint(3))).status, 400);
}

TEST_F(WitnessTest, Status404ForAnUnknownOrigin) {
  auto other = note::signer_key_from_seed("example.com/other", filled_seed(3));
  auto cp = note::format_checkpoint({other.name, 1, merkle::leaf_hash("x"), {}});
  Reply r = witness_->add_checkpoint(add_checkpoint_body(0, {}, *note::sign_note(cp, std::span(&other, 1))));
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(WitnessTest, Status403WithoutAValidTrustedSignature) {
  // Same name, another key: an unknown signature, ignored; none is left.
  auto impostor = note::signer_key_from_seed(log_key.name, filled_seed(9));
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(0, {}, signed_checkpoint(3, 'a', &impostor))).status, 403);
  // The trusted key's signature with one bit flipped.
  auto note = note::parse_note(signed_checkpoint(3));
  ASSERT_TRUE(note.is_ok());
  note->signatures[0].signature[5] ^= 1;
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(0, {}, note::format_note(*note))).status, 403);
  // Old > size is 400, but the signature is checked first.
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(9, {}, signed_checkpoint(3, 'a', &impostor))).status, 403);
}

TEST_F(WitnessTest, Status403IgnoresExtraUnknownSignatures) {
  auto stranger = note::signer_key_from_seed("someone.else/key", filled_seed(4));
  auto text = checkpoint_text(3);
  note::SignerKey both[] = {stranger, log_key};
  auto note = note::sign_note(text, both);
  ASSERT_TRUE(note.is_ok());
  expect_cosigned(witness_->add_checkpoint(add_checkpoint_body(0, {}, *note)), 3);
}

TEST_F(WitnessTest, Status409WhenOldIsNotTheLatestCosignedSize) {
  expect_conflict(add(2, 5), 0);  // nothing cosigned yet
  expect_cosigned(add(0, 5), 5);
  expect_conflict(add(0, 8), 5);  // a client without state learns the size
  expect_conflict(add(3, 8), 5);
  // A smaller checkpoint with its own honest old size: the witness's size wins.
  expect_conflict(add(2, 4), 5);
  // A smaller one claiming the witness's size is old > size: 400.
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(5, {}, signed_checkpoint(4))).status, 400);
}

TEST_F(WitnessTest, Status409ForAForkAtTheSameSize) {
  expect_cosigned(add(0, 5), 5);
  expect_conflict(witness_->add_checkpoint(add_checkpoint_body(5, {}, signed_checkpoint(5, 'z'))), 5);
  expect_cosigned(add(5, 5), 5);  // the stored state is untouched
}

TEST_F(WitnessTest, Status422WhenTheProofDoesNotVerify) {
  expect_cosigned(add(0, 5), 5);
  // A fork: a proof that is valid in the forked tree, but not from the cosigned root.
  Reply fork = witness_->add_checkpoint(add_checkpoint_body(5, proof(5, 9, 'z'), signed_checkpoint(9, 'z')));
  EXPECT_EQ(fork.status, 422) << fork.body;
  std::vector<Hash> bad = proof(5, 9);
  bad[0][0] ^= 1;
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(5, bad, signed_checkpoint(9))).status, 422);
  bad = proof(5, 9);
  bad.pop_back();
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(5, bad, signed_checkpoint(9))).status, 422);
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(5, {}, signed_checkpoint(9))).status, 422);
  // A non-empty proof between equal sizes.
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(5, proof(4, 5), signed_checkpoint(5))).status, 422);
  expect_cosigned(add(5, 9), 9);  // the honest request still works
}

TEST_F(WitnessTest, Status422ForAProofWithOldZeroOrABadEmptyRoot) {
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(0, proof(2, 5), signed_checkpoint(5))).status, 422);
  auto bogus_empty = note::format_checkpoint({log_key.name, 0, merkle::leaf_hash("x"), {}});
  EXPECT_EQ(witness_->add_checkpoint(add_checkpoint_body(0, {}, *note::sign_note(bogus_empty, std::span(&log_key, 1)))).status, 422);
  expect_cosigned(add(0, 0), 0);
  expect_cosigned(add(0, 3), 3);
}

// A store that fails like a full disk.
class BrokenStore : public WitnessStore {
 public:
  Result<std::optional<LogState>> latest(std::string_view) override { return std::optional<LogState>(); }
  Result<SetOutcome> compare_and_set(std::string_view, uint64_t, const LogState&, std::string_view) override {
    return Status::io("disk full");
  }
};

TEST_F(WitnessTest, Status500WhenTheStoreFailsAndNothingIsCosigned) {
  BrokenStore broken;
  auto w = Witness::create(witness_key, {note::verifier_of(log_key)}, broken, clock);
  ASSERT_TRUE(w.is_ok());
  Reply r = w->add_checkpoint(add_checkpoint_body(0, {}, signed_checkpoint(3)));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("—"), std::string::npos);
}

TEST_F(WitnessTest, StatePersistsAcrossReopen) {
  expect_cosigned(add(0, 6), 6);
  witness_.reset();
  store_.reset();
  SetUp();
  expect_conflict(add(0, 3), 6);
  expect_conflict(witness_->add_checkpoint(add_checkpoint_body(6, {}, signed_checkpoint(6, 'z'))), 6);
  expect_cosigned(add(6, 10), 10);
}

TEST_F(WitnessTest, StoreCompareAndSet) {
  LogState five{5, merkle::leaf_hash("5")};
  auto first = store_->compare_and_set("o", 0, five, "n");
  ASSERT_TRUE(first.is_ok());
  EXPECT_TRUE(first->stored);
  auto stale = store_->compare_and_set("o", 0, LogState{7, {}}, "n");
  ASSERT_TRUE(stale.is_ok());
  EXPECT_FALSE(stale->stored);
  ASSERT_TRUE(stale->current.has_value());
  EXPECT_EQ(stale->current->size, 5u);
  EXPECT_EQ(stale->current->root, five.root);
  EXPECT_FALSE(store_->compare_and_set("o", 5, LogState{4, {}}, "n").is_ok()) << "rollback refused";
  auto big = store_->compare_and_set("o", 5, LogState{UINT64_MAX, five.root}, "n");
  ASSERT_TRUE(big.is_ok() && big->stored);
  auto latest = store_->latest("o");
  ASSERT_TRUE(latest.is_ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, UINT64_MAX);
  auto none = store_->latest("p");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(WitnessTest, StoreRefusesANewerSchema) {
  expect_cosigned(add(0, 2), 2);
  witness_.reset();
  store_.reset();
  medseal::testing::raw_exec(dir.path() + "/witness.db", "PRAGMA user_version = 2");
  auto newer = open_sqlite_witness_store(dir.path() + "/witness.db");
  ASSERT_FALSE(newer.is_ok());
  EXPECT_EQ(newer.status().code(), Code::kFailedPrecondition);
}

// Threads race add-checkpoint from the same old size to different new sizes, through two store
// objects (two SQLite connections) on one file: exactly one wins, the rest learn its size.
TEST_F(WitnessTest, RacingRequestsFromOneOldSizeHaveOneWinner) {
  expect_cosigned(add(0, 4), 4);
  auto second_store = open_sqlite_witness_store(dir.path() + "/witness.db");
  ASSERT_TRUE(second_store.is_ok());
  auto second = Witness::create(witness_key, {note::verifier_of(log_key)}, **second_store, clock);
  ASSERT_TRUE(second.is_ok());
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const uint64_t from = 4 + round * 100;
    std::vector<std::string> bodies;
    for (int i = 0; i < kThreads; ++i) {
      uint64_t to = from + 1 + i;
      bodies.push_back(add_checkpoint_body(from, proof(from, to), signed_checkpoint(to)));
    }
    std::vector<Reply> replies(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        const Witness& w = i % 2 == 0 ? *witness_ : *second;
        start.arrive_and_wait();
        replies[i] = w.add_checkpoint(bodies[i]);
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0;
    uint64_t won = 0;
    for (int i = 0; i < kThreads; ++i) {
      if (replies[i].status == 200) {
        ++winners;
        won = from + 1 + i;
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    for (const Reply& r : replies) {
      if (r.status != 200) expect_conflict(r, won);
    }
    // Move on to the next round's old size.
    expect_cosigned(add(won, from + 100), from + 100);
  }
}

// A log written by another implementation: Tessera's checkpoints in order, each with a
// consistency proof computed from its tiles, are all cosigned.
class DirTiles : public merkle::TileReader {
 public:
  explicit DirTiles(tlog_client::TileSource& source) : source_(source) {}
  Result<std::vector<std::string>> read_tiles(std::span<const merkle::TileId> ids) override {
    std::vector<std::string> out;
    for (const auto& id : ids) {
      auto tile = source_.read_tile(id);
      if (!tile) return tile.status();
      out.push_back(std::move(*tile));
    }
    return out;
  }

 private:
  tlog_client::TileSource& source_;
};

TEST(WitnessTessera, CosignsEveryCheckpointInOrder) {
  const std::string dir = shared_dir() + "/testdata/tessera-log";
  auto log_vkey = note::parse_verifier_key(
      "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx");
  ASSERT_TRUE(log_vkey.is_ok());
  TempDir tmp;
  auto store = open_sqlite_witness_store(tmp.path() + "/w.db");
  ASSERT_TRUE(store.is_ok());
  FixedClock clock;
  auto key = note::signer_key_from_seed("witness.example/tessera", filled_seed(5), note::KeyType::kCosignatureV1);
  auto w = Witness::create(key, {*log_vkey}, **store, clock);
  ASSERT_TRUE(w.is_ok());
  auto source = tlog_client::open_dir_source(dir);
  DirTiles tiles(*source);
  uint64_t old = 0;
  for (uint64_t n = 1; n <= 15; ++n) {
    std::string note = read_file(dir + "/checkpoint." + std::to_string(n));
    std::vector<Hash> proof;
    if (old > 0) {
      merkle::TileNodeReader nodes(n, tiles);
      auto p = merkle::consistency_proof(old, n, nodes);
      ASSERT_TRUE(p.is_ok()) << p.status().to_string();
      proof = *p;
    }
    Reply r = w->add_checkpoint(add_checkpoint_body(old, proof, note));
    ASSERT_EQ(r.status, 200) << "checkpoint." << n << ": " << r.body;
    std::vector<note::VerifierKey> keys = {*log_vkey, note::verifier_of(key)};
    auto opened = note::open_note(note + r.body, keys);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    EXPECT_EQ(opened->verified.size(), 2u);
    old = n;
  }
  // And a rollback to an older Tessera checkpoint is refused.
  Reply back = w->add_checkpoint(add_checkpoint_body(3, {}, read_file(dir + "/checkpoint.3")));
  EXPECT_EQ(back.status, 409);
  EXPECT_EQ(back.body, "15\n");
}

}  // namespace
}  // namespace medseal::witness
