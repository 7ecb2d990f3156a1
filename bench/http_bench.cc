// The FHIR API over HTTP (DESIGN.md 8): creates and reads per second from 64 keep-alive clients on
// loopback, with their median and 99th percentile latencies, against GET /healthz (the HTTP stack
// alone) in the same run. The server is `medseal serve` itself (the binary beside this one, on a
// scratch data directory, port 0, its default flags: authorization, sentinel, alerts, disk guard,
// 128 threads), so the figures are those of what ships; the clients are bench/load_gen.h, one
// epoll thread in this process. wrk against `medseal serve` (bench/wrk/) measures the same.
//
// Counters: cpu_us is the server process's CPU time per request (user + system, from
// /proc/PID/stat), total_cpu_us adds the load generator's; disk_kb is what the server wrote to
// storage per request (/proc/PID/io write_bytes: WAL frames of 8 KiB pages and checkpoints).
// MEDSEAL_BENCH_SERVE=PATH runs another medseal binary (to compare two builds on one machine).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "identity/token_store.h"
#include "load_gen.h"
#include "server/fhir_api.h"

namespace medseal::bench {
namespace {

constexpr size_t kClients = 64;
constexpr std::chrono::milliseconds kDuration{5000};
constexpr size_t kReadPatients = 4096;
constexpr size_t kPatientsPerBundle = 512;

// What the kernel counts for a process: CPU seconds and bytes written to storage.
struct ProcessUsage {
  double cpu_seconds = 0;
  double storage_bytes = 0;
};

ProcessUsage usage_of(pid_t pid) {
  ProcessUsage u;
  u.cpu_seconds = ticks_to_seconds(cpu_ticks(pid));
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  for (std::string name; io >> name;) {
    double value = 0;
    io >> value;
    if (name == "write_bytes:") u.storage_bytes = value;
  }
  return u;
}

// `medseal serve` on a scratch data directory, with a clinician's token issued before it starts.
class ServeProcess {
 public:
  ServeProcess() {
    auto tokens = identity::TokenStore::open((dir_.path / "tokens").string());
    if (!tokens) die(tokens.status());
    auto token = (*tokens)->issue({"bench.clinician", identity::Role::kClinician, ""});
    if (!token) die(token.status());
    token_ = *token;
    start();
  }

  ~ServeProcess() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // A request with the clinician's Authorization header; `body` makes it a FHIR JSON POST.
  std::string request(std::string_view method, std::string_view path, std::string_view body = {}) const {
    return fhir_request(method, path, "Bearer " + token_, body);
  }

  // The ids of `n` new Patients, posted in transaction bundles (so that setting up a read
  // benchmark does not wait for thousands of ledger batches). The clinician who reads them
  // registers them, which is its care relation (records/policy.h).
  std::vector<std::string> create_patients(size_t n) const {
    std::vector<std::string> ids;
    std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
    for (size_t i = 0; i < kPatientsPerBundle; ++i) {
      if (i > 0) bundle += ',';
      bundle += R"({"resource":)" + std::string(kPatient) + R"(,"request":{"method":"POST","url":"Patient"}})";
    }
    bundle += "]}";
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60);
    const httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
    while (ids.size() < n) {
      auto res = client.Post("/fhir", headers, bundle, "application/fhir+json");
      nlohmann::json response = res && res->status == 200 ? nlohmann::json::parse(res->body, nullptr, false)
                                                          : nlohmann::json();
      if (!response.is_object()) die(Status::internal("setting up the read benchmark: a transaction failed"));
      for (const auto& entry : response["entry"]) {
        const std::string location = entry["response"]["location"];  // "Patient/<id>/_history/1"
        ids.push_back(location.substr(8, location.find('/', 8) - 8));
      }
    }
    ids.resize(n);
    return ids;
  }

 private:
  void start() {
    int out[2];
    if (::pipe(out) != 0) die(Status::io("pipe"));
    const char* other = std::getenv("MEDSEAL_BENCH_SERVE");
    const std::string binary = other != nullptr ? other : MEDSEAL_BUILD_DIR "/medseal";
    const std::string data = dir_.path.string();
    const std::string err_path = data + "/serve.err";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(err, STDERR_FILENO);
      ::execl(binary.c_str(), binary.c_str(), "serve", "--data", data.c_str(), "--listen", "127.0.0.1:0",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    // The first line on stdout: "listening on http://127.0.0.1:PORT".
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);  // serve's later lines (usage hints) go nowhere; it ignores SIGPIPE
    size_t colon = line.rfind(':');
    if (!line.starts_with("listening on http://") || colon == std::string::npos) {
      die(Status::io("could not start " + binary + " serve (build it first): see " + err_path));
    }
    port_ = std::stoi(line.substr(colon + 1));
  }

  ScratchDir dir_;  // mkdtemp: owner-only, as serve requires of its data directory
  std::string token_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs kClients connections for kDuration and reports requests per second (as items, over the
// manual time) with p50_ms, p99_ms, failures, cpu_us, total_cpu_us and disk_kb (per request: a
// figure that depends less on what else the machine runs); any failure fails the benchmark.
void measure(benchmark::State& state, const ServeProcess& server, const MakeRequest& make, const CheckAnswer& check) {
  for (auto _ : state) {
    const ProcessUsage before = usage_of(server.pid());
    const double own_before = own_cpu_seconds();
    LoadResult r = run_load("127.0.0.1", server.port(), kClients, kDuration, make, check);
    const ProcessUsage after = usage_of(server.pid());
    const double own = own_cpu_seconds() - own_before;
    const double per_request = r.requests > 0 ? 1.0 / double(r.requests) : 0;
    state.SetIterationTime(r.seconds);
    state.SetItemsProcessed(int64_t(r.requests));
    state.counters["p50_ms"] = r.p50_ms;
    state.counters["p99_ms"] = r.p99_ms;
    state.counters["failures"] = double(r.failures);
    state.counters["cpu_us"] = (after.cpu_seconds - before.cpu_seconds) * 1e6 * per_request;
    state.counters["total_cpu_us"] = (after.cpu_seconds - before.cpu_seconds + own) * 1e6 * per_request;
    state.counters["disk_kb"] = (after.storage_bytes - before.storage_bytes) / 1024 * per_request;
    if (r.failures > 0) state.SkipWithError((std::to_string(r.failures) + " requests failed").c_str());
  }
}

// The expected status, with the ledger index header (the request's receipt) when `indexed`.
CheckAnswer expect(int status, bool indexed) {
  return [=](const Answer& a) {
    return a.status == status && (!indexed || a.has_header(server::fhir::kLedgerIndexHeader));
  };
}

void BM_HttpHealthz(benchmark::State& state) {
  ServeProcess server;
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  measure(state, server, [&](size_t, size_t) { return request; }, expect(200, false));
}

void BM_HttpFhirCreate(benchmark::State& state) {
  ServeProcess server;
  const std::string request = server.request("POST", "/fhir/Patient", kPatient);
  measure(state, server, [&](size_t, size_t) { return request; }, expect(201, true));
}

void BM_HttpFhirRead(benchmark::State& state) {
  ServeProcess server;
  std::vector<std::string> requests;
  for (const std::string& id : server.create_patients(kReadPatients)) {
    requests.push_back(server.request("GET", "/fhir/Patient/" + id));
  }
  measure(
      state, server,
      [&](size_t client_no, size_t n) {
        // Each client walks the patients from its own starting point.
        return requests[(client_no * (kReadPatients / kClients) + n) % requests.size()];
      },
      expect(200, true));
}

BENCHMARK(BM_HttpHealthz)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HttpFhirCreate)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HttpFhirRead)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace medseal::bench
