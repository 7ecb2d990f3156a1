// HTTP writes on PostgreSQL (issue 7 section 5): FHIR Patient creates from keep-alive clients
// (bench/load_gen.h, spread evenly over the nodes) through 1, 2 and 3 real `medseal serve --store
// postgresql://...` processes of the built program sharing one fresh schema, against plain
// PostgreSQL inserts of the same rows from as many connections, in the same run and with the same
// durability (synchronous_commit on, one transaction per write).
//
// Besides writes per second, each run records where the work went, per write: CPU seconds of the
// leader process, of the followers and of the PostgreSQL processes (/proc/PID/stat, summed over
// the run), the leader's busiest thread (its sequencer) and how busy it was, WAL bytes
// (pg_current_wal_lsn) and WAL fsyncs (pg_stat_wal). On a machine where everything shares the
// same cores these say more than the rates; the ceilings (writes per second per core of each) are
// their inverses. Runs on MEDSEAL_BENCH_PG (see pg_support.h); `make bench` starts a cluster with
// fsync on for it. MEDSEAL_BENCH_PG_SECONDS sets each run's length (default 4);
// MEDSEAL_BENCH_PG_PROCESSES=1 prints every PostgreSQL process's CPU with what it last ran.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <csignal>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "ledger/entry.h"
#include "load_gen.h"
#include "pg_support.h"
#include "server/fhir_api.h"
#include "storage/postgres/leadership.h"
#include "support/acked_writes.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::bench {
namespace {

using Clock = std::chrono::steady_clock;
using storage::postgres::Conn;
using storage::postgres::Params;

std::chrono::milliseconds run_time() {
  return std::chrono::milliseconds(1000 * testing::env_int("MEDSEAL_BENCH_PG_SECONDS", 4));
}

// `nodes` medseal servers on one schema, sharing one log key and token store (one data directory
// made once and copied, as the README's three-node example does).
class Nodes {
 public:
  Nodes(const std::string& store_url, int nodes, int clients) {
    const std::string first = dir(0);
    std::filesystem::create_directory(first);
    std::filesystem::permissions(first, std::filesystem::perms::owner_all);
    auto key = testing::run_medseal({"keygen", "--out", first, "--origin", "bench.example/medseal"});
    if (key.status != 0) die(Status::io("keygen: " + key.err));
    clinician_ = testing::issue_bearer(first, "clinician", "dr.bench@bench-hospital");
    for (int i = 1; i < nodes; ++i) {
      std::filesystem::copy(first, dir(i), std::filesystem::copy_options::recursive);
    }
    // A thread per connection: the node's own clients and, at the leader, the followers' forwards,
    // all from 127.0.0.1 (so the per-address connection limit must admit them all too).
    const std::string connections = std::to_string(clients + 32);
    for (int i = 0; i < nodes; ++i) {
      servers_.push_back(std::make_unique<testing::Server>(
          dir(i), std::vector<std::string>{"--store", store_url, "--threads", connections,
                                           "--max-connections-per-client", connections}));
      if (!servers_.back()->ready()) die(Status::io("node did not start: " + servers_.back()->stderr_text()));
    }
    leader_ = find_leader(store_url);
  }

  const httplib::Headers& clinician() const { return clinician_; }
  std::vector<Target> targets() const {
    std::vector<Target> t;
    for (const auto& s : servers_) t.push_back({"127.0.0.1", std::stoi(s->base().substr(s->base().rfind(':') + 1))});
    return t;
  }
  pid_t leader_pid() const { return servers_[size_t(leader_)]->pid(); }
  std::vector<pid_t> follower_pids() const {
    std::vector<pid_t> pids;
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (int(i) != leader_) pids.push_back(servers_[i]->pid());
    }
    return pids;
  }

 private:
  std::string dir(int i) const { return (scratch_.path / ("node" + std::to_string(i))).string(); }

  int find_leader(const std::string& store_url) const {
    auto db = pg_connect(store_url);
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      if (auto address = storage::postgres::find_leader_address(*db)) {
        for (size_t i = 0; i < servers_.size(); ++i) {
          if (servers_[i]->base() == *address) return int(i);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    die(Status::io("no node leads"));
  }

  ScratchDir scratch_;
  httplib::Headers clinician_;
  std::vector<std::unique_ptr<testing::Server>> servers_;
  int leader_ = 0;
};

// CPU ticks of the node processes and the leader's threads.
struct NodeTicks {
  int64_t leader = 0, followers = 0;
  std::map<pid_t, int64_t> leader_threads;
};
NodeTicks node_ticks(const Nodes& nodes) {
  NodeTicks t;
  t.leader = cpu_ticks(nodes.leader_pid());
  for (pid_t p : nodes.follower_pids()) t.followers += cpu_ticks(p);
  t.leader_threads = thread_ticks(nodes.leader_pid());
  return t;
}

// The busiest thread's ticks between two snapshots.
int64_t busiest_thread(const std::map<pid_t, int64_t>& before, const std::map<pid_t, int64_t>& after) {
  int64_t most = 0;
  for (const auto& [tid, t] : after) {
    auto was = before.find(tid);
    most = std::max(most, t - (was == before.end() ? 0 : was->second));
  }
  return most;
}

// The PostgreSQL figures per write, with the ceiling they imply.
void report_pg_usage(benchmark::State& state, const PgUsage& pg, double writes, double seconds) {
  state.counters["wal_bytes"] = pg.wal_bytes / writes;
  state.counters["writes_per_fsync"] = pg.wal_syncs > 0 ? writes / pg.wal_syncs : 0;
  if (pg.cpu_seconds >= 0) {
    state.counters["pg_cpu_us"] = pg.cpu_seconds * 1e6 / writes;
    state.counters["pg_writes_per_core"] = pg.cpu_seconds > 0 ? writes / pg.cpu_seconds : 0;
    // One process doing most of the work is a wall no number of cores moves: what it could do.
    state.counters["pg_busiest_busy"] = pg.busiest_cpu_seconds / seconds;
    state.counters["pg_busiest_ceiling"] = pg.busiest_cpu_seconds > 0 ? writes / pg.busiest_cpu_seconds : 0;
  }
}

void BM_PgHttpCreate(benchmark::State& state) {
  if (std::string why = pg_not_run_reason(); !why.empty()) return state.SkipWithError(why.c_str());
  // A node that closes a keep-alive connection must cost a failed request, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  const int node_count = int(state.range(0));
  const size_t clients = size_t(state.range(1));
  PgSchema schema;
  Nodes nodes(schema.url, node_count, int(clients));
  const std::string request =
      fhir_request("POST", "/fhir/Patient", nodes.clinician().find("Authorization")->second, kPatient);
  std::atomic<int> first_other{0};
  for (auto _ : state) {
    const PgSnapshot pg_start = pg_before(schema.admin_url);
    const NodeTicks start = node_ticks(nodes);
    const double clients_start = own_cpu_seconds();
    LoadResult r = run_load(nodes.targets(), clients, run_time(), [&](size_t, size_t) { return request; },
                            [&](const Answer& answer) {
                              if (answer.status == 201 && answer.has_header(server::fhir::kLedgerIndexHeader)) return true;
                              int none = 0;
                              first_other.compare_exchange_strong(none, answer.status);
                              return false;
                            });
    const NodeTicks end = node_ticks(nodes);
    const double clients_cpu = own_cpu_seconds() - clients_start;
    const PgUsage pg = pg_usage(pg_start, pg_after(schema.admin_url));
    state.SetIterationTime(r.seconds);
    state.SetItemsProcessed(int64_t(r.requests));
    const double writes = double(std::max<size_t>(r.requests, 1));
    const double seq = ticks_to_seconds(busiest_thread(start.leader_threads, end.leader_threads));
    state.counters["p99_ms"] = r.p99_ms;
    state.counters["failures"] = double(r.failures);
    state.counters["leader_cpu_us"] = ticks_to_seconds(end.leader - start.leader) * 1e6 / writes;
    state.counters["followers_cpu_us"] = ticks_to_seconds(end.followers - start.followers) * 1e6 / writes;
    state.counters["clients_cpu_us"] = clients_cpu * 1e6 / writes;
    state.counters["seq_cpu_us"] = seq * 1e6 / writes;
    state.counters["seq_busy"] = seq / r.seconds;
    state.counters["seq_ceiling"] = seq > 0 ? writes / seq : 0;
    state.counters["leader_writes_per_core"] =
        end.leader > start.leader ? writes / ticks_to_seconds(end.leader - start.leader) : 0;
    // How many of the machine's cores this workload kept busy, all its processes together.
    state.counters["cores_used"] = (clients_cpu + ticks_to_seconds(end.leader - start.leader) +
                                    ticks_to_seconds(end.followers - start.followers) +
                                    std::max(pg.cpu_seconds, 0.0)) / r.seconds;
    report_pg_usage(state, pg, writes, r.seconds);
    if (r.failures > 0) {
      state.SkipWithError((std::to_string(r.failures) + " creates failed, the first with status " +
                           std::to_string(first_other.load()))
                              .c_str());
    }
  }
}
BENCHMARK(BM_PgHttpCreate)
    ->ArgNames({"nodes", "clients"})
    ->Args({1, 64})->Args({2, 64})->Args({3, 64})
    ->Args({1, 16})->Args({3, 16})->Args({1, 256})->Args({3, 256})
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// What the medseal store keeps for one create, as plain rows: the resource as stored (the body
// with an id and meta added) and a ledger entry (entry, salt, statement).
struct PlainRows {
  std::string resource, entry, salt, statement;
  PlainRows()
      : entry(ledger::kEntrySize, 'e'), salt(ledger::kSaltSize, 's'), statement(pg_statement(0)) {
    resource = std::string(kPatient);
    resource.insert(resource.find(',') + 1,
                    R"("id":"0123456789abcdef0123456789abcdef","meta":{"versionId":"1",)"
                    R"("lastUpdated":"2026-11-27T19:00:00.000Z"},)");
  }
};

// `connections` sessions, each inserting one create's rows per transaction, as fast as they can.
void BM_PgPlainInsert(benchmark::State& state) {
  if (std::string why = pg_not_run_reason(); !why.empty()) return state.SkipWithError(why.c_str());
  const size_t connections = size_t(state.range(0));
  PgSchema schema;
  pg_exec(*pg_connect(schema.url),
          "CREATE TABLE resources (type TEXT, id TEXT, version BIGINT, bytes BYTEA, "
          "PRIMARY KEY (type, id, version)); "
          "CREATE TABLE entries (idx BIGINT PRIMARY KEY, entry BYTEA, salt BYTEA, statement BYTEA)");
  std::vector<std::unique_ptr<Conn>> sessions;
  for (size_t i = 0; i < connections; ++i) sessions.push_back(pg_connect(schema.url));
  const PlainRows rows;
  for (auto _ : state) {
    std::atomic<int64_t> next{0};
    std::atomic<bool> stop{false};
    const PgSnapshot pg_start = pg_before(schema.admin_url);
    const double clients_start = own_cpu_seconds();
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (auto& session : sessions) {
      threads.emplace_back([&, db = session.get()] {
        while (!stop.load(std::memory_order_relaxed)) {
          const int64_t n = next++;
          Params resource, entry;
          resource.text("Patient").text(std::to_string(n)).i64(1).bytea(rows.resource);
          entry.i64(n).bytea(rows.entry).bytea(rows.salt).bytea(rows.statement);
          if (Status s = db->exec("BEGIN", "begin"); !s) die(s);
          if (Status s = db->run("INSERT INTO resources VALUES ($1, $2, $3, $4)", resource, "insert"); !s) die(s);
          if (Status s = db->run("INSERT INTO entries VALUES ($1, $2, $3, $4)", entry, "insert"); !s) die(s);
          if (Status s = db->exec("COMMIT", "commit"); !s) die(s);
        }
      });
    }
    std::this_thread::sleep_for(run_time());
    stop = true;
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double clients_cpu = own_cpu_seconds() - clients_start;
    const PgUsage pg = pg_usage(pg_start, pg_after(schema.admin_url));
    const double writes = double(std::max<int64_t>(next.load(), 1));
    state.SetIterationTime(seconds);
    state.SetItemsProcessed(next.load());
    state.counters["clients_cpu_us"] = clients_cpu * 1e6 / writes;
    state.counters["cores_used"] = (clients_cpu + std::max(pg.cpu_seconds, 0.0)) / seconds;
    report_pg_usage(state, pg, writes, seconds);
  }
  sessions.clear();
}
BENCHMARK(BM_PgPlainInsert)
    ->ArgNames({"connections"})
    ->Arg(64)->Arg(16)->Arg(256)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace medseal::bench
