// Crashes through the API (issue 9 section 3, DESIGN.md 9): a real `medseal serve` with its
// sentinel, 64 keep-alive HTTP clients creating, updating and reading Observations of a few
// patients, SIGKILL at a random moment, restart on the same data directory. After each restart
// every write acknowledged before the kill (200/201 with X-Medseal-Ledger-Index) must be there with
// the same bytes and a verifying receipt for its entry, the served log must verify and extend the
// previous life's checkpoint, and the sentinel must have raised no alert.
//
// MEDSEAL_CRASH_ITERATIONS sets the number of kills (default 100; 10 in sanitizer builds, where
// the server runs several times slower). MEDSEAL_CRASH_SEED repeats a run's kill moments.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/common.h"
#include "support/acked_writes.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::testing {
namespace {

using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDefaultIterations = 10;
#else
constexpr int kDefaultIterations = 100;
#endif
constexpr int kClients = 64;
constexpr int kPatients = 8;
constexpr int kCheckThreads = 16;
constexpr int kOlderSample = 16;  // writes of earlier lives checked again after each restart
// The load runs this long (uniformly random, ms) before the kill.
constexpr int kMinLoadMs = 10, kMaxLoadMs = 150;

std::string patient(int k) { return "Patient/crash-p" + std::to_string(k); }

std::string observation(int client, int n, const std::string& id) {
  return observation_json(patient(client % kPatients), client, n, id);
}

// What one client saw during one life of the server.
struct ClientLog {
  std::vector<AckedWrite> acked;
  std::vector<std::string> errors;  // answers that were wrong while the server was alive
};

// One keep-alive client: creates (60 %), updates its own record (20 %) and reads back its last
// acknowledged write (20 %) until the connection dies with the server.
void run_client(const std::string& base, const httplib::Headers& auth, int client, unsigned seed,
                const std::atomic<bool>& killing, ClientLog& log) {
  httplib::Client http(base);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);  // else Nagle holds a POST's body for the server's delayed ACK (40 ms)
  http.set_read_timeout(30);
  std::mt19937 rng(seed);
  const std::string own_id = "loop-c" + std::to_string(client);
  for (int n = 0;; ++n) {
    const unsigned pick = rng() % 10;
    const bool read = pick >= 8 && !log.acked.empty();
    httplib::Result res =
        read ? http.Get("/fhir/" + log.acked.back().name(), auth)
        : pick < 6 ? http.Post("/fhir/Observation", auth, observation(client, n, ""), "application/fhir+json")
                   : http.Put("/fhir/Observation/" + own_id, auth, observation(client, n, own_id), "application/fhir+json");
    if (read && res && res->status == 200) {
      if (res->body != log.acked.back().body) log.errors.push_back(log.acked.back().name() + ": read other bytes than acknowledged");
      continue;
    }
    if (!res) {
      if (!killing) log.errors.push_back("no answer before the kill: " + httplib::to_string(res.error()));
      return;
    }
    auto acked = acked_write(res, "Observation");
    if (acked) log.acked.push_back(std::move(*acked));
    if (!acked && !killing) log.errors.push_back("status " + std::to_string(res->status) + ": " + res->body.substr(0, 200));
  }
}

// All kClients clients come from one address, which is the default per-client connection limit
// (64); the checks' own connections, which the server may not have seen closed yet, need room.
const std::vector<std::string> kServeFlags = {"--max-connections-per-client", "128"};

class CrashLoop : public ::testing::Test {
 protected:
  void SetUp() override { data_ = dir_.path() + "/data"; }

  // The first life: tokens, the log key and the patients (whose registration by the clinician is
  // the care relation that lets it write their Observations).
  void first_start(Server& server) {
    clinician_ = issue_bearer(data_, "clinician", "dr.crash@crash-hospital");
    auditor_ = issue_bearer(data_, "auditor", "crash.audit");
    auto vkey = cli::load_vkey(data_ + "/log.vkey");
    ASSERT_TRUE(vkey) << vkey.status().to_string();
    vkey_ = *vkey;
    httplib::Client http(server.base());
    for (int k = 0; k < kPatients; ++k) {
      const std::string id = "crash-p" + std::to_string(k);
      auto res = http.Put("/fhir/Patient/" + id, clinician_,
                          R"({"resourceType":"Patient","id":")" + id + R"(","gender":"unknown"})",
                          "application/fhir+json");
      auto acked = acked_write(res, "Patient");
      ASSERT_TRUE(acked) << (res ? res->body : httplib::to_string(res.error()));
      unchecked_.push_back(*acked);
    }
  }

  // Load from kClients clients, SIGKILL after `load_ms`; the writes acknowledged go to unchecked_.
  void load_and_kill(Server& server, std::mt19937& rng, int load_ms) {
    std::vector<ClientLog> logs(kClients);
    std::atomic<bool> killing{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(run_client, server.base(), clinician_, c, static_cast<unsigned>(rng()),
                           std::cref(killing), std::ref(logs[c]));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(load_ms));
    killing = true;
    EXPECT_EQ(server.kill(), 128 + SIGKILL);
    for (std::thread& t : clients) t.join();
    for (ClientLog& log : logs) {
      for (const std::string& e : log.errors) ADD_FAILURE() << e;
      unchecked_.insert(unchecked_.end(), log.acked.begin(), log.acked.end());
    }
  }

  // Every write of the previous life and a sample of older ones, checked in parallel.
  void check_acknowledged(Server& server, std::mt19937& rng) {
    std::vector<AckedWrite> todo = unchecked_;
    for (int i = 0; i < kOlderSample && !checked_.empty(); ++i) todo.push_back(checked_[rng() % checked_.size()]);
    std::mutex mu;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kCheckThreads; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client http(server.base());
        http.set_keep_alive(true);
        for (size_t i = static_cast<size_t>(t); i < todo.size(); i += kCheckThreads) {
          std::string why = check_acked_write(http, clinician_, vkey_, todo[i]);
          std::lock_guard<std::mutex> lock(mu);
          if (!why.empty()) failures.push_back(why);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
    EXPECT_TRUE(failures.empty()) << failures.size() << " of " << todo.size() << " acknowledged writes lost";
    checks_ += todo.size();
    checked_.insert(checked_.end(), unchecked_.begin(), unchecked_.end());
    unchecked_.clear();
  }

  // The served log verifies and extends the previous life's; no alert, in stderr or at /alerts.
  void check_log_and_alerts(Server& server) {
    std::string why;
    std::string note = verify_served_log(server.log_url(), vkey_, checkpoint_, &why);
    ASSERT_FALSE(note.empty()) << why;
    checkpoint_ = note;
    httplib::Client http(server.base());
    auto alerts = http.Get("/alerts", auditor_);
    ASSERT_TRUE(alerts);
    ASSERT_EQ(alerts->status, 200) << alerts->body;
    auto listed = nlohmann::json::parse(alerts->body, nullptr, false);
    EXPECT_TRUE(listed.is_object() && listed["alerts"].is_array() && listed["alerts"].empty()) << alerts->body;
    EXPECT_EQ(alert_lines(server.stderr_text()), 0u) << server.stderr_text();
  }

  TempDir dir_;
  std::string data_, checkpoint_;
  httplib::Headers clinician_, auditor_;
  note::VerifierKey vkey_;
  std::vector<AckedWrite> unchecked_, checked_;
  size_t checks_ = 0;
};

TEST_F(CrashLoop, AcknowledgedWritesSurviveSigkillAndNothingIsFalselyReported) {
  const int iterations = env_int("MEDSEAL_CRASH_ITERATIONS", kDefaultIterations);
  const unsigned seed = static_cast<unsigned>(env_int("MEDSEAL_CRASH_SEED", static_cast<int>(std::random_device{}() >> 1)));
  std::printf("[ crash loop ] %d kills, MEDSEAL_CRASH_SEED=%u\n", iterations, seed);
  std::mt19937 rng(seed);
  const auto start = Clock::now();
  double restart_ms = 0, load_ms = 0;
  for (int i = 0; i <= iterations; ++i) {
    const auto restart = Clock::now();
    Server server(data_, kServeFlags);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    restart_ms += ms_since(restart);
    if (i == 0) {
      ASSERT_NO_FATAL_FAILURE(first_start(server));
    }
    ASSERT_NO_FATAL_FAILURE(check_acknowledged(server, rng));
    // The sentinel verifies the whole store at start and polls every 50 ms: give it a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_NO_FATAL_FAILURE(check_log_and_alerts(server));
    if (i == iterations || HasFailure()) break;
    const int kill_after = kMinLoadMs + static_cast<int>(rng() % (kMaxLoadMs - kMinLoadMs + 1));
    load_ms += kill_after;
    load_and_kill(server, rng, kill_after);
  }
  // The check can fail: the same write with one byte changed, or claiming another entry, is lost.
  if (!checked_.empty()) {
    Server server(data_, kServeFlags);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    httplib::Client http(server.base());
    AckedWrite changed = checked_.back(), moved = checked_.back();
    changed.body.back() = changed.body.back() == '}' ? ' ' : '}';
    moved.index += 1;
    EXPECT_NE(check_acked_write(http, clinician_, vkey_, changed), "");
    EXPECT_NE(check_acked_write(http, clinician_, vkey_, moved), "");
  }
  ProgramOutcome full = run_medseal({"monitor", "--data", data_, "--full", "--state", dir_.path() + "/full.state"});
  EXPECT_EQ(full.status, 0) << full.out << full.err;
  const double seconds = ms_since(start) / 1000;
  std::printf("[ crash loop ] %d kills in %.1f s: %zu writes acknowledged, %zu checks (vread + receipt), "
              "mean load before kill %.0f ms, mean restart %.0f ms; log size %s",
              iterations, seconds, checked_.size(), checks_, load_ms / std::max(iterations, 1),
              restart_ms / (iterations + 1), full.out.c_str());
}

}  // namespace
}  // namespace medseal::testing
