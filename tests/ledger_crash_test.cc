// Crashes tested by doing them (DESIGN.md 9): a child process appends from several threads and
// reports each acknowledged index through a pipe only after append returned; the parent kills it
// with SIGKILL at a random moment, reopens the store and checks that every acknowledged entry is
// there with its statement and a verifying receipt, that the whole log's tiles rebuild the signed
// root, and that appends continue from the stored size. Repeated on the same store, on each store
// (SQLite file, PostgreSQL schema: there the kill also drops the child's sessions mid-transaction).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/receipt.h"
#include "merkle/tile.h"
#include "storage/postgres/pg_store.h"
#include "support/ledger_check.h"
#include "support/paths.h"
#include "support/test_stores.h"

namespace medseal::ledger {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRounds = 24;
// PostgreSQL reads cost a round trip each (the checks read every acknowledged entry), so its run
// kills 10 times, each time sooner: fewer entries to check, as many crashes mid-commit.
constexpr int kPostgresRounds = 10;
constexpr int kPostgresMaxDelayMs = 150;
constexpr int kSingleThreads = 4;  // threads appending one entry at a time
constexpr int kGroupThreads = 2;   // threads appending groups with append_all

std::string statement(int round, int thread, int n, int k) {
  return R"({"op":"crash-test","round":)" + std::to_string(round) + R"(,"thread":)" +
         std::to_string(thread) + R"(,"n":)" + std::to_string(n) + R"(,"k":)" + std::to_string(k) +
         "}";
}

// One short line per acknowledged append; shorter than PIPE_BUF, so each write is atomic.
void report(int fd, const std::string& line) {
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
}

[[noreturn]] void child_appender(Ledger& ledger, int fd, int round, int thread) {
  std::mt19937 rng(static_cast<unsigned>(round * 100 + thread));
  for (int n = 0;; ++n) {
    const int count = thread < kSingleThreads ? 1 : static_cast<int>(rng() % 200) + 1;
    std::vector<AppendRequest> group;
    for (int k = 0; k < count; ++k) {
      group.push_back({EntryKind::kAccess, statement(round, thread, n, k), 0});
    }
    Result<uint64_t> first =
        count == 1 ? ledger.append(std::move(group[0])) : ledger.append_all(std::move(group));
    if (!first) report(fd, "ERROR " + first.status().to_string() + "\n");
    if (!first) _exit(2);
    report(fd, std::to_string(*first) + " " + std::to_string(count) + " " + std::to_string(round) +
                   " " + std::to_string(thread) + " " + std::to_string(n) + "\n");
  }
}

// The child: opens the log and appends until it is killed. Never returns.
[[noreturn]] void run_child(const std::string& location, int fd, int round) {
  auto store = storage::open_store_at(location);
  if (!store) report(fd, "ERROR " + store.status().to_string() + "\n");
  if (!store) _exit(1);
  LedgerOptions options;
  options.batch_window = std::chrono::milliseconds(1);
  auto ledger = Ledger::open(**store, testing::test_log_key(), options);
  if (!ledger) report(fd, "ERROR " + ledger.status().to_string() + "\n");
  if (!ledger) _exit(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kSingleThreads + kGroupThreads; ++t) {
    threads.emplace_back([&, t] { child_appender(**ledger, fd, round, t); });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

struct Acked {
  std::string statement;
  int round = 0;
};

// Parses the child's reports into `acked`; returns false on an ERROR line.
bool absorb(const std::string& lines, std::map<uint64_t, Acked>& acked, std::string& error) {
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ERROR", 0) == 0) {
      error = line;
      return false;
    }
    std::istringstream f(line);
    uint64_t first = 0;
    int count = 0, round = 0, thread = 0, n = 0;
    f >> first >> count >> round >> thread >> n;
    for (int k = 0; k < count; ++k)
      acked[first + uint64_t(k)] = {statement(round, thread, n, k), round};
  }
  return true;
}

// Reads the child's reports until `deadline`, then kills it and reads what it wrote before dying.
std::string run_and_kill(pid_t pid, int fd, Clock::time_point deadline) {
  std::string out;
  char buf[65536];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;  // the child died on its own
    out.append(buf, static_cast<size_t>(n));
  }
  kill(pid, SIGKILL);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

// Entry `index` as the ledger serves it in its entry bundle (bundles cached by the caller).
std::string served_entry(Ledger& ledger, uint64_t index, uint64_t size,
                         std::map<uint64_t, std::string>& bundles) {
  const uint64_t b = index / merkle::kTileWidth;
  auto it = bundles.find(b);
  if (it == bundles.end()) {
    Result<std::string> bundle = ledger.read_tile({true, 0, b, merkle::tile_width(0, b, size)});
    EXPECT_TRUE(bundle.is_ok()) << bundle.status().to_string();
    it = bundles.emplace(b, bundle.is_ok() ? *bundle : "").first;
  }
  Result<std::vector<std::string_view>> entries = merkle::parse_entry_bundle(it->second);
  if (!entries || entries->size() <= index % merkle::kTileWidth) return "";
  return std::string((*entries)[index % merkle::kTileWidth]);
}

// Acknowledged entry `index` is stored with its statement, and its public entry commits to them.
::testing::AssertionResult entry_intact(storage::Store& store, Ledger& ledger, uint64_t index,
                                        const Acked& acked, uint64_t size,
                                        std::map<uint64_t, std::string>& bundles) {
  Result<storage::EntryExtra> e = store.read_extra(index);
  if (!e) return ::testing::AssertionFailure() << index << ": " << e.status().to_string();
  if (e->statement != acked.statement)
    return ::testing::AssertionFailure() << index << ": statement";
  Result<Entry> entry = parse_entry(served_entry(ledger, index, size, bundles));
  if (!entry || entry->commitment != commitment(e->salt, e->statement)) {
    return ::testing::AssertionFailure() << index << ": the entry does not commit to its statement";
  }
  return ::testing::AssertionSuccess();
}

// Everything acknowledged is there; the log verifies; appends continue from the stored size.
// Entries from earlier rounds are rechecked by sample, and all of them after the last round.
void verify_after_crash(const std::string& location, std::map<uint64_t, Acked>& acked, int round,
                        bool last) {
  auto store = storage::open_store_at(location);
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  const note::SignerKey key = testing::test_log_key();
  const note::VerifierKey verifier = note::verifier_of(key);
  auto ledger = Ledger::open(**store, key);  // checks the signed checkpoint against the tiles
  ASSERT_TRUE(ledger.is_ok()) << "round " << round << ": " << ledger.status().to_string();
  const uint64_t size = (*ledger)->head().size;
  if (!acked.empty()) {
    ASSERT_LT(acked.rbegin()->first, size) << "an acknowledged entry was lost";
  }
  std::map<uint64_t, std::string> bundles;
  for (const auto& [index, a] : acked) {
    if (!last && a.round != round && index % 13 != 0) continue;
    ASSERT_TRUE(entry_intact(**store, **ledger, index, a, size, bundles));
    if (index % 17 != 0 && index + 50 < size) continue;  // full receipts: a sample and the newest
    Result<std::string> r = (*ledger)->receipt(index);
    ASSERT_TRUE(r.is_ok()) << index << ": " << r.status().to_string();
    Result<VerifiedReceipt> v = verify_receipt(*r, verifier);
    ASSERT_TRUE(v.is_ok()) << index << ": " << v.status().to_string();
    ASSERT_EQ(v->statement, a.statement);
  }
  ASSERT_TRUE(testing::whole_log_verifies(**ledger, verifier)) << "round " << round;
  const std::string s = statement(round, 99, 0, 0);
  Result<uint64_t> next = (*ledger)->append({EntryKind::kSystem, s, 0});
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  ASSERT_EQ(*next, size) << "appends continue from the stored size";
  acked[*next] = {s, round};
}

class LedgerCrash : public ::testing::TestWithParam<testing::StoreKind> {};

TEST_P(LedgerCrash, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  if (GetParam() == testing::StoreKind::kPostgres && testing::test_pg_url().empty()) {
    GTEST_SKIP() << testing::kNoTestPg;
  }
  testing::StoreSpace space(GetParam());
  const std::string& path = space.location();
  const int rounds = GetParam() == testing::StoreKind::kPostgres ? kPostgresRounds : kRounds;
  std::mt19937 rng(1234567);
  std::uniform_int_distribution<int> delay_ms(
      10, GetParam() == testing::StoreKind::kPostgres ? kPostgresMaxDelayMs : 300);
  std::map<uint64_t, Acked> acked;
  size_t acked_by_children = 0;
  const auto started = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    // No thread runs in this process here (the previous round's ledger is gone), so fork is safe.
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      run_child(path, fds[1], round);
    }
    close(fds[1]);
    const std::string reports =
        run_and_kill(pid, fds[0], Clock::now() + std::chrono::milliseconds(delay_ms(rng)));
    close(fds[0]);
    std::string error;
    const size_t before = acked.size();
    ASSERT_TRUE(absorb(reports, acked, error)) << "round " << round << ": " << error;
    acked_by_children += acked.size() - before;
    space.wait_for_sessions_to_end();
    if (HasFatalFailure()) return;
    verify_after_crash(path, acked, round, round == rounds - 1);
    if (HasFatalFailure()) return;
  }
  std::printf("%d kills, %zu entries acknowledged by the children, log size %zu, %.1f s\n", rounds,
              acked_by_children, acked.size(),
              std::chrono::duration<double>(Clock::now() - started).count());
  EXPECT_GT(acked_by_children, size_t(rounds)) << "the children got appends acknowledged";
}

INSTANTIATE_TEST_SUITE_P(BothStores, LedgerCrash, ::testing::ValuesIn(testing::all_store_kinds()),
                         testing::StoreKindName());

}  // namespace
}  // namespace medseal::ledger
