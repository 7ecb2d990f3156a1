// The ledger over each store (SQLite and PostgreSQL): dense indexes from concurrent appends, group
// commit, receipts, tiles, reopening, and storage faults (injected through a Store wrapper and real
// SQLite ones).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/receipt.h"
#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "note/note.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/test_stores.h"
#include "support/fault_store.h"
#include "support/ledger_check.h"
#include "support/paths.h"
#include "support/test_stores.h"

namespace medseal::ledger {
namespace {

using std::chrono::milliseconds;
using testing::FaultStore;

std::string statement(int thread, int n) {
  return R"({"op":"test","thread":)" + std::to_string(thread) + R"(,"n":)" + std::to_string(n) +
         "}";
}

AppendRequest request(std::string s, EntryKind kind = EntryKind::kAccess) {
  AppendRequest r;
  r.kind = kind;
  r.statement = std::move(s);
  return r;
}

class FixedClock : public Clock {
 public:
  uint64_t now_ms() const override { return 1'700'000'000'123; }
};

LedgerOptions window(milliseconds w, size_t max_entries = 4096) {
  LedgerOptions o;
  o.batch_window = w;
  o.max_batch_entries = max_entries;
  return o;
}

class LedgerAppendTest : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == testing::StoreKind::kPostgres && testing::test_pg_url().empty()) {
      GTEST_SKIP() << testing::kNoTestPg;
    }
    space_ = std::make_unique<testing::StoreSpace>(GetParam());
    reopen_store();
  }
  void TearDown() override {
    close_store();
    space_.reset();
  }

  void close_store() {
    faults_.reset();
    store_.reset();
  }

  void reopen_store() {
    close_store();
    auto s = space_->open();
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    store_ = std::move(*s);
    faults_ = std::make_unique<FaultStore>(*store_);
  }

  std::unique_ptr<Ledger> open_ledger(LedgerOptions options = window(milliseconds(1))) {
    auto l = Ledger::open(*faults_, key_, options);
    EXPECT_TRUE(l.is_ok()) << l.status().to_string();
    return l.is_ok() ? std::move(*l) : nullptr;
  }

  // The receipt for `index` verifies offline and carries `want` as its statement.
  ::testing::AssertionResult receipt_ok(Ledger& ledger, uint64_t index, const std::string& want) {
    Result<std::string> r = ledger.receipt(index);
    if (!r) return ::testing::AssertionFailure() << index << ": " << r.status().to_string();
    Result<VerifiedReceipt> v = verify_receipt(*r, verifier_);
    if (!v) return ::testing::AssertionFailure() << index << ": " << v.status().to_string();
    if (v->index != index || v->statement != want) {
      return ::testing::AssertionFailure() << index << ": receipt is for another entry";
    }
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<testing::StoreSpace> space_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<FaultStore> faults_;
  note::SignerKey key_ = testing::test_log_key();
  note::VerifierKey verifier_ = note::verifier_of(key_);
};

TEST_P(LedgerAppendTest, FreshLogServesASignedEmptyCheckpoint) {
  auto ledger = open_ledger();
  storage::LogHead head = ledger->head();
  EXPECT_EQ(head.size, 0u);
  Result<note::OpenedNote> opened = note::open_note(head.checkpoint, std::span(&verifier_, 1));
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(opened->text, "localhost/medseal\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  EXPECT_EQ(ledger->receipt(0).status().code(), Code::kNotFound);
  EXPECT_EQ(ledger->read_tile({false, 0, 0, 1}).status().code(), Code::kNotFound);
  EXPECT_EQ(faults_->commits(), 0u) << "an empty log commits nothing";
}

TEST_P(LedgerAppendTest, AppendsGetDenseIndexesAndVerifiableReceipts) {
  FixedClock clock;
  LedgerOptions o = window(milliseconds(0));
  o.clock = &clock;
  auto ledger = open_ledger(o);
  for (int i = 0; i < 300; ++i) {
    Result<uint64_t> index = ledger->append(request(statement(0, i)));
    ASSERT_TRUE(index.is_ok()) << index.status().to_string();
    ASSERT_EQ(*index, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(ledger->head().size, 300u);
  for (uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(receipt_ok(*ledger, i, statement(0, int(i))));
  Result<VerifiedReceipt> v = verify_receipt(*ledger->receipt(7), verifier_);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(v->entry.kind, EntryKind::kAccess);
  EXPECT_EQ(v->entry.time_ms, clock.now_ms());
  EXPECT_EQ(v->checkpoint.size, 300u);
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

TEST_P(LedgerAppendTest, GivenTimeIsKept) {
  auto ledger = open_ledger();
  AppendRequest r = request("{}", EntryKind::kRecordVersion);
  r.time_ms = 42;
  Result<uint64_t> index = ledger->append(r);
  ASSERT_TRUE(index.is_ok());
  Result<VerifiedReceipt> v = verify_receipt(*ledger->receipt(*index), verifier_);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(v->entry.time_ms, 42u);
  EXPECT_EQ(v->entry.kind, EntryKind::kRecordVersion);
}

TEST_P(LedgerAppendTest, RejectsBadRequests) {
  auto ledger = open_ledger();
  EXPECT_EQ(ledger->append_all({}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ledger->append(request("{}", static_cast<EntryKind>(9))).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ledger->head().size, 0u);
}

// 8 threads, single appends and append_all mixed: every acknowledged index is unique, the indexes
// are dense, every receipt verifies, and the tiles rebuild the checkpoint's root.
TEST_P(LedgerAppendTest, ConcurrentAppendsFromEightThreads) {
  auto ledger = open_ledger(window(milliseconds(2)));
  constexpr int kThreads = 8, kRounds = 60;
  std::mutex mu;
  std::map<uint64_t, std::string> acked;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        std::vector<AppendRequest> group;
        const int n = i % 3 == 0 ? 5 : 1;
        for (int k = 0; k < n; ++k) group.push_back(request(statement(t, i * 10 + k)));
        Result<uint64_t> first = ledger->append_all(std::move(group));
        ASSERT_TRUE(first.is_ok()) << first.status().to_string();
        std::lock_guard lock(mu);
        for (int k = 0; k < n; ++k) {
          ASSERT_TRUE(acked.emplace(*first + k, statement(t, i * 10 + k)).second) << "duplicate";
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const uint64_t total = acked.size();
  EXPECT_EQ(total, uint64_t{kThreads} * (kRounds / 3 * 5 + (kRounds - kRounds / 3)));
  EXPECT_EQ(acked.rbegin()->first, total - 1) << "indexes are dense";
  EXPECT_EQ(ledger->head().size, total);
  for (const auto& [index, s] : acked) ASSERT_TRUE(receipt_ok(*ledger, index, s));
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
  EXPECT_LT(faults_->commits(), total) << "some appends shared a commit";
}

TEST_P(LedgerAppendTest, OneWindowGroupsConcurrentAppendsIntoFewCommits) {
  auto ledger = open_ledger(window(milliseconds(50)));
  constexpr int kThreads = 100;
  std::barrier start(kThreads);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      if (ledger->append(request(statement(t, 0)))) ++ok;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, kThreads);
  EXPECT_LE(faults_->commits(), 5u) << "100 appends within one 50 ms window";
  EXPECT_EQ(ledger->head().size, uint64_t{kThreads});
}

TEST_P(LedgerAppendTest, AFullBatchDoesNotWaitForTheWindow) {
  auto ledger = open_ledger(window(milliseconds(20'000), 10));
  constexpr int kThreads = 30;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      EXPECT_TRUE(ledger->append(request(statement(t, 0))).is_ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  for (uint64_t n : faults_->committed_sizes()) EXPECT_LE(n, 10u);
  EXPECT_EQ(faults_->commits(), 3u);
}

TEST_P(LedgerAppendTest, ClosedLoopCallersDoNotWaitOutTheWindow) {
  // 8 callers each appending 20 times in a row, with a 1 s window: waiting out the window for
  // every batch would take 20 s; once the previous batch's callers are all back, a batch closes.
  auto ledger = open_ledger(window(milliseconds(1'000)));
  constexpr int kThreads = 8, kEach = 20;
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) EXPECT_TRUE(ledger->append(request(statement(t, i))).is_ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(ledger->head().size, uint64_t{kThreads * kEach});
}

TEST_P(LedgerAppendTest, AppendAllIsConsecutiveAndNeverSplit) {
  auto ledger = open_ledger(window(milliseconds(1), 16));
  std::vector<AppendRequest> group;
  for (int i = 0; i < 100; ++i) group.push_back(request(statement(0, i)));
  Result<uint64_t> first = ledger->append_all(std::move(group));
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(*first, 0u);
  EXPECT_EQ(faults_->committed_sizes(), std::vector<uint64_t>{100});
  for (int i = 0; i < 100; i += 9) ASSERT_TRUE(receipt_ok(*ledger, uint64_t(i), statement(0, i)));
}

TEST_P(LedgerAppendTest, ReadTileServesExactlyTheTreesWidths) {
  auto ledger = open_ledger();
  std::vector<AppendRequest> group;
  for (int i = 0; i < 300; ++i) group.push_back(request(statement(0, i)));
  ASSERT_TRUE(ledger->append_all(std::move(group)));
  auto size_of = [&](merkle::TileId id) -> long {
    Result<std::string> t = ledger->read_tile(id);
    return t ? long(t->size()) : -long(t.status().code());
  };
  EXPECT_EQ(size_of({false, 0, 0, 256}), 256 * 32);
  EXPECT_EQ(size_of({false, 0, 1, 44}), 44 * 32);
  EXPECT_EQ(size_of({false, 0, 1, 10}), 10 * 32) << "an older partial width is a prefix";
  EXPECT_EQ(size_of({false, 1, 0, 1}), 32);
  EXPECT_EQ(size_of({true, 0, 0, 256}), 256 * 44);
  EXPECT_EQ(size_of({true, 0, 1, 44}), 44 * 44);
  EXPECT_EQ(size_of({true, 0, 1, 3}), 3 * 44);
  const long not_found = -long(Code::kNotFound);
  EXPECT_EQ(size_of({false, 0, 1, 45}), not_found);
  EXPECT_EQ(size_of({false, 0, 1, 256}), not_found);
  EXPECT_EQ(size_of({false, 0, 2, 1}), not_found);
  EXPECT_EQ(size_of({false, 1, 0, 2}), not_found);
  EXPECT_EQ(size_of({false, 2, 0, 1}), not_found);
  EXPECT_EQ(size_of({true, 1, 0, 1}), -long(Code::kInvalidArgument));
  EXPECT_EQ(size_of({false, 0, 0, 0}), -long(Code::kInvalidArgument));
  EXPECT_EQ(ledger->receipt(300).status().code(), Code::kNotFound);
}

TEST_P(LedgerAppendTest, ReopenResumesAndContinues) {
  uint64_t size = 0;
  {
    auto ledger = open_ledger();
    for (int batch : {1, 255, 1, 700, 3}) {
      std::vector<AppendRequest> group;
      for (int i = 0; i < batch; ++i) group.push_back(request(statement(1, int(size) + i)));
      ASSERT_EQ(*ledger->append_all(std::move(group)), size);
      size += uint64_t(batch);
    }
  }
  reopen_store();
  auto ledger = open_ledger();
  EXPECT_EQ(ledger->head().size, size);
  Result<uint64_t> next = ledger->append(request(statement(1, int(size))));
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(*next, size);
  for (uint64_t i = 0; i <= size; i += 37)
    ASSERT_TRUE(receipt_ok(*ledger, i, statement(1, int(i))));
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

TEST_P(LedgerAppendTest, OpenRefusesAnotherLogKey) {
  { ASSERT_TRUE(open_ledger()->append(request("{}"))); }
  auto other = Ledger::open(*faults_, note::generate_signer_key("localhost/medseal"));
  EXPECT_EQ(other.status().code(), Code::kVerificationFailed) << other.status().to_string();
}

// An insider edits the partial level-0 tile: the ledger refuses to resume on top of it.
TEST_P(LedgerAppendTest, OpenRefusesTilesThatDoNotMatchTheCheckpoint) {
  {
    auto ledger = open_ledger();
    std::vector<AppendRequest> group;
    for (int i = 0; i < 300; ++i) group.push_back(request(statement(0, i)));
    ASSERT_TRUE(ledger->append_all(std::move(group)));
  }
  close_store();
  const bool sqlite = GetParam() == testing::StoreKind::kSqlite;
  space_->raw_exec(std::string("UPDATE tiles SET bytes = ") +
                   (sqlite ? "zeroblob(44 * 32)" : "decode(repeat('00', 44 * 32), 'hex')") +
                   " WHERE entries = 0 AND level = 0 AND idx = 1");
  reopen_store();
  ASSERT_EQ(store_->read_tile(false, 0, 1)->bytes, std::string(44 * 32, '\0'));
  auto ledger = Ledger::open(*faults_, key_);
  EXPECT_EQ(ledger.status().code(), Code::kVerificationFailed) << ledger.status().to_string();
}

// Appends `n` entries concurrently, one per thread; returns how many succeeded.
int append_concurrently(Ledger& ledger, int n, int tag, std::vector<Status>* errors = nullptr) {
  std::mutex mu;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      Result<uint64_t> r = ledger.append(request(statement(tag, t)));
      if (r) ++ok;
      std::lock_guard lock(mu);
      if (!r && errors != nullptr) errors->push_back(r.status());
    });
  }
  for (auto& th : threads) th.join();
  return ok;
}

TEST_P(LedgerAppendTest, AFailedCommitFailsEveryCallerAndTheLogContinues) {
  auto ledger = open_ledger(window(milliseconds(20)));
  ASSERT_EQ(append_concurrently(*ledger, 10, 1), 10);
  const storage::LogHead before = ledger->head();
  const size_t commits = faults_->commits();

  faults_->fail_commits(Status::io("injected: disk on fire"));
  std::vector<Status> errors;
  EXPECT_EQ(append_concurrently(*ledger, 20, 2, &errors), 0);
  ASSERT_EQ(errors.size(), 20u);
  for (const Status& s : errors) {
    EXPECT_EQ(s.code(), Code::kIoError);
    EXPECT_EQ(s.message(), "injected: disk on fire");
  }
  EXPECT_EQ(ledger->head().size, before.size);
  EXPECT_EQ(ledger->head().checkpoint, before.checkpoint);
  EXPECT_EQ(faults_->commits(), commits);

  faults_->clear();
  Result<uint64_t> next = ledger->append(request(statement(3, 0)));
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(*next, before.size) << "the failed batch took no indexes";
  EXPECT_EQ(append_concurrently(*ledger, 10, 4), 10);
  EXPECT_TRUE(receipt_ok(*ledger, *next, statement(3, 0)));
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
  // And the store on disk agrees after a restart.
  ledger.reset();
  reopen_store();
  ledger = open_ledger();
  EXPECT_EQ(ledger->head().size, before.size + 11);
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

// The store committed but the reply was lost: the callers hear an error (never a false success),
// and the ledger resumes from what the store holds.
TEST_P(LedgerAppendTest, ALostCommitReplyIsNotAcknowledgedAndTheLogResumes) {
  auto ledger = open_ledger();
  ASSERT_TRUE(ledger->append(request(statement(0, 0))));
  faults_->fail_after_commits(Status::io("injected: connection dropped"));
  EXPECT_EQ(ledger->append(request(statement(0, 1))).status().code(), Code::kIoError);
  faults_->clear();
  Result<uint64_t> next = ledger->append(request(statement(0, 2)));
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(*next, 2u) << "entry 1 is in the store, so the next one is 2";
  EXPECT_TRUE(receipt_ok(*ledger, 1, statement(0, 1)));
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

TEST_P(LedgerAppendTest, AStoreThatCannotBeReadFailsBatchesUntilItRecovers) {
  auto ledger = open_ledger();
  ASSERT_TRUE(ledger->append(request(statement(0, 0))));
  faults_->fail_commits(Status::io("injected: commit"));
  faults_->fail_reads(Status::io("injected: read"));
  EXPECT_EQ(ledger->append(request(statement(0, 1))).status().message(), "injected: commit");
  EXPECT_EQ(ledger->append(request(statement(0, 2))).status().message(), "injected: read");
  EXPECT_EQ(ledger->receipt(0).status().message(), "injected: read");
  faults_->clear();
  Result<uint64_t> next = ledger->append(request(statement(0, 3)));
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(*next, 1u);
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

TEST_P(LedgerAppendTest, AFullDiskFailsTheBatchAndLosesNothingAcknowledged) {
  auto* sqlite_ = dynamic_cast<storage::SqliteStore*>(store_.get());
  if (sqlite_ == nullptr) GTEST_SKIP() << "SQLite only: a full disk of PostgreSQL is the server's";
  auto ledger = open_ledger();
  ASSERT_EQ(append_concurrently(*ledger, 16, 0), 16);
  const uint64_t size = ledger->head().size;
  ASSERT_TRUE(sqlite_->set_full_for_test(true));
  std::vector<AppendRequest> big;
  for (int i = 0; i < 2000; ++i) big.push_back(request(std::string(200, 'x')));
  Result<uint64_t> r = ledger->append_all(big);
  ASSERT_EQ(r.status().code(), Code::kIoError) << r.status().to_string();
  EXPECT_NE(r.status().message().find("full"), std::string::npos) << r.status().message();
  EXPECT_EQ(ledger->head().size, size);
  ASSERT_TRUE(sqlite_->set_full_for_test(false));
  Result<uint64_t> again = ledger->append_all(big);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(*again, size);
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

TEST_P(LedgerAppendTest, ShuttingDownCommitsWhatIsQueued) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  auto t0 = std::chrono::steady_clock::now();
  {
    auto ledger = open_ledger(window(milliseconds(5'000)));
    for (int t = 0; t < 5; ++t) {
      threads.emplace_back([&, t] {
        if (ledger->append(request(statement(t, 0)))) ++ok;
      });
    }
    std::this_thread::sleep_for(milliseconds(200));  // all queued, the window still open
    t0 = std::chrono::steady_clock::now();
  }  // destroyed here: the queued batch is committed at once, not after the window
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, 5);
  auto ledger = open_ledger();
  EXPECT_EQ(ledger->head().size, 5u);
}

TEST_P(LedgerAppendTest, NoAppendIsAnsweredBeforeTheFlushThatCoversIt) {
  auto ledger = open_ledger(window(milliseconds(0)));
  faults_->hold_syncs();  // a disk that takes its time
  std::atomic<bool> answered{false};
  std::thread caller([&] {
    Result<uint64_t> index = ledger->append(request(statement(0, 0)));
    EXPECT_TRUE(index.is_ok() && *index == 0) << index.status().to_string();
    answered = true;
  });
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(faults_->commits(), 1u) << "committed while the flush waits";
  EXPECT_FALSE(answered) << "answered before its batch was flushed";
  EXPECT_EQ(ledger->head().size, 0u) << "a checkpoint was served before it was durable";
  faults_->release_syncs();
  caller.join();
  EXPECT_TRUE(answered);
  EXPECT_EQ(ledger->head().size, 1u);
}

TEST_P(LedgerAppendTest, AFailedFlushFailsItsBatchAndEveryLaterWriteUntilReopened) {
  auto ledger = open_ledger(window(milliseconds(0)));
  ASSERT_TRUE(ledger->append(request(statement(0, 0))).is_ok());
  faults_->fail_syncs(Status::io("EIO from fdatasync"));
  Result<uint64_t> unflushed = ledger->append(request(statement(0, 1)));
  EXPECT_EQ(unflushed.status().code(), Code::kIoError);
  faults_->clear();
  // The kernel may have dropped the pages it could not write: nothing more is acknowledged.
  Result<uint64_t> later = ledger->append(request(statement(0, 2)));
  EXPECT_EQ(later.status().code(), Code::kIoError);
  EXPECT_NE(later.status().message().find("restart"), std::string::npos) << later.status().message();
  EXPECT_EQ(ledger->head().size, 1u) << "only flushed checkpoints are served";
  ledger.reset();
  // Reopened, the ledger goes on from what the store holds (here the unflushed entry survived).
  ledger = open_ledger();
  Result<uint64_t> index = ledger->append(request(statement(0, 3)));
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();
  EXPECT_EQ(*index, 2u);
}

// A record version and keys committed with their entry: the ledger stamps the version with the
// entry's index and time, and an erasure entry removes it and the erased entry's extras.
AppendRequest record_request(uint64_t version, std::string bytes) {
  AppendRequest r = request(statement(0, static_cast<int>(version)), EntryKind::kRecordVersion);
  r.record = storage::RecordVersion{.type = "Patient", .id = "1", .version = version,
                                    .compartment = "Patient/1", .bytes = std::move(bytes)};
  r.keys = {"Patient/1", "Practitioner/7"};
  return r;
}

TEST_P(LedgerAppendTest, RecordsAndKeysAreStoredWithTheirEntry) {
  FixedClock clock;
  LedgerOptions o = window(milliseconds(1));
  o.clock = &clock;
  auto ledger = open_ledger(o);
  ASSERT_TRUE(ledger->append(request(statement(0, 0))));
  Result<uint64_t> first = ledger->append(record_request(1, R"({"resourceType":"Patient"})"));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  AppendRequest second = record_request(2, R"({"resourceType":"Patient","active":true})");
  second.time_ms = 42;
  Result<uint64_t> index = ledger->append(second);
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();

  Result<storage::RecordVersion> v1 = store_->read_record("Patient", "1", 1);
  ASSERT_TRUE(v1.is_ok()) << v1.status().to_string();
  EXPECT_EQ(v1->ledger_index, *first);
  EXPECT_EQ(v1->updated_ms, clock.now_ms());
  Result<storage::RecordVersion> latest = store_->read_record("Patient", "1", 0);
  ASSERT_TRUE(latest.is_ok()) << latest.status().to_string();
  EXPECT_EQ(latest->version, 2u);
  EXPECT_EQ(latest->ledger_index, *index);
  EXPECT_EQ(latest->updated_ms, 42u);
  EXPECT_EQ(latest->bytes, second.record->bytes);
  EXPECT_EQ(*store_->entries_with_key("Practitioner/7", 0, 10),
            (std::vector<uint64_t>{*index, *first}));

  AppendRequest erase = request(R"({"op":"erase"})", EntryKind::kSystem);
  erase.erasure = storage::Erasure{"Patient", "1", {*first, *index}};
  erase.keys = {"Patient/1"};
  Result<uint64_t> erased_by = ledger->append(erase);
  ASSERT_TRUE(erased_by.is_ok()) << erased_by.status().to_string();
  EXPECT_EQ(store_->read_record("Patient", "1", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(*store_->entries_with_key("Patient/1", 0, 10), std::vector<uint64_t>{*erased_by});
  EXPECT_EQ(ledger->receipt(*first).status().code(), Code::kNotFound);
  EXPECT_TRUE(receipt_ok(*ledger, *erased_by, R"({"op":"erase"})"));
  EXPECT_TRUE(receipt_ok(*ledger, 0, statement(0, 0)));
}

TEST_P(LedgerAppendTest, AFailedCommitStoresNoRecordsOrKeys) {
  auto ledger = open_ledger();
  ASSERT_TRUE(ledger->append(request(statement(0, 0))));
  faults_->fail_commits(Status::io("injected: commit"));
  EXPECT_EQ(ledger->append(record_request(1, "{}")).status().code(), Code::kIoError);
  faults_->clear();
  EXPECT_EQ(store_->read_record("Patient", "1", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(*store_->entries_with_key("Patient/1", 0, 10), std::vector<uint64_t>{});
  EXPECT_EQ(store_->record_history("", "", 0, 10)->total, 0u);

  Result<uint64_t> index = ledger->append(record_request(1, "{}"));
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();
  EXPECT_EQ(*index, 1u) << "the failed batch took no index";
  EXPECT_EQ(store_->read_record("Patient", "1", 0)->ledger_index, 1u);
  // The same version again is a conflict for its batch, which stores nothing.
  EXPECT_EQ(ledger->append(record_request(1, "{}")).status().code(), Code::kConflict);
  EXPECT_EQ(ledger->head().size, 2u);
  EXPECT_EQ(*store_->entries_with_key("Patient/1", 0, 10), std::vector<uint64_t>{1});
  EXPECT_TRUE(testing::whole_log_verifies(*ledger, verifier_));
}

INSTANTIATE_TEST_SUITE_P(BothStores, LedgerAppendTest,
                         ::testing::ValuesIn(testing::all_store_kinds()), testing::StoreKindName());

}  // namespace
}  // namespace medseal::ledger
