// Ledger benchmarks (DESIGN.md 8): durable appends against plain SQLite inserts of the same bytes,
// inclusion proofs from storage at 10^6 and 10^7 entries, receipt verification, and the bytes of
// storage each entry costs. No main(): the project's bench main prints the summary table.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_support.h"
#include "crypto/random.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "ledger/receipt.h"
#include "ledger/store_tiles.h"
#include "merkle/hash.h"
#include "merkle/proof.h"
#include "merkle/tile.h"
#include "note/keys.h"
#include "storage/sqlite/sqlite_store.h"

namespace medseal::bench {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBatch = 4096;

// A statement of about 100 bytes, the size the record layer writes for an access.
std::string statement(uint64_t n) {
  std::string s = R"({"op":"read","resource":"Patient/)" + std::to_string(n) +
                  R"(/_history/1","actor":"Practitioner/42","purpose":"TREAT"})";
  s.resize(100, ' ');
  return s;
}

// --- baseline: plain SQLite, same bytes, same durability
// ------------------------------------------

void BM_SqliteBaselineInsert(benchmark::State& state) {
  ScratchDir dir;
  sqlite3* db = nullptr;
  sqlite3_open((dir.path / "baseline.db").c_str(), &db);
  exec(db,
       "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
       "CREATE TABLE entries (idx INTEGER PRIMARY KEY, entry BLOB, salt BLOB, statement BLOB)");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO entries VALUES (?, ?, ?, ?)", -1, &insert, nullptr);
  const std::string entry(ledger::kEntrySize, 'e'), salt(ledger::kSaltSize, 's');
  int64_t index = 0;
  for (auto _ : state) {
    exec(db, "BEGIN");
    for (size_t i = 0; i < kBatch; ++i, ++index) {
      const std::string s = statement(uint64_t(index));
      sqlite3_bind_int64(insert, 1, index);
      sqlite3_bind_blob(insert, 2, entry.data(), int(entry.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert, 3, salt.data(), int(salt.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert, 4, s.data(), int(s.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) die(Status::io(sqlite3_errmsg(db)));
      sqlite3_reset(insert);
    }
    exec(db, "COMMIT");
  }
  state.SetItemsProcessed(index);
  state.counters["bytes_per_entry"] = double(file_bytes(dir.path / "baseline.db")) / double(index);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}
BENCHMARK(BM_SqliteBaselineInsert)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- durable appends
// ------------------------------------------------------------------------------

// One ledger shared by the benchmark's threads (set up once per run).
struct AppendFixture {
  ScratchDir dir;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
};
AppendFixture* g_append = nullptr;

void append_setup(const benchmark::State&) {
  g_append = new AppendFixture;
  auto store = storage::open_sqlite_store((g_append->dir.path / "ledger.db").string());
  if (!store) die(store.status());
  g_append->store = std::move(*store);
  ledger::LedgerOptions options;
  options.batch_window = std::chrono::microseconds(200);
  options.max_batch_entries = kBatch;
  auto l = ledger::Ledger::open(*g_append->store, bench_key(), options);
  if (!l) die(l.status());
  g_append->ledger = std::move(*l);
}

void append_teardown(const benchmark::State&) {
  delete g_append;
  g_append = nullptr;
}

void BM_LedgerAppendDurable(benchmark::State& state) {
  std::vector<ledger::AppendRequest> batch(kBatch);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& r : batch) r = {ledger::EntryKind::kAccess, statement(n++), 0};
    state.ResumeTiming();
    Result<uint64_t> first = g_append->ledger->append_all(std::move(batch));
    if (!first) die(first.status());
    batch.resize(kBatch);
  }
  state.SetItemsProcessed(int64_t(n));
  if (state.thread_index() == 0) {
    const uint64_t size = g_append->ledger->head().size;
    state.counters["bytes_per_entry"] =
        double(file_bytes(g_append->dir.path / "ledger.db")) / double(size);
  }
}
BENCHMARK(BM_LedgerAppendDurable)
    ->Setup(append_setup)
    ->Teardown(append_teardown)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);

// Pages in use (not the file's preallocated growth chunk) after a clean close, in bytes.
uint64_t used_bytes(const fs::path& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  uint64_t pages = 0, free_pages = 0, page_size = 0;
  for (auto [sql, out] : {std::pair{"PRAGMA page_count", &pages},
                          std::pair{"PRAGMA freelist_count", &free_pages},
                          std::pair{"PRAGMA page_size", &page_size}}) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (sqlite3_step(stmt) == SQLITE_ROW) *out = uint64_t(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return (pages - free_pages) * page_size;
}

// Bytes of storage per entry with ~100-byte statements, after a clean close (the WAL folded in):
// bytes_per_entry counts the database pages in use, file_bytes_per_entry the whole file with its
// preallocated growth chunk (at most 8 MiB). BM_LedgerAppendDurable's counter is taken mid-run
// and also counts WAL frames not yet checkpointed.
void BM_LedgerStoragePerEntry(benchmark::State& state) {
  constexpr uint64_t kEntries = 64 * kBatch;
  ScratchDir dir;
  const fs::path path = dir.path / "ledger.db";
  for (auto _ : state) {
    auto store = storage::open_sqlite_store(path.string());
    if (!store) die(store.status());
    auto l = ledger::Ledger::open(**store, bench_key());
    if (!l) die(l.status());
    for (uint64_t n = 0; n < kEntries;) {
      std::vector<ledger::AppendRequest> batch(kBatch);
      for (auto& r : batch) r = {ledger::EntryKind::kAccess, statement(n++), 0};
      if (auto first = (*l)->append_all(std::move(batch)); !first) die(first.status());
    }
  }
  state.counters["bytes_per_entry"] = double(used_bytes(path)) / double(kEntries);
  state.counters["file_bytes_per_entry"] = double(file_bytes(path)) / double(kEntries);
}
BENCHMARK(BM_LedgerStoragePerEntry)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- proofs from storage at 10^6 and 10^7 entries
// -------------------------------------------------

// Where a big log is cached between runs: beside the benchmark program, or $MEDSEAL_BENCH_DIR.
fs::path cache_dir() {
  if (const char* d = std::getenv("MEDSEAL_BENCH_DIR")) return d;
  return fs::read_symlink("/proc/self/exe").parent_path();
}

struct BigLog {
  fs::path path;
  std::unique_ptr<storage::Store> store;
  storage::LogHead head;
};

// Appends up to `size` entries in large batches (short statements: proofs do not read them).
void fill(ledger::Ledger& l, uint64_t size) {
  constexpr uint64_t kBuild = 1 << 16;
  for (uint64_t have = l.head().size; have < size;) {
    const uint64_t n = std::min(kBuild, size - have);
    std::vector<ledger::AppendRequest> batch(n);
    for (uint64_t i = 0; i < n; ++i)
      batch[i] = {ledger::EntryKind::kAccess, std::to_string(have + i), 0};
    auto first = l.append_all(std::move(batch));
    if (!first) die(first.status());
    have += n;
  }
}

// Opens the cached log of exactly `size` entries, building (or rebuilding) it if needed.
BigLog& big_log(uint64_t size) {
  static std::map<uint64_t, BigLog> logs;
  auto it = logs.find(size);
  if (it != logs.end()) return it->second;
  BigLog& log = logs[size];
  log.path = cache_dir() / ("ledger_bench_" + std::to_string(size) + ".db");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto store = storage::open_sqlite_store(log.path.string());
    if (store) {
      ledger::LedgerOptions options;
      options.max_batch_entries = 1 << 16;
      auto l = ledger::Ledger::open(**store, bench_key(), options);
      if (l && (*l)->head().size <= size) {
        fill(**l, size);
        log.head = (*l)->head();
        l->reset();
        log.store = std::move(*store);
        return log;
      }
      store->reset();
    }
    // A stale file (another schema, another key, a larger log): start over.
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(log.path.string() + suffix);
  }
  die(Status::internal("cannot build " + log.path.string()));
  std::abort();
}

void BM_InclusionProofFromStore(benchmark::State& state) {
  BigLog& log = big_log(uint64_t(state.range(0)));
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    ledger::StoreNodeReader nodes(*log.store, log.head.size);
    auto proof = merkle::inclusion_proof(rng() % log.head.size, log.head.size, nodes);
    if (!proof) die(proof.status());
    benchmark::DoNotOptimize(proof->data());
  }
  state.counters["bytes_per_entry"] = double(file_bytes(log.path)) / double(log.head.size);
}
BENCHMARK(BM_InclusionProofFromStore)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

// The whole receipt: proof, entry bundle, extras, tlog-proof text.
void BM_ReceiptFromStore(benchmark::State& state) {
  BigLog& log = big_log(uint64_t(state.range(0)));
  std::mt19937_64 rng(8);
  for (auto _ : state) {
    auto r = ledger::build_receipt(*log.store, log.head, rng() % log.head.size);
    if (!r) die(r.status());
    benchmark::DoNotOptimize(r->data());
  }
}
BENCHMARK(BM_ReceiptFromStore)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);

// Verifying the inclusion proof alone (the < 10 µs target), at 10^7 entries. (Not named
// BM_VerifyInclusion: bench/merkle_bench.cc has that one, at 2^20 leaves.)
void BM_VerifyInclusion10M(benchmark::State& state) {
  BigLog& log = big_log(10'000'000);
  ledger::StoreNodeReader nodes(*log.store, log.head.size);
  const uint64_t index = 4'567'891;
  auto proof = merkle::inclusion_proof(index, log.head.size, nodes);
  auto root = merkle::tree_root(log.head.size, nodes);
  auto receipt = ledger::build_receipt(*log.store, log.head, index);
  auto verified = ledger::verify_receipt(*receipt, note::verifier_of(bench_key()));
  if (!proof || !root || !verified) die(Status::internal("cannot prepare the proof"));
  const Hash leaf = merkle::leaf_hash(ledger::encode_entry(verified->entry));
  for (auto _ : state) {
    Status s = merkle::verify_inclusion(leaf, index, log.head.size, *proof, *root);
    if (!s) die(s);
  }
}
BENCHMARK(BM_VerifyInclusion10M)->Unit(benchmark::kMicrosecond);

// A whole receipt offline, Ed25519 checkpoint signature included.
void BM_VerifyReceipt(benchmark::State& state) {
  BigLog& log = big_log(10'000'000);
  auto receipt = ledger::build_receipt(*log.store, log.head, 1'234'567);
  if (!receipt) die(receipt.status());
  const note::VerifierKey key = note::verifier_of(bench_key());
  for (auto _ : state) {
    auto v = ledger::verify_receipt(*receipt, key);
    if (!v) die(v.status());
  }
}
BENCHMARK(BM_VerifyReceipt)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace medseal::bench
