// PostgreSQL benchmarks (issue 7 section 5): durable ledger appends on the PostgreSQL store against
// plain PostgreSQL inserts of the same rows into one table, same server, same run, same
// durability (synchronous_commit on, one transaction per 4096 entries). The server is the one
// MEDSEAL_BENCH_PG names (a libpq URL; a fresh schema is made for each run and dropped after);
// without it both are skipped. `make bench` starts a throwaway cluster with fsync on for them (for
// figures that mean anything the server must run with fsync on).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bench_support.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "pg_support.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"

namespace medseal::bench {
namespace {

using storage::postgres::Conn;
using storage::postgres::Params;

constexpr size_t kPgBatch = 4096;

// The same rows the ledger stores per entry (leaf, salt, statement), one INSERT each.
void BM_PostgresBaselineInsert(benchmark::State& state) {
  if (std::string why = pg_not_run_reason(); !why.empty()) return state.SkipWithError(why.c_str());
  PgSchema schema;
  auto connection = pg_connect(schema.url);
  Conn& db = *connection;
  if (Status s = db.exec("CREATE TABLE entries (idx BIGINT PRIMARY KEY, entry BYTEA, salt BYTEA, "
                         "statement BYTEA)", "create");
      !s) {
    die(s);
  }
  const std::string entry(ledger::kEntrySize, 'e'), salt(ledger::kSaltSize, 's');
  int64_t index = 0;
  for (auto _ : state) {
    if (Status s = db.exec("BEGIN", "begin"); !s) die(s);
    for (size_t i = 0; i < kPgBatch; ++i, ++index) {
      Params p;
      p.i64(index).bytea(entry).bytea(salt).bytea(pg_statement(uint64_t(index)));
      if (Status s = db.run("INSERT INTO entries VALUES ($1, $2, $3, $4)", p, "insert"); !s) die(s);
    }
    if (Status s = db.exec("COMMIT", "commit"); !s) die(s);
  }
  state.SetItemsProcessed(index);
}
BENCHMARK(BM_PostgresBaselineInsert)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

void BM_LedgerAppendPostgres(benchmark::State& state) {
  if (std::string why = pg_not_run_reason(); !why.empty()) return state.SkipWithError(why.c_str());
  PgSchema schema;
  auto store = storage::open_postgres_store(schema.url);
  if (!store) die(store.status());
  ledger::LedgerOptions options;
  options.batch_window = std::chrono::microseconds(200);
  options.max_batch_entries = kPgBatch;
  auto l = ledger::Ledger::open(**store, bench_key(), options);
  if (!l) die(l.status());
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<ledger::AppendRequest> batch(kPgBatch);
    for (auto& r : batch) r = {ledger::EntryKind::kAccess, pg_statement(n++), 0};
    state.ResumeTiming();
    if (Result<uint64_t> first = (*l)->append_all(std::move(batch)); !first) die(first.status());
  }
  state.SetItemsProcessed(int64_t(n));
  l->reset();
}
BENCHMARK(BM_LedgerAppendPostgres)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

}  // namespace
}  // namespace medseal::bench
