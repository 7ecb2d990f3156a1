// The tamper suite (issue 6 section 7): a real `medseal serve` (sentinel on by default) and a
// `medseal monitor --data DIR` beside it, loaded with Synthea patients through POST /fhir; each
// attack of section 2 is done through the sqlite3 library on DATA/medseal.db while both run, and
// the alert JSON line naming the right kind and ids must appear on each one's stderr (bound 5 s;
// latencies printed with p50/p99). A steady-load soak before the attacks must raise no alert.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/alert_lines.h"
#include "support/fhir_data.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `sql` on the live store through a connection of our own (a foreign writer).
void tamper(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// One row of the store, read through our own connection.
struct Row {
  uint64_t index = 0;
  std::string name;  // Type/id/_history/N
};

std::vector<Row> record_rows(const std::string& db_path, const std::string& where) {
  sqlite3* db = nullptr;
  std::vector<Row> out;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  const std::string sql = "SELECT ledger_idx, type || '/' || id || '/_history/' || version "
                          "FROM record_versions WHERE " + where + " ORDER BY ledger_idx";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (q != nullptr && sqlite3_step(q) == SQLITE_ROW) {
    out.push_back({static_cast<uint64_t>(sqlite3_column_int64(q, 0)),
                   reinterpret_cast<const char*>(sqlite3_column_text(q, 1))});
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

// `medseal monitor --data DIR` with its stderr in a file; killed at the end.
class Monitor {
 public:
  Monitor(const std::string& data, const std::string& err) : err_(err) {
    int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int out = ::open("/dev/null", O_WRONLY);
    pid_ = spawn_program({medseal_binary(), "monitor", "--data", data}, "", out, fd);
    ::close(fd);
    ::close(out);
  }
  ~Monitor() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      wait_exit_status(pid_);
    }
  }
  std::string stderr_text() const { return slurp(err_); }
  pid_t pid() const { return pid_; }

 private:
  std::string err_;
  pid_t pid_ = -1;
};

// The state letter of /proc/PID/stat (R, S, Z for a dead child not yet reaped, ...).
std::string process_state(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? "gone" : stat.substr(paren + 2, 1);
}

// How long a test waits for an alert: generous, for sanitizer builds on a shared 2-core machine.
// The latencies are printed and reported, not asserted.
constexpr double kBound = 15;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

class TamperSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    db_ = data_ + "/medseal.db";
    server_ = std::make_unique<Server>(data_);
    ASSERT_TRUE(server_->ready());
    ProgramOutcome t = run_medseal({"token", "issue", "--data", data_, "--role", "clinician",
                                    "--name", "dr.tamper"});
    ASSERT_EQ(t.status, 0) << t.err;
    token_ = t.out.substr(0, t.out.find('\n'));
    httplib::Client c(server_->base());
    c.set_read_timeout(60);
    const std::vector<std::string> bundles = synthea_bundles();
    ASSERT_GE(bundles.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      auto res = c.Post("/fhir", headers(), slurp(bundles[i]), "application/fhir+json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body.substr(0, 300);
      // Older states for the rollback attacks: a copy of the file, then a signed checkpoint.
      if (i == 0) tamper(db_, "VACUUM INTO '" + dir_.path() + "/old.db'");
      if (i == 1) old_checkpoint_ = c.Get("/log/checkpoint")->body;
    }
    monitor_ = std::make_unique<Monitor>(data_, dir_.path() + "/monitor.err");
    ASSERT_TRUE(wait_for([&] { return slurp(dir_.path() + "/monitor.err").size() > 0 ||
                                      monitor_started(); }, 20));
  }

  bool monitor_started() const {
    std::ifstream f(data_ + "/monitor.state");
    return f.good();
  }

  httplib::Headers headers() const { return {{"Authorization", "Bearer " + token_}}; }

  static bool wait_for(const std::function<bool()>& done, double seconds) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return done();
  }

  // Runs `sql` and waits for an alert of `kind` naming `ids` on the server's and the monitor's
  // stderr; records both latencies. With `overwritten`, the attack hits the log head, which the
  // server's next commit replaces — and the server's own alerts are such commits (every alert is
  // appended to the ledger) — so a sentinel that polls after it finds only a foreign write (serve)
  // or nothing left to see (a separate monitor).
  void attack(const std::string& what, const std::string& sql, const std::string& kind,
              const std::vector<std::string>& ids, bool overwritten = false) {
    const size_t server_from = server_->stderr_text().size();
    const size_t monitor_from = monitor_->stderr_text().size();
    const auto start = Clock::now();
    tamper(db_, sql);
    auto ms = [&] {
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };
    // A head the server replaced before its own sentinel polled leaves only the fact that another
    // connection wrote: inside serve that is a foreign-write alert (the writer tells exactly).
    const bool in_server = wait_for([&] {
      const std::string text = server_->stderr_text();
      return has_alert(text, server_from, kind, ids) ||
             (overwritten && has_alert(text, server_from, "foreign-write", {}));
    }, kBound);
    const double server_ms = ms();
    const bool in_monitor =
        wait_for([&] { return has_alert(monitor_->stderr_text(), monitor_from, kind, ids); }, kBound);
    const double monitor_ms = ms();
    std::printf("[ tamper ] %-28s %-17s serve %7.1f ms  monitor %7.1f ms\n", what.c_str(),
                kind.c_str(), server_ms, monitor_ms);
    EXPECT_TRUE(in_server) << what << ": no " << kind << " alert from serve (state "
                           << process_state(server_->pid()) << "):\n"
                           << server_->stderr_text().substr(server_from);
    if (in_server) server_ms_.push_back(server_ms);
    if (!in_monitor && overwritten) {
      std::printf("[ tamper ] %-28s the monitor polled after the server had replaced the head\n", what.c_str());
      return;
    }
    EXPECT_TRUE(in_monitor) << what << ": no " << kind << " alert from monitor (state "
                            << process_state(monitor_->pid()) << "):\n"
                            << monitor_->stderr_text().substr(monitor_from);
    if (in_monitor) monitor_ms_.push_back(monitor_ms);
  }

  TempDir dir_;
  std::string data_, db_, token_, old_checkpoint_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Monitor> monitor_;
  std::vector<double> server_ms_, monitor_ms_;
};

TEST_F(TamperSuite, EveryAttackIsNamedAndSteadyLoadRaisesNothing) {
  // Soak: reads and writes for a few seconds (each a ledger commit), no alert at all.
  httplib::Client c(server_->base());
  const std::vector<Row> patients = record_rows(db_, "type = 'Patient'");
  ASSERT_FALSE(patients.empty());
  const std::string patient = patients[0].name.substr(0, patients[0].name.find("/_history"));
  const auto soak_end = Clock::now() + std::chrono::seconds(4);
  int requests = 0;
  while (Clock::now() < soak_end) {
    auto r = c.Get("/fhir/" + patient, headers());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    auto w = c.Post("/fhir/Observation", headers(),
                    R"({"resourceType":"Observation","status":"final","code":{"text":"soak"},)"
                    R"("subject":{"reference":")" + patient + R"("}})",
                    "application/fhir+json");
    ASSERT_TRUE(w);
    ASSERT_EQ(w->status, 201);
    requests += 2;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::printf("[ soak ] %d requests in 4 s\n", requests);
  EXPECT_EQ(alert_count(server_->stderr_text()), 0u) << server_->stderr_text();
  EXPECT_EQ(alert_count(monitor_->stderr_text()), 0u) << monitor_->stderr_text();
  const std::string full_state = dir_.path() + "/full.state";
  ProgramOutcome clean = run_medseal({"monitor", "--data", data_, "--full", "--state", full_state});
  EXPECT_EQ(clean.status, 0) << clean.err;
  EXPECT_NE(clean.out.find("MB/s"), std::string::npos) << clean.out;
  std::printf("[ full pass ] %s", clean.out.c_str());

  const std::vector<Row> obs = record_rows(db_, "type = 'Observation'");
  ASSERT_GE(obs.size(), 4u);
  auto idx = [](const Row& r) { return std::to_string(r.index); };
  attack("foreign write that verifies", "CREATE TABLE attacker_notes (x)",
         "foreign-write", {});
  attack("record bytes changed",
         "UPDATE record_versions SET bytes = CAST('{}' AS BLOB) WHERE ledger_idx = " + idx(obs[1]),
         "content-mismatch", {obs[1].name, idx(obs[1])});
  attack("version time changed",
         "UPDATE record_versions SET updated_ms = updated_ms - 1 WHERE ledger_idx = " + idx(obs[2]),
         "content-mismatch", {obs[2].name});
  attack("row deleted", "DELETE FROM record_versions WHERE ledger_idx = " + idx(obs[3]),
         "missing-row", {obs[3].name});
  attack("row inserted without entry",
         "INSERT INTO record_versions VALUES (1000000000, 'Patient', 'forged', 1, 0, 0, '', 0, "
         "CAST('{}' AS BLOB))",
         "unexpected-row", {"Patient/forged/_history/1"});
  attack("access trail hidden", "DELETE FROM entry_keys WHERE key = '" + patient + "'", "missing-row",
         {patient});
  attack("salt changed",
         "UPDATE entry_extras SET data = X'00' || randomblob(32) || substr(data, 34) WHERE first_idx = 0",
         "content-mismatch", {"\"indexes\":[0]"});
  attack("hash tile changed",
         "UPDATE tiles SET bytes = CASE WHEN substr(bytes, 1, 1) = X'00' THEN X'01' ELSE X'00' END || "
         "substr(bytes, 2) WHERE entries = 0 AND level = 0 AND idx = 0",
         "content-mismatch", {"tile/0/000"});
  attack("bundle changed",
         "UPDATE tiles SET bytes = substr(bytes, 1, 10) || "
         "CASE WHEN substr(bytes, 11, 1) = X'FF' THEN X'FE' ELSE X'FF' END || substr(bytes, 12) "
         "WHERE entries = 1 AND level = 0 AND idx = 0",
         "content-mismatch", {"tile/entries/000"});
  attack("checkpoint signature broken",
         "UPDATE log_head SET checkpoint = CAST(substr(CAST(checkpoint AS TEXT), 1, "
         "length(checkpoint) - 6) || 'AAAA' || substr(CAST(checkpoint AS TEXT), "
         "length(checkpoint) - 1) AS BLOB)",
         "bad-signature", {"log_head"}, /*overwritten=*/true);
  const uint64_t old_size = std::stoull(old_checkpoint_.substr(old_checkpoint_.find('\n') + 1));
  std::string hex;
  for (unsigned char ch : old_checkpoint_) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", ch);
    hex += b;
  }
  attack("log truncated",
         "UPDATE log_head SET size = " + std::to_string(old_size) + ", checkpoint = X'" + hex + "'",
         "log-rollback", {"\"found_size\":" + std::to_string(old_size)});
  attack("store replaced by older copy",
         "ATTACH '" + dir_.path() + "/old.db' AS old; BEGIN; DELETE FROM main.log_head; "
         "INSERT INTO main.log_head SELECT * FROM old.log_head; DELETE FROM main.tiles; "
         "INSERT INTO main.tiles SELECT * FROM old.tiles; DELETE FROM main.entry_extras; "
         "INSERT INTO main.entry_extras SELECT * FROM old.entry_extras; "
         "DELETE FROM main.record_versions; INSERT INTO main.record_versions SELECT * FROM "
         "old.record_versions; DELETE FROM main.entry_keys; INSERT INTO main.entry_keys SELECT * "
         "FROM old.entry_keys; COMMIT;",
         "log-rollback", {"log_head"});

  ProgramOutcome dirty = run_medseal({"monitor", "--data", data_, "--full", "--state", full_state});
  EXPECT_EQ(dirty.status, 1) << dirty.out;
  EXPECT_TRUE(has_alert(dirty.err, 0, "log-rollback", {})) << dirty.err;

  std::printf("[ tamper ] serve   p50 %.1f ms  p99 %.1f ms over %zu attacks\n",
              percentile(server_ms_, 0.5), percentile(server_ms_, 0.99), server_ms_.size());
  std::printf("[ tamper ] monitor p50 %.1f ms  p99 %.1f ms over %zu attacks\n",
              percentile(monitor_ms_, 0.5), percentile(monitor_ms_, 0.99), monitor_ms_.size());
}

}  // namespace
}  // namespace medseal::testing
