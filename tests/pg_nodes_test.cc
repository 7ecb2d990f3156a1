// Three `medseal serve` nodes on one PostgreSQL (issue 7 section 2): real processes sharing a fresh
// schema of the throwaway cluster (MEDSEAL_TEST_PG, scripts/pg-test-cluster.sh), all given the same
// log key and tokens (one data directory copied three times). Keep-alive clients write and read
// through all three nodes while the leader is SIGKILLed again and again (and restarted as a
// follower). Then every write acknowledged anywhere (201/200 with X-Medseal-Ledger-Index) must be
// readable with the same bytes and have a verifying receipt for its entry, no entry index or record
// version may have been acknowledged twice, the log every node serves must verify, and no two
// checkpoints of one size (collected from every node throughout) may differ.
//
// MEDSEAL_PG_NODES_KILLS sets the number of leader kills (default 10; 3 under a sanitizer, where
// each kill and restart is several times slower and the plain build already makes the 10).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/common.h"
#include "note/keys.h"
#include "storage/postgres/leadership.h"
#include "witness/cosigned_checkpoint.h"
#include "support/acked_writes.h"
#include "support/eventually.h"
#include "support/fake_witness.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "support/test_stores.h"

namespace medseal::testing {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDefaultKills = 3;
#else
constexpr int kDefaultKills = 10;
#endif

using Clock = std::chrono::steady_clock;

constexpr int kNodes = 3;
constexpr int kClients = 24;  // 8 per node
constexpr int kPatients = 4;
constexpr int kSharedRecords = 3;  // updated by clients of every node at once
constexpr int kCheckThreads = 12;

std::string patient(int k) { return "Patient/nodes-p" + std::to_string(k); }

std::string observation(int client, int n, const std::string& id) {
  return observation_json(patient(client % kPatients), client, n, id);
}

// The three nodes; a killed one is replaced by a new process on the same data directory.
class Nodes {
 public:
  // `extra`: more `medseal serve` flags for every node.
  Nodes(std::string root, std::string store_url, std::vector<std::string> extra = {})
      : root_(std::move(root)), url_(std::move(store_url)), extra_(std::move(extra)) {}

  void start(int i) {
    std::vector<std::string> args = {"--store", url_};
    args.insert(args.end(), extra_.begin(), extra_.end());
    auto server = std::make_unique<Server>(dir(i), std::move(args));
    std::lock_guard lock(mu_);
    servers_[i] = std::move(server);
  }
  std::string dir(int i) const { return root_ + "/node" + std::to_string(i); }
  std::string base(int i) {
    std::lock_guard lock(mu_);
    return servers_[i] ? servers_[i]->base() : "";
  }
  Server& server(int i) { return *servers_[i]; }
  // The node whose address the leader advertised in PostgreSQL, or -1.
  int leader() {
    auto conn = storage::postgres::Conn::connect(url_);
    if (!conn) return -1;
    auto address = storage::postgres::find_leader_address(**conn);
    if (!address) return -1;
    for (int i = 0; i < kNodes; ++i) {
      if (base(i) == *address) return i;
    }
    return -1;
  }
  // SIGKILLs node i and waits until another node advertises; returns the failover time in ms.
  double kill_leader(int i) {
    EXPECT_EQ(servers_[i]->kill(), 128 + SIGKILL);
    const auto killed = Clock::now();
    while (ms_since(killed) < 20'000) {
      const int now = leader();
      if (now >= 0 && now != i) return ms_since(killed);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no node took over within 20 s";
    return 20'000;
  }

 private:
  std::string root_, url_;
  std::vector<std::string> extra_;
  std::mutex mu_;
  std::unique_ptr<Server> servers_[kNodes];
};

// What one client saw, and every checkpoint any client saw, by size.
struct Observed {
  std::mutex mu;
  std::vector<AckedWrite> acked;
  std::map<uint64_t, std::set<std::string>> checkpoints;
  std::vector<std::string> errors;
  size_t unavailable = 0;  // 503s and lost connections: not acknowledged, retried
};

uint64_t checkpoint_size(const std::string& note) {
  const size_t first = note.find('\n');
  if (first == std::string::npos) return UINT64_MAX;
  return std::strtoull(note.c_str() + first + 1, nullptr, 10);
}

// One keep-alive client of node `node % kNodes`: creates (50 %), updates its own record (15 %) or
// one shared by all nodes (15 %), reads back its last acknowledged write (10 %), reads the
// checkpoint (10 %). Reconnects (to the node's current process) after any failure.
void run_client(Nodes& nodes, const httplib::Headers& auth, int client, unsigned seed,
                const std::atomic<bool>& stop, Observed& seen) {
  std::mt19937 rng(seed);
  const int node = client % kNodes;
  const std::string own_id = "nodes-c" + std::to_string(client);
  std::vector<AckedWrite> mine;
  size_t unavailable = 0;
  std::vector<std::string> checkpoints;
  for (int n = 0; !stop;) {
    httplib::Client http(nodes.base(node));
    http.set_keep_alive(true);
    http.set_tcp_nodelay(true);
    http.set_connection_timeout(1);
    http.set_read_timeout(30);
    for (; !stop; ++n) {
      const unsigned pick = rng() % 20;
      const bool read_back = pick >= 2 && pick < 4 && !mine.empty();
      auto send = [&]() -> httplib::Result {
        if (pick < 2) return http.Get("/log/checkpoint");
        if (read_back) return http.Get("/fhir/" + mine.back().name(), auth);
        std::string id = pick < 7 ? "nodes-shared" + std::to_string(rng() % kSharedRecords) : own_id;
        if (pick < 10) {
          return http.Put("/fhir/Observation/" + id, auth, observation(client, n, id), "application/fhir+json");
        }
        return http.Post("/fhir/Observation", auth, observation(client, n, ""), "application/fhir+json");
      };
      httplib::Result res = send();
      if (res && res->status == 200 && pick < 2) checkpoints.push_back(res->body);
      if (res && res->status == 200 && read_back && res->body != mine.back().body) {
        std::lock_guard lock(seen.mu);
        seen.errors.push_back(mine.back().name() + ": read other bytes than acknowledged");
      }
      if (!res) {
        ++unavailable;
        break;  // the node died: reconnect to its next process
      }
      if (res->status == 503) {
        ++unavailable;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (pick < 2 || read_back) continue;
      auto acked = acked_write(res, "Observation");
      if (acked) {
        mine.push_back(std::move(*acked));
      } else {
        std::lock_guard lock(seen.mu);
        seen.errors.push_back("status " + std::to_string(res->status) + ": " + res->body.substr(0, 200));
      }
    }
    if (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::lock_guard lock(seen.mu);
  seen.acked.insert(seen.acked.end(), mine.begin(), mine.end());
  seen.unavailable += unavailable;
  for (std::string& cp : checkpoints) seen.checkpoints[checkpoint_size(cp)].insert(std::move(cp));
}

class PgNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test_pg_url().empty()) GTEST_SKIP() << kNoTestPg;
    space_ = std::make_unique<StoreSpace>(StoreKind::kPostgres);
  }

  // One data directory with the log key and the tokens, copied to every node: the nodes must sign
  // with one key, and whichever leads authenticates the requests the others forward.
  void prepare_data_dirs(Nodes& nodes) {
    const std::string first = nodes.dir(0);
    std::filesystem::create_directory(first);
    std::filesystem::permissions(first, std::filesystem::perms::owner_all);
    ProgramOutcome key = run_medseal({"keygen", "--out", first, "--origin", "nodes.example/medseal"});
    ASSERT_EQ(key.status, 0) << key.err;
    clinician_ = issue_bearer(first, "clinician", "dr.nodes@nodes-hospital");
    auto vkey = cli::load_vkey(first + "/log.vkey");
    ASSERT_TRUE(vkey) << vkey.status().to_string();
    vkey_ = *vkey;
    for (int i = 1; i < kNodes; ++i) {
      std::filesystem::copy(first, nodes.dir(i), std::filesystem::copy_options::recursive);
      std::filesystem::permissions(nodes.dir(i), std::filesystem::perms::owner_all);
    }
  }

  // The patients, registered by the clinician (the care relation that lets it write their
  // Observations), each through another of the first `running` nodes.
  void register_patients(Nodes& nodes, int running = kNodes) {
    for (int k = 0; k < kPatients; ++k) {
      httplib::Client http(nodes.base(k % running));
      const std::string id = "nodes-p" + std::to_string(k);
      auto res = http.Put("/fhir/Patient/" + id, clinician_,
                          R"({"resourceType":"Patient","id":")" + id + R"(","gender":"unknown"})",
                          "application/fhir+json");
      auto acked = acked_write(res, "Patient");
      ASSERT_TRUE(acked) << (res ? res->body : httplib::to_string(res.error()));
      seen_.acked.push_back(*acked);
    }
  }

  // The first `running` nodes started, one of them leading, and the patients registered.
  void start(Nodes& nodes, int running) {
    if (!std::filesystem::exists(nodes.dir(0))) {
      ASSERT_NO_FATAL_FAILURE(prepare_data_dirs(nodes));
    }
    for (int i = 0; i < running; ++i) {
      nodes.start(i);
      ASSERT_TRUE(nodes.server(i).ready()) << nodes.server(i).stderr_text();
    }
    const auto elected = Clock::now();
    while (nodes.leader() < 0 && ms_since(elected) < 10'000) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(nodes.leader(), 0) << "no leader elected";
    ASSERT_NO_FATAL_FAILURE(register_patients(nodes, running));
  }

  // Every acknowledged write, checked in parallel through the first `running` nodes.
  void check_acknowledged(Nodes& nodes, int running = kNodes) {
    std::mutex mu;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kCheckThreads; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client http(nodes.base(t % running));
        http.set_keep_alive(true);
        http.set_read_timeout(30);
        for (size_t i = static_cast<size_t>(t); i < seen_.acked.size(); i += kCheckThreads) {
          std::string why = check_acked_write(http, clinician_, vkey_, seen_.acked[i]);
          std::lock_guard<std::mutex> lock(mu);
          if (!why.empty()) failures.push_back(why);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
    EXPECT_TRUE(failures.empty()) << failures.size() << " of " << seen_.acked.size() << " acknowledged writes lost";
  }

  // No entry index and no record version acknowledged twice: two leaders never both committed.
  void check_unique() {
    std::set<uint64_t> indexes;
    std::set<std::string> versions;
    for (const AckedWrite& w : seen_.acked) {
      EXPECT_TRUE(indexes.insert(w.index).second) << "entry " << w.index << " acknowledged twice";
      EXPECT_TRUE(versions.insert(w.name()).second) << w.name() << " acknowledged twice";
    }
  }

  std::unique_ptr<StoreSpace> space_;
  TempDir dir_;
  httplib::Headers clinician_;
  note::VerifierKey vkey_;
  Observed seen_;
};

TEST_F(PgNodes, LeaderKilledUnderLoadLosesNothingAndNeverForks) {
  const int kills = env_int("MEDSEAL_PG_NODES_KILLS", kDefaultKills);
  Nodes nodes(dir_.path(), space_->location());
  ASSERT_NO_FATAL_FAILURE(start(nodes, kNodes));

  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back(run_client, std::ref(nodes), std::cref(clinician_), c,
                         static_cast<unsigned>(rng()), std::cref(stop), std::ref(seen_));
  }
  std::vector<double> failovers;
  const auto start = Clock::now();
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
    const int leader = nodes.leader();
    ASSERT_GE(leader, 0);
    failovers.push_back(nodes.kill_leader(leader));
    nodes.start(leader);  // back as a follower
    ASSERT_TRUE(nodes.server(leader).ready()) << nodes.server(leader).stderr_text();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // writes after the last failover
  stop = true;
  for (std::thread& t : clients) t.join();
  const double load_s = ms_since(start) / 1000;

  for (const std::string& e : seen_.errors) ADD_FAILURE() << e;
  EXPECT_GT(seen_.acked.size(), static_cast<size_t>(kills) * 10) << "too few writes acknowledged to mean much";
  check_unique();
  ASSERT_NO_FATAL_FAILURE(check_acknowledged(nodes));

  // Every node serves the whole log, and it verifies; the checkpoints they serve join the others.
  std::string why;
  for (int i = 0; i < kNodes; ++i) {
    const std::string note = verify_served_log(nodes.server(i).log_url(), vkey_, "", &why);
    EXPECT_FALSE(note.empty()) << "node " << i << ": " << why;
    seen_.checkpoints[checkpoint_size(note)].insert(note);
  }
  ProgramOutcome cli = run_medseal({"log", "verify", "--url", nodes.server(0).log_url(), "--vkey", nodes.dir(0) + "/log.vkey"});
  EXPECT_EQ(cli.status, 0) << cli.out << cli.err;
  for (const auto& [size, notes] : seen_.checkpoints) {
    EXPECT_EQ(notes.size(), 1u) << notes.size() << " different checkpoints of size " << size;
  }

  double worst = 0, sum = 0;
  for (double f : failovers) worst = std::max(worst, f), sum += f;
  EXPECT_LT(worst, 5'000) << "a failover took longer than 5 s";
  std::printf("[ pg nodes ] %d leader kills in %.1f s of load: %zu writes acknowledged and checked, "
              "%zu answers 503 or cut, %zu checkpoint sizes seen; failover mean %.0f ms, worst %.0f ms\n",
              kills, load_s, seen_.acked.size(), seen_.unavailable, seen_.checkpoints.size(),
              sum / std::max<size_t>(failovers.size(), 1), worst);
}

// Two nodes updating one record with the same If-Match at once: exactly one wins each version.
TEST_F(PgNodes, ConcurrentUpdatesThroughTwoNodesOneWinsEachVersion) {
  Nodes nodes(dir_.path(), space_->location());
  ASSERT_NO_FATAL_FAILURE(start(nodes, 2));
  const std::string id = "nodes-race";
  httplib::Client first(nodes.base(0));
  auto created = first.Put("/fhir/Observation/" + id, clinician_, observation(0, 0, id), "application/fhir+json");
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "no answer");
  for (int version = 1; version <= 20; ++version) {
    std::atomic<int> won{0}, refused{0};
    std::vector<std::thread> racers;
    for (int node = 0; node < 2; ++node) {
      racers.emplace_back([&, node] {
        httplib::Client http(nodes.base(node));
        httplib::Headers h = clinician_;
        h.emplace("If-Match", "W/\"" + std::to_string(version) + "\"");
        auto res = http.Put("/fhir/Observation/" + id, h, observation(node, version, id), "application/fhir+json");
        if (res && res->status == 200) ++won;
        if (res && res->status == 412) ++refused;
      });
    }
    for (std::thread& t : racers) t.join();
    EXPECT_EQ(won.load(), 1) << "version " << version;
    EXPECT_EQ(refused.load(), 1) << "version " << version;
  }
}

// A leader whose lock session ends while the process lives (a network cut to PostgreSQL, an
// administrator's pg_terminate_backend) must stop: its commits are fenced, and it exits so that a
// supervisor restarts it as a follower; the other node takes over and nothing acknowledged is lost.
TEST_F(PgNodes, LeaderThatLosesItsLockSessionExitsAndAnotherTakesOver) {
  Nodes nodes(dir_.path(), space_->location());
  ASSERT_NO_FATAL_FAILURE(start(nodes, 2));
  const int leader = nodes.leader(), follower = 1 - leader;
  {
    httplib::Client http(nodes.base(follower));
    auto res = http.Put("/fhir/Observation/nodes-cut", clinician_, observation(0, 0, "nodes-cut"), "application/fhir+json");
    auto acked = acked_write(res, "Observation");
    ASSERT_TRUE(acked) << (res ? res->body : httplib::to_string(res.error()));
    seen_.acked.push_back(*acked);
  }
  auto conn = storage::postgres::Conn::connect(space_->location());
  ASSERT_TRUE(conn) << conn.status().to_string();
  storage::postgres::Params p;
  auto ended = (*conn)->query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                              p.text("medseal-leader " + nodes.base(leader)), "end the leader's lock session");
  ASSERT_TRUE(ended) << ended.status().to_string();
  ASSERT_EQ(ended->integer(0, 0), 1);
  const auto cut = Clock::now();
  while (nodes.leader() != follower && ms_since(cut) < 10'000) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(nodes.leader(), follower) << "the other node did not take over";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the old leader checks its lock every 250 ms
  EXPECT_EQ(nodes.server(leader).stop(), 75) << "the deposed leader did not exit by itself";
  EXPECT_TRUE(nodes.server(leader).stderr_text().find("leadership lost") != std::string::npos);
  httplib::Client http(nodes.base(follower));
  auto res = http.Put("/fhir/Observation/nodes-cut", clinician_, observation(0, 1, "nodes-cut"), "application/fhir+json");
  auto acked = acked_write(res, "Observation");
  ASSERT_TRUE(acked) << (res ? res->body : httplib::to_string(res.error()));
  EXPECT_EQ(acked->version, 2u);
  seen_.acked.push_back(*acked);
  nodes.start(leader);  // back as a follower
  ASSERT_NO_FATAL_FAILURE(check_acknowledged(nodes, 2));
  std::string why;
  EXPECT_FALSE(verify_served_log(nodes.server(leader).log_url(), vkey_, "", &why).empty()) << why;
}

// Witnessing with several nodes: checkpoints the new leader signs after a failover are still
// cosigned by the witness, which checked that they extend the ones it cosigned before (it refuses
// any that does not, and holds one size and root per log), and every node serves them.
TEST_F(PgNodes, AfterAFailoverTheNewLeadersCheckpointsAreCosignedAndExtendTheOldOnes) {
  Nodes bare(dir_.path(), space_->location());
  ASSERT_NO_FATAL_FAILURE(prepare_data_dirs(bare));
  FakeWitness witness("witness.example/nodes", vkey_);
  const note::VerifierKey witness_key = witness.vkey();
  Nodes nodes(dir_.path(), space_->location(),
              {"--witness", witness.url() + "=" + note::format_verifier_key(witness_key)});
  ASSERT_NO_FATAL_FAILURE(start(nodes, 2));
  // The newest cosigned checkpoint node i serves, once it has at least `size` entries.
  auto cosigned_at_least = [&](int i, uint64_t size) -> std::optional<witness::CosignedCheckpoint> {
    std::optional<witness::CosignedCheckpoint> found;
    eventually([&] {
      httplib::Client http(nodes.base(i));
      auto res = http.Get("/log/checkpoint");
      if (!res || res->status != 200) return false;
      auto opened = witness::open_cosigned(res->body, vkey_, std::span(&witness_key, 1), 1);
      if (opened && opened->checkpoint.size >= size) found = *opened;
      return found.has_value();
    }, std::chrono::seconds(20));
    return found;
  };
  const int first = nodes.leader(), second = 1 - first;
  const uint64_t before = seen_.acked.back().index + 1;
  auto old_cosigned = cosigned_at_least(first, before);
  ASSERT_TRUE(old_cosigned) << "the first leader's checkpoints were not cosigned";
  ASSERT_TRUE(cosigned_at_least(second, before)) << "the follower does not serve the cosigned checkpoint";

  nodes.kill_leader(first);
  ASSERT_EQ(nodes.leader(), second);
  httplib::Client http(nodes.base(second));
  for (int n = 0; n < 5; ++n) {
    auto res = http.Post("/fhir/Observation", clinician_, observation(0, n, ""), "application/fhir+json");
    auto acked = acked_write(res, "Observation");
    ASSERT_TRUE(acked) << (res ? res->body : httplib::to_string(res.error()));
    seen_.acked.push_back(*acked);
  }
  const uint64_t after = seen_.acked.back().index + 1;
  auto new_cosigned = cosigned_at_least(second, after);
  ASSERT_TRUE(new_cosigned) << "the new leader's checkpoints were not cosigned";
  EXPECT_GT(new_cosigned->checkpoint.size, old_cosigned->checkpoint.size);
  // The witness cosigned the new size only after verifying a consistency proof from an old one.
  bool extended = false;
  for (const FakeWitness::Call& call : witness.calls()) {
    EXPECT_NE(call.status, 422) << "a checkpoint that does not extend the witnessed one";
    EXPECT_NE(call.status, 403);
    extended |= call.status == 200 && call.size >= after && call.old_size >= before && call.proof_verified;
  }
  EXPECT_TRUE(extended) << "no cosignature after the failover extended the old checkpoints";
  EXPECT_GE(witness.size(), after);
  nodes.start(first);  // back as a follower: it serves the new cosigned checkpoint too
  ASSERT_TRUE(nodes.server(first).ready()) << nodes.server(first).stderr_text();
  EXPECT_TRUE(cosigned_at_least(first, after));
  ProgramOutcome cli = run_medseal({"log", "verify", "--url", nodes.server(first).log_url(), "--vkey",
                                    nodes.dir(0) + "/log.vkey"});
  EXPECT_EQ(cli.status, 0) << cli.out << cli.err;
}

// HTTP writes per second with every client on the leader, then spread over all three nodes (a
// figure for the README, not a timed test: it fails only if writes fail).
TEST_F(PgNodes, WritesPerSecondThroughTheLeaderAndThroughAllNodes) {
  constexpr int kWriters = 24;
  const auto seconds = std::chrono::seconds(env_int("MEDSEAL_PG_NODES_BENCH_S", 3));
  Nodes nodes(dir_.path(), space_->location());
  ASSERT_NO_FATAL_FAILURE(start(nodes, kNodes));
  auto run = [&](bool spread) {
    std::atomic<size_t> written{0}, failed{0};
    std::vector<std::thread> writers;
    const int leader = nodes.leader();
    const auto start = Clock::now();
    for (int c = 0; c < kWriters; ++c) {
      writers.emplace_back([&, c] {
        httplib::Client http(nodes.base(spread ? c % kNodes : leader));
        http.set_keep_alive(true);
        http.set_tcp_nodelay(true);
        for (int n = 0; Clock::now() - start < seconds; ++n) {
          auto res = http.Post("/fhir/Observation", clinician_, observation(c, n, ""), "application/fhir+json");
          ++(res && res->status == 201 ? written : failed);
        }
      });
    }
    for (std::thread& t : writers) t.join();
    EXPECT_EQ(failed.load(), 0u);
    EXPECT_GT(written.load(), 0u);
    return static_cast<double>(written.load()) * 1000 / ms_since(start);
  };
  const double leader_only = run(false), spread = run(true);
  std::printf("[ pg nodes ] %d keep-alive writers, POST Observation: %.0f writes/s all on the leader, "
              "%.0f writes/s spread over %d nodes\n", kWriters, leader_only, spread, kNodes);
}

}  // namespace
}  // namespace medseal::testing
