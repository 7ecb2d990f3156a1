// The FHIR API over HTTP (DESIGN.md 8): creates and reads per second from 64 keep-alive clients on
// loopback, with their median and 99th percentile latencies, against GET /healthz (the HTTP stack
// alone) in the same run. The server is assembled as `medseal serve` assembles it (SQLite store,
// ledger with its default 10 ms batch window, record service, token file, 128 threads) and runs in
// this process on 127.0.0.1, port 0; the clients are bench/load_gen.h. On a 2-core machine the 64
// client threads take CPU from the server, so these figures are a floor; wrk against
// `medseal serve` (bench/wrk/) measures the server alone.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "identity/token_store.h"
#include "ledger/ledger.h"
#include "load_gen.h"
#include "records/resource.h"
#include "records/service.h"
#include "server/fhir_api.h"
#include "server/http_server.h"
#include "storage/sqlite/sqlite_store.h"
#include "util/clock.h"

namespace medseal::bench {
namespace {

constexpr size_t kClients = 64;
constexpr std::chrono::milliseconds kDuration{5000};
constexpr size_t kReadPatients = 4096;
constexpr size_t kPatientsPerBundle = 512;

// The production server on a scratch directory, serving from a thread of its own.
class BenchServer {
 public:
  BenchServer() {
    auto store = storage::open_sqlite_store((dir_.path / "medseal.db").string());
    if (!store) die(store.status());
    store_ = std::move(*store);
    auto ledger = ledger::Ledger::open(*store_, bench_key());
    if (!ledger) die(ledger.status());
    ledger_ = std::move(*ledger);
    auto tokens = identity::TokenStore::open((dir_.path / "tokens").string());
    if (!tokens) die(tokens.status());
    tokens_ = std::move(*tokens);
    auto token = tokens_->issue({"bench.clinician", identity::Role::kClinician, ""});
    if (!token) die(token.status());
    authorization_ = "Bearer " + *token;
    records_ = std::make_unique<records::RecordService>(*ledger_, *store_, system_clock());
    api_ = std::make_unique<server::fhir::Api>(*records_, *tokens_, records::r4_resource_types(),
                                               system_clock());
    http_ = std::make_unique<server::HttpServer>(*ledger_, server::HttpOptions{"127.0.0.1", 0},
                                                 api_.get());
    auto port = http_->bind();
    if (!port) die(port.status());
    port_ = *port;
    thread_ = std::thread([this] {
      if (Status s = http_->run(); !s) die(s);
    });
  }

  ~BenchServer() {
    http_->stop();
    thread_.join();
  }

  // The ids of `n` new Patients, written through the record service in transaction bundles (so
  // that setting up a read benchmark does not wait for thousands of ledger batches).
  std::vector<std::string> create_patients(size_t n) {
    // The clinician who reads them registers them, which is its care relation (records/policy.h).
    const records::Caller loader{{"bench.clinician", identity::Role::kClinician, ""}, "TREAT"};
    std::vector<std::string> ids;
    while (ids.size() < n) {
      std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
      for (size_t i = 0; i < kPatientsPerBundle; ++i) {
        if (i > 0) bundle += ',';
        bundle += R"({"resource":)" + std::string(kPatient) +
                  R"(,"request":{"method":"POST","url":"Patient"}})";
      }
      bundle += "]}";
      uint64_t index = 0;
      auto written = records_->transaction(loader, bundle, &index);
      if (!written) die(written.status());
      for (const records::Written& w : *written) ids.push_back(w.version.id);
    }
    ids.resize(n);
    return ids;
  }

  int port() const { return port_; }
  // The Authorization header of a clinician.
  httplib::Headers clinician() const { return {{"Authorization", authorization_}}; }

 private:
  ScratchDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<identity::TokenStore> tokens_;
  std::unique_ptr<records::RecordService> records_;
  std::unique_ptr<server::fhir::Api> api_;
  std::unique_ptr<server::HttpServer> http_;
  std::string authorization_;
  int port_ = 0;
  std::thread thread_;
};

// The answer a benchmark expects; remembers the first other one, to say what went wrong.
struct Expected {
  int status;
  bool with_index;  // the ledger index header (the request's receipt)
  std::atomic<int> first_other{0};  // its status; -1: no answer at all

  bool check(const httplib::Result& res) {
    int got = res ? res->status : -1;
    if (got == status &&
        (!with_index || res->has_header(std::string(server::fhir::kLedgerIndexHeader)))) {
      return true;
    }
    int none = 0;
    first_other.compare_exchange_strong(none, got);
    return false;
  }
};

// CPU seconds this process has used, every thread, clients included.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// Runs `send` from kClients clients for kDuration and reports requests per second (as items,
// over the manual time) with p50_ms, p99_ms, failures and cpu_us (the process's CPU time per
// request, clients included: a figure that does not depend on what else the machine runs); any
// failure fails the benchmark.
void measure(benchmark::State& state, const BenchServer& server, const Expected& expected,
             const SendRequest& send) {
  for (auto _ : state) {
    const double cpu_before = process_cpu_seconds();
    LoadResult r = run_load("127.0.0.1", server.port(), kClients, kDuration, send);
    const double cpu = process_cpu_seconds() - cpu_before;
    state.SetIterationTime(r.seconds);
    state.SetItemsProcessed(int64_t(r.requests));
    state.counters["p50_ms"] = r.p50_ms;
    state.counters["p99_ms"] = r.p99_ms;
    state.counters["failures"] = double(r.failures);
    state.counters["cpu_us"] = r.requests > 0 ? cpu * 1e6 / double(r.requests) : 0;
    if (r.failures > 0) {
      state.SkipWithError((std::to_string(r.failures) + " requests failed, the first with status " +
                           std::to_string(expected.first_other.load()))
                              .c_str());
    }
  }
}

void BM_HttpHealthz(benchmark::State& state) {
  BenchServer server;
  Expected ok{200, false};
  measure(state, server, ok, [&](httplib::Client& client, size_t, size_t) {
    return ok.check(client.Get("/healthz"));
  });
}

void BM_HttpFhirCreate(benchmark::State& state) {
  BenchServer server;
  const httplib::Headers headers = server.clinician();
  const std::string body(kPatient);
  Expected created{201, true};
  measure(state, server, created, [&](httplib::Client& client, size_t, size_t) {
    return created.check(client.Post("/fhir/Patient", headers, body, "application/fhir+json"));
  });
}

void BM_HttpFhirRead(benchmark::State& state) {
  BenchServer server;
  const httplib::Headers headers = server.clinician();
  std::vector<std::string> paths;
  for (const std::string& id : server.create_patients(kReadPatients)) {
    paths.push_back("/fhir/Patient/" + id);
  }
  Expected read{200, true};
  measure(state, server, read, [&](httplib::Client& client, size_t client_no, size_t n) {
    // Each client walks the patients from its own starting point.
    const std::string& path = paths[(client_no * (kReadPatients / kClients) + n) % paths.size()];
    return read.check(client.Get(path, headers));
  });
}

BENCHMARK(BM_HttpHealthz)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HttpFhirCreate)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HttpFhirRead)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace medseal::bench
