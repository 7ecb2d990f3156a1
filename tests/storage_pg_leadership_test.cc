// Several nodes on one PostgreSQL (issue 7 section 2), the sequencing half: leadership by advisory
// lock, the commit fence that keeps a deposed leader from committing, and failover under load:
// node processes contend for the leadership, the leader appends from several threads and reports
// each acknowledged entry only after append returned, and the test kills the leader with SIGKILL
// again and again. Another node must take over within seconds, every acknowledged entry must be
// stored with exactly the statement acknowledged (two leaders committing at one size would break
// that), and the whole log must verify. Skipped without MEDSEAL_TEST_PG.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "ledger/ledger.h"
#include "storage/postgres/leadership.h"
#include "storage/postgres/pg_store.h"
#include "support/ledger_check.h"
#include "support/test_stores.h"

namespace medseal::storage::postgres {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kKills = 10;
constexpr int kNodes = 3;
constexpr int kAppenders = 4;
constexpr auto kFailoverBound = std::chrono::seconds(5);

class LeadershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::test_pg_url().empty()) GTEST_SKIP() << testing::kNoTestPg;
    space_ = std::make_unique<testing::StoreSpace>(testing::StoreKind::kPostgres);
  }
  std::unique_ptr<testing::StoreSpace> space_;
};

Result<std::unique_ptr<Leadership>> lead(const std::string& url) {
  int tries = 0;
  return Leadership::acquire(url, milliseconds(20), [&] { return ++tries > 50; });
}

TEST_F(LeadershipTest, OneLeaderAtATimeAndADeposedLeaderCannotCommit) {
  const std::string& url = space_->location();
  Result<std::unique_ptr<Leadership>> first = lead(url);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  int tries = 0;
  Result<std::unique_ptr<Leadership>> second =
      Leadership::acquire(url, milliseconds(10), [&] { return ++tries > 3; });
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition) << "the lock is taken";

  Result<std::unique_ptr<Store>> store = open_postgres_store(url, {.leader_session = (*first)->session_pid()});
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  Batch b{.old_size = 0, .new_size = 1, .extras = {{std::string(32, 's'), "one"}},
          .checkpoint = "checkpoint@1"};
  ASSERT_TRUE((*store)->commit(b));

  // The leader's session ends behind its back; another node takes over.
  space_->raw_exec("SELECT pg_terminate_backend(" + std::to_string((*first)->session_pid()) + ")");
  EXPECT_EQ((*first)->check().code(), Code::kFailedPrecondition);
  Result<std::unique_ptr<Leadership>> next = lead(url);
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  b = {.old_size = 1, .new_size = 2, .extras = {{std::string(32, 's'), "two"}},
       .checkpoint = "checkpoint@2"};
  Status s = (*store)->commit(b);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.to_string();
  EXPECT_EQ((*store)->head()->size, 1u) << "the deposed leader committed nothing";
}

// --- failover under load

void report(int fd, const std::string& line) {
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
}

std::string statement(int node, int thread, int n) {
  return R"({"node":)" + std::to_string(node) + R"(,"thread":)" + std::to_string(thread) +
         R"(,"n":)" + std::to_string(n) + "}";
}

// A node: waits for the leadership, then sequences appends until it dies or loses it.
[[noreturn]] void run_node(const std::string& url, int fd, int node) {
  Result<std::unique_ptr<Leadership>> leadership =
      Leadership::acquire(url, milliseconds(100), [] { return false; });
  if (!leadership) _exit(1);
  PostgresStoreOptions options;
  options.leader_session = (*leadership)->session_pid();
  Result<std::unique_ptr<Store>> store = open_postgres_store(url, options);
  if (!store) _exit(1);
  ledger::LedgerOptions ledger_options;
  ledger_options.batch_window = milliseconds(1);
  auto ledger = ledger::Ledger::open(**store, testing::test_log_key(), ledger_options);
  if (!ledger) _exit(1);
  report(fd, "LEADER\n");
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0;; ++n) {
        const std::string s = statement(node, t, n);
        Result<uint64_t> index = (*ledger)->append({ledger::EntryKind::kAccess, s, 0});
        // A batch refused right after a takeover is not acknowledged; the next one reloads.
        if (index) report(fd, std::to_string(*index) + " " + s + "\n");
      }
    });
  }
  while ((*leadership)->check()) std::this_thread::sleep_for(milliseconds(200));
  _exit(4);  // deposed: stop at once
}

struct Node {
  pid_t pid = -1;
  int fd = -1;
  std::string partial;
};

Node start_node(const std::string& url, int node) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    run_node(url, fds[1], node);
  }
  close(fds[1]);
  return {pid, fds[0], ""};
}

// Reads every node's reports for up to `wait`; returns the index of a node that announced its
// leadership, or -1. Acknowledged entries go to `acked`.
int read_reports(std::vector<Node>& nodes, milliseconds wait, std::map<uint64_t, std::string>& acked) {
  const auto deadline = Clock::now() + wait;
  int leader = -1;
  std::vector<pollfd> fds;
  for (const Node& n : nodes) fds.push_back({n.fd, POLLIN, 0});
  for (auto left = wait; left.count() > 0;
       left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now())) {
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) continue;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      char buf[65536];
      const ssize_t n = read(nodes[i].fd, buf, sizeof buf);
      if (n <= 0) continue;
      nodes[i].partial.append(buf, static_cast<size_t>(n));
      size_t end;
      while ((end = nodes[i].partial.find('\n')) != std::string::npos) {
        const std::string line = nodes[i].partial.substr(0, end);
        nodes[i].partial.erase(0, end + 1);
        if (line == "LEADER") {
          leader = static_cast<int>(i);
          continue;
        }
        const size_t space = line.find(' ');
        acked[std::stoull(line.substr(0, space))] = line.substr(space + 1);
      }
    }
    if (leader >= 0) return leader;
  }
  return leader;
}

void stop_node(Node& n) {
  kill(n.pid, SIGKILL);
  int status = 0;
  waitpid(n.pid, &status, 0);
  close(n.fd);
}

TEST_F(LeadershipTest, KillingTheLeaderUnderLoadLosesNothingAcknowledged) {
  const std::string url = space_->location();
  std::map<uint64_t, std::string> acked;
  std::vector<Node> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(start_node(url, i));
  int leader = read_reports(nodes, milliseconds(10000), acked);
  ASSERT_GE(leader, 0) << "no node became leader";
  int next_id = kNodes;
  double worst_failover_s = 0;
  for (int kill_no = 0; kill_no < kKills; ++kill_no) {
    (void)read_reports(nodes, milliseconds(300), acked);  // the leader works under load
    stop_node(nodes[static_cast<size_t>(leader)]);
    const auto killed_at = Clock::now();
    nodes[static_cast<size_t>(leader)] = start_node(url, next_id++);  // the node restarts
    leader = read_reports(nodes, kFailoverBound, acked);
    ASSERT_GE(leader, 0) << "no node took over within " << kFailoverBound.count() << " s";
    worst_failover_s = std::max(
        worst_failover_s, std::chrono::duration<double>(Clock::now() - killed_at).count());
  }
  (void)read_reports(nodes, milliseconds(300), acked);
  for (Node& n : nodes) stop_node(n);

  Result<std::unique_ptr<Store>> store = open_postgres_store(url);
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  auto ledger = ledger::Ledger::open(**store, testing::test_log_key());
  ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
  ASSERT_FALSE(acked.empty());
  ASSERT_LT(acked.rbegin()->first, (*ledger)->head().size) << "an acknowledged entry was lost";
  for (const auto& [index, s] : acked) {
    Result<EntryExtra> e = (*store)->read_extra(index);
    ASSERT_TRUE(e.is_ok()) << index << ": " << e.status().to_string();
    ASSERT_EQ(e->statement, s) << "entry " << index << " is not the one acknowledged";
  }
  EXPECT_TRUE(testing::whole_log_verifies(**ledger, note::verifier_of(testing::test_log_key())));
  std::printf("%d leader kills, %zu entries acknowledged, log size %llu, worst failover %.2f s\n",
              kKills, acked.size(), static_cast<unsigned long long>((*ledger)->head().size),
              worst_failover_s);
}

}  // namespace
}  // namespace medseal::storage::postgres
