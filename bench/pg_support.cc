#include "pg_support.h"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "bench_support.h"

namespace medseal::bench {

using storage::postgres::Conn;
using storage::postgres::Params;

namespace {

const char* bench_pg_url() {
  const char* env = std::getenv("MEDSEAL_BENCH_PG");
  return env != nullptr && *env != '\0' ? env : nullptr;
}

// Every process PostgreSQL lists, with its CPU ticks if it is a local "postgres" process.
void read_pg_processes(Conn& db, PgSnapshot& s) {
  auto rows = db.query("SELECT pid::bigint, backend_type || ': ' || left(query, 50) "
                       "FROM pg_stat_activity", Params{}, "list backends");
  if (!rows) die(rows.status());
  for (int r = 0; r < rows->count(); ++r) {
    const pid_t pid = pid_t(rows->integer(r, 0));
    const int64_t t = stat_ticks("/proc/" + std::to_string(pid) + "/stat", "postgres");
    if (t < 0) continue;
    s.ticks[pid] = t;
    s.roles[pid] = rows->bytes(r, 1);
  }
}

void wait_for_published_stats() { std::this_thread::sleep_for(std::chrono::milliseconds(1200)); }

}  // namespace

std::string pg_not_run_reason() {
  if (bench_pg_url() != nullptr) return "";
  // `make bench` says why it started no cluster.
  const char* why = std::getenv("MEDSEAL_BENCH_PG_NOT_RUN");
  return why != nullptr && *why != '\0' ? why : "MEDSEAL_BENCH_PG is not set";
}

std::string pg_statement(uint64_t n) {
  std::string s = R"({"op":"read","resource":"Patient/)" + std::to_string(n) +
                  R"(/_history/1","actor":"Practitioner/42","purpose":"TREAT"})";
  s.resize(100, ' ');
  return s;
}

PgSchema::PgSchema() {
  const char* env = bench_pg_url();
  if (env == nullptr) return;
  admin_url = env;
  name = "bench" + std::to_string(getpid());
  url = admin_url + (admin_url.find('?') == std::string::npos ? "?" : "&") +
        "options=-csearch_path%3D" + name;
  pg_exec(*pg_connect(admin_url), "DROP SCHEMA IF EXISTS " + name + " CASCADE; CREATE SCHEMA " + name);
}

PgSchema::~PgSchema() {
  if (!name.empty()) pg_exec(*pg_connect(admin_url), "DROP SCHEMA " + name + " CASCADE");
}

std::unique_ptr<Conn> pg_connect(const std::string& url) {
  auto c = Conn::connect(url);
  if (!c) die(c.status());
  return std::move(*c);
}

void pg_exec(Conn& db, const std::string& sql) {
  if (Status s = db.exec(sql.c_str(), "bench setup"); !s) die(s);
}

int64_t pg_integer(Conn& db, const std::string& sql) {
  auto rows = db.query(sql.c_str(), Params{}, "bench figure");
  if (!rows) die(rows.status());
  return rows->integer(0, 0);
}

std::map<pid_t, int64_t> thread_ticks(pid_t pid) {
  std::map<pid_t, int64_t> ticks;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(task.c_str());
  if (dir == nullptr) return ticks;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const int64_t t = stat_ticks(task + "/" + e->d_name + "/stat");
    if (t >= 0) ticks[pid_t(std::atoi(e->d_name))] = t;
  }
  closedir(dir);
  return ticks;
}

constexpr char kWalLsn[] = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";
constexpr char kWalSyncs[] = "SELECT wal_sync FROM pg_stat_wal";

PgSnapshot pg_before(const std::string& admin_url) {
  auto db = pg_connect(admin_url);
  wait_for_published_stats();
  PgSnapshot s;
  s.wal_syncs = pg_integer(*db, kWalSyncs);
  s.wal_lsn = pg_integer(*db, kWalLsn);
  read_pg_processes(*db, s);
  return s;
}

PgSnapshot pg_after(const std::string& admin_url) {
  auto db = pg_connect(admin_url);
  PgSnapshot s;
  read_pg_processes(*db, s);
  s.wal_lsn = pg_integer(*db, kWalLsn);
  wait_for_published_stats();
  s.wal_syncs = pg_integer(*db, kWalSyncs);
  return s;
}

PgUsage pg_usage(const PgSnapshot& before, const PgSnapshot& after) {
  PgUsage u;
  u.wal_bytes = double(after.wal_lsn - before.wal_lsn);
  u.wal_syncs = double(after.wal_syncs - before.wal_syncs);
  if (after.ticks.empty()) return u;
  int64_t ticks = 0, most = -1;
  for (const auto& [pid, t] : after.ticks) {
    auto was = before.ticks.find(pid);  // a process started meanwhile counts whole
    const int64_t used = t - (was == before.ticks.end() ? 0 : was->second);
    ticks += used;
    if (used > most) most = used, u.busiest_role = after.roles.at(pid);
    if (std::getenv("MEDSEAL_BENCH_PG_PROCESSES") != nullptr) {
      std::fprintf(stderr, "  pg pid %d: %.2f s CPU, %s\n", int(pid), ticks_to_seconds(used),
                   after.roles.at(pid).c_str());
    }
  }
  u.cpu_seconds = ticks_to_seconds(ticks);
  u.busiest_cpu_seconds = ticks_to_seconds(std::max<int64_t>(most, 0));
  return u;
}

}  // namespace medseal::bench
