// Record ingest (DESIGN.md 8): the 40 Synthea patients loaded as transaction Bundles through the
// record service (validation, stamping, statements, ledger entries, record rows, all durable)
// against plain SQLite inserts of the same resource bytes with the same durability (WAL,
// synchronous=FULL, one transaction per bundle), in the same run.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "ledger/ledger.h"
#include "records/resource.h"
#include "records/relations.h"
#include "records/service.h"
#include "storage/sqlite/sqlite_store.h"

namespace medseal::bench {
namespace {

namespace fs = std::filesystem;

// Concurrent loaders, as several hospital systems would send their bundles at once.
constexpr int kLoaders = 4;

const std::vector<std::string>& synthea_bundles() {
  static const std::vector<std::string> bundles = [] {
    std::vector<std::string> out;
    for (const auto& f : fs::directory_iterator(shared_dir() + "/data/synthea")) {
      if (f.path().extension() != ".json") continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      out.push_back(text.str());
    }
    if (out.empty()) die(Status::not_found("no Synthea bundles under " + shared_dir()));
    return out;
  }();
  return bundles;
}

size_t resource_count() {
  size_t n = 0;
  for (const std::string& b : synthea_bundles()) {
    auto entries = records::parse_transaction(b);
    if (!entries) die(entries.status());
    n += entries->size();
  }
  return n;
}

// Runs `load(bundle)` for every bundle from kLoaders threads.
template <typename Load>
void load_all(Load load) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> loaders;
  for (int t = 0; t < kLoaders; ++t) {
    loaders.emplace_back([&] {
      for (size_t i; (i = next++) < synthea_bundles().size();) load(synthea_bundles()[i]);
    });
  }
  for (auto& t : loaders) t.join();
}

void BM_RecordIngestSynthea(benchmark::State& state) {
  const records::Caller loader{{"bench.loader", identity::Role::kClinician, ""}, "TREAT"};
  for (auto _ : state) {
    state.PauseTiming();
    ScratchDir dir;
    auto store = storage::open_sqlite_store((dir.path / "medseal.db").string());
    if (!store) die(store.status());
    auto ledger = ledger::Ledger::open(**store, bench_key());
    if (!ledger) die(ledger.status());
    records::RecordService service(**ledger, **store, system_clock());
    state.ResumeTiming();
    load_all([&](const std::string& bundle) {
      uint64_t index = 0;
      auto written = service.transaction(loader, bundle, &index);
      if (!written) die(written.status());
    });
  }
  state.SetItemsProcessed(int64_t(state.iterations() * resource_count()));
}
BENCHMARK(BM_RecordIngestSynthea)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

// The same resource bytes into one plain table, a transaction per bundle; SQLite has one writer,
// so the loaders take turns as they would on any single SQLite file.
void BM_SqliteResourceInsert(benchmark::State& state) {
  std::vector<std::vector<records::BundleEntry>> bundles;
  for (const std::string& b : synthea_bundles()) bundles.push_back(*records::parse_transaction(b));
  for (auto _ : state) {
    state.PauseTiming();
    ScratchDir dir;
    sqlite3* db = nullptr;
    sqlite3_open((dir.path / "plain.db").c_str(), &db);
    exec(db,
         "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
         "CREATE TABLE resources (type TEXT, id TEXT, version BIGINT, bytes BLOB,"
         " PRIMARY KEY (type, id, version))");
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO resources VALUES (?, ?, 1, ?)", -1, &insert, nullptr);
    state.ResumeTiming();
    std::mutex writer;
    std::atomic<size_t> next{0};
    uint64_t next_id = 0;  // guarded by writer
    std::vector<std::thread> loaders;
    for (int t = 0; t < kLoaders; ++t) {
      loaders.emplace_back([&] {
        for (size_t i; (i = next++) < bundles.size();) {
          std::lock_guard lock(writer);
          exec(db, "BEGIN");
          for (const records::BundleEntry& e : bundles[i]) {
            // Synthea repeats organizations and practitioners across bundles: ids are ours.
            const std::string id = std::to_string(next_id++);
            sqlite3_bind_text(insert, 1, e.url.data(), int(e.url.size()), SQLITE_STATIC);
            sqlite3_bind_text(insert, 2, id.data(), int(id.size()), SQLITE_STATIC);
            sqlite3_bind_blob(insert, 3, e.resource.data(), int(e.resource.size()), SQLITE_STATIC);
            if (sqlite3_step(insert) != SQLITE_DONE) die(Status::io(sqlite3_errmsg(db)));
            sqlite3_reset(insert);
          }
          exec(db, "COMMIT");
        }
      });
    }
    for (auto& t : loaders) t.join();
    state.PauseTiming();
    sqlite3_finalize(insert);
    sqlite3_close(db);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(int64_t(state.iterations() * resource_count()));
}
BENCHMARK(BM_SqliteResourceInsert)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

// The authorization lookup every clinical request makes (records/relations.h): 10,000 patients
// with 20 encounters each, every one naming one of 500 practitioners.
void BM_RelationLookup(benchmark::State& state) {
  constexpr size_t kPatients = 10'000, kEncounters = 20, kPractitioners = 500;
  records::RelationIndex index;
  storage::RecordVersion v;
  v.type = "Encounter";
  for (size_t p = 0; p < kPatients; ++p) {
    v.compartment = "Patient/p" + std::to_string(p);
    for (size_t e = 0; e < kEncounters; ++e) {
      v.id = std::to_string(p) + "-" + std::to_string(e);
      v.bytes = R"({"resourceType":"Encounter","status":"finished","participant":[{"individual":{"reference":"Practitioner/dr)" +
                std::to_string((p * kEncounters + e) % kPractitioners) + R"("}}],"period":{"start":"2024-01-01"}})";
      index.apply(v, "");
    }
  }
  size_t n = 0, found = 0;
  for (auto _ : state) {
    const std::vector<std::string> actors{"Practitioner/dr" + std::to_string(n % kPractitioners)};
    const std::string patient = "Patient/p" + std::to_string((n * 7919) % kPatients);
    found += index.lookup(actors, patient, 1'800'000'000'000).kind != records::RelationKind::kNone;
    ++n;
  }
  benchmark::DoNotOptimize(found);
}
BENCHMARK(BM_RelationLookup);

}  // namespace
}  // namespace medseal::bench
