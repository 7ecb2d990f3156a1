// Record ingest (DESIGN.md 8): the 40 Synthea patients loaded as transaction Bundles through the
// record service (validation, stamping, statements, ledger entries, record rows, all durable)
// against plain SQLite inserts of the same resource bytes with the same durability (WAL,
// synchronous=FULL, one transaction per bundle), in the same run.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <memory>
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

// Process CPU time (user + system, every thread) and bytes read and written through syscalls
// (/proc/self/io rchar, wchar): where an ingest's cost goes, in the same process as its baseline.
struct Usage {
  double cpu_ms = 0, sys_ms = 0;
  double read_mb = 0, written_mb = 0;

  static Usage now() {
    Usage u;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    u.cpu_ms = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    u.sys_ms = double(ru.ru_stime.tv_sec) * 1e3 + double(ru.ru_stime.tv_usec) / 1e3;
    std::ifstream io("/proc/self/io");
    std::string name;
    for (uint64_t value; io >> name >> value;) {
      if (name == "rchar:") u.read_mb = double(value) / 1e6;
      if (name == "wchar:") u.written_mb = double(value) / 1e6;
    }
    return u;
  }
};

// Sums the usage of the timed part of each iteration, reported per run as counters.
class UsageMeter {
 public:
  void start() { begin_ = Usage::now(); }
  void stop() {
    const Usage end = Usage::now();
    sum_.cpu_ms += end.cpu_ms - begin_.cpu_ms;
    sum_.sys_ms += end.sys_ms - begin_.sys_ms;
    sum_.read_mb += end.read_mb - begin_.read_mb;
    sum_.written_mb += end.written_mb - begin_.written_mb;
  }
  void report(benchmark::State& state) const {
    const double runs = double(state.iterations());
    state.counters["cpu_ms"] = sum_.cpu_ms / runs;
    state.counters["sys_ms"] = sum_.sys_ms / runs;
    state.counters["read_MB"] = sum_.read_mb / runs;
    state.counters["written_MB"] = sum_.written_mb / runs;
  }

 private:
  Usage begin_, sum_;
};

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

// A fresh store, ledger and record service in a scratch directory.
struct IngestTarget {
  ScratchDir dir;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<records::RecordService> service;

  IngestTarget() {
    auto s = storage::open_sqlite_store((dir.path / "medseal.db").string());
    if (!s) die(s.status());
    store = std::move(*s);
    auto l = ledger::Ledger::open(*store, bench_key());
    if (!l) die(l.status());
    ledger = std::move(*l);
    service = std::make_unique<records::RecordService>(*ledger, *store, system_clock());
  }
  ~IngestTarget() {  // in this order: the service uses the ledger, the ledger the store
    service.reset();
    ledger.reset();
    store.reset();
  }
};

void BM_RecordIngestSynthea(benchmark::State& state) {
  const records::Caller loader{{"bench.loader", identity::Role::kClinician, ""}, "TREAT"};
  UsageMeter usage;
  for (auto _ : state) {
    state.PauseTiming();
    auto target = std::make_unique<IngestTarget>();
    state.ResumeTiming();
    usage.start();
    load_all([&](const std::string& bundle) {
      uint64_t index = 0;
      auto written = target->service->transaction(loader, bundle, &index);
      if (!written) die(written.status());
    });
    usage.stop();
    // Closing (SQLite's last checkpoint) and removing the files are not timed, as for the
    // baseline: every transaction was durable when it returned.
    state.PauseTiming();
    target.reset();
    state.ResumeTiming();
  }
  usage.report(state);
  state.SetItemsProcessed(int64_t(state.iterations() * resource_count()));
}
BENCHMARK(BM_RecordIngestSynthea)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

// The strict scan of every bundle (records/resource.h parse_transaction), one thread: the part of
// an ingest's CPU that reads the JSON.
void BM_ParseSyntheaBundles(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& b : synthea_bundles()) {
      auto entries = records::parse_transaction(b);
      if (!entries) die(entries.status());
      benchmark::DoNotOptimize(entries->data());
      bytes += b.size();
    }
  }
  state.SetBytesProcessed(int64_t(bytes));
}
BENCHMARK(BM_ParseSyntheaBundles)->Unit(benchmark::kMillisecond);

// The same resource bytes into one plain table, a transaction per bundle; SQLite has one writer,
// so the loaders take turns as they would on any single SQLite file.
void BM_SqliteResourceInsert(benchmark::State& state) {
  std::vector<std::vector<records::BundleEntry>> bundles;
  for (const std::string& b : synthea_bundles()) bundles.push_back(*records::parse_transaction(b));
  UsageMeter usage;
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<ScratchDir>();
    sqlite3* db = nullptr;
    sqlite3_open((dir->path / "plain.db").c_str(), &db);
    exec(db,
         "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
         "CREATE TABLE resources (type TEXT, id TEXT, version BIGINT, bytes BLOB,"
         " PRIMARY KEY (type, id, version))");
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO resources VALUES (?, ?, 1, ?)", -1, &insert, nullptr);
    state.ResumeTiming();
    usage.start();
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
    usage.stop();
    state.PauseTiming();
    sqlite3_finalize(insert);
    sqlite3_close(db);
    dir.reset();
    state.ResumeTiming();
  }
  usage.report(state);
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
