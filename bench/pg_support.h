// What the PostgreSQL benchmarks share: the server they run on (MEDSEAL_BENCH_PG, a libpq URL;
// `make bench` starts a throwaway one), a fresh schema per run, and the CPU time of processes
// read from /proc (the benchmark's clients, medseal nodes and PostgreSQL share one machine, so
// CPU seconds per write say more than wall-clock rates).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/pg_conn.h"

namespace medseal::bench {

// Why the PostgreSQL benchmarks do not run here, for SkipWithError (MEDSEAL_BENCH_PG_NOT_RUN if
// set, else that MEDSEAL_BENCH_PG is not); "" when they can.
std::string pg_not_run_reason();

// ~100 bytes of access statement numbered `n`, as ledger_bench's.
std::string pg_statement(uint64_t n);

// A schema of its own on the benchmark server, dropped with the object; empty url: none
// (MEDSEAL_BENCH_PG unset).
struct PgSchema {
  std::string admin_url, url, name;
  PgSchema();
  ~PgSchema();
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
};

// A session on `url`, or abort.
std::unique_ptr<storage::postgres::Conn> pg_connect(const std::string& url);
// Runs `sql` on `db`, or aborts.
void pg_exec(storage::postgres::Conn& db, const std::string& sql);
// The first column of the first row of `sql` as an integer (a count, an LSN difference).
int64_t pg_integer(storage::postgres::Conn& db, const std::string& sql);

// Every thread of `pid` with its CPU ticks.
std::map<pid_t, int64_t> thread_ticks(pid_t pid);

// The server-side resources of the PostgreSQL cluster while a workload runs: CPU of every process
// pg_stat_activity lists (backends and background processes alike, if they are local processes
// named "postgres"), WAL bytes (pg_current_wal_lsn) and WAL syncs (pg_stat_wal, whose counters a
// backend publishes up to a second after its work: both snapshots wait for that).
struct PgSnapshot {
  std::map<pid_t, int64_t> ticks;
  std::map<pid_t, std::string> roles;  // backend_type, and the query it ran last
  int64_t wal_lsn = 0, wal_syncs = 0;
};
// Right before a workload: waits until earlier work is published, then reads everything.
PgSnapshot pg_before(const std::string& admin_url);
// Right after it: CPU and WAL position at once, the syncs once published.
PgSnapshot pg_after(const std::string& admin_url);

struct PgUsage {
  double cpu_seconds = -1;  // < 0: the cluster's processes are not local
  double busiest_cpu_seconds = 0;  // the one process that used most (a single-threaded ceiling)
  std::string busiest_role;
  double wal_bytes = 0, wal_syncs = 0;
};
PgUsage pg_usage(const PgSnapshot& before, const PgSnapshot& after);

}  // namespace medseal::bench
