// The remote monitor end to end (issue 6 section 1, `medseal monitor --url`): a real
// `medseal serve --no-sentinel` loaded with Synthea patients, GET /ledger/statements as each role
// sees it, and a real `medseal monitor --url` process with an auditor token. Attacks go through
// the sqlite3 library on the store file behind the server's back (bytes are flipped, never set);
// the right alert kind naming the right ids must reach the monitor's stderr within kBound seconds
// (latencies printed). A busy, untouched server must raise no alert at all.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sentinel/integrity_page.h"
#include "support/alert_lines.h"
#include "support/fhir_data.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/raw_sqlite.h"
#include "support/serve_process.h"

namespace medseal::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kBound = 15;  // seconds; generous for sanitizer builds on a shared machine

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_for(const std::function<bool()>& done, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// The first column of each row `sql` returns, as text, read through a connection of our own.
std::vector<std::string> query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (q != nullptr && sqlite3_step(q) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

// SQL that changes byte `at` (1-based) of blob column `column` to another value, whatever it was.
std::string flip_byte(const std::string& column, int at) {
  const std::string a = std::to_string(at);
  return "substr(" + column + ", 1, " + std::to_string(at - 1) + ") || CASE WHEN substr(" + column +
         ", " + a + ", 1) = X'41' THEN X'42' ELSE X'41' END || substr(" + column + ", " +
         std::to_string(at + 1) + ")";
}

// `medseal monitor --url` with its stderr in a file; stopped with SIGTERM at the end.
class RemoteMonitorProcess {
 public:
  RemoteMonitorProcess(std::vector<std::string> args, const std::string& err, bool append)
      : err_(err) {
    args.insert(args.begin(), {medseal_binary(), "monitor"});
    int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
    int out = ::open("/dev/null", O_WRONLY);
    pid_ = spawn_program(args, "", out, fd);
    ::close(fd);
    ::close(out);
  }
  ~RemoteMonitorProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      wait_exit_status(pid_);
    }
  }
  std::string stderr_text() const { return slurp(err_); }

 private:
  std::string err_;
  pid_t pid_ = -1;
};

class RemoteMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ready()) << server_.stderr_text();
    clinician_ = issue("clinician", "dr.remote");
    auditor_ = issue("auditor", "audit.remote");
    client_.set_read_timeout(60);
    const std::vector<std::string> bundles = synthea_bundles();
    ASSERT_GE(bundles.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      auto res = client_.Post("/fhir", bearer(clinician_), slurp(bundles[i]), "application/fhir+json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body.substr(0, 300);
      if (i == 0) {
        first_checkpoint_ = client_.Get("/log/checkpoint")->body;
        raw_exec(db_, "VACUUM INTO '" + dir_.path() + "/old.db'");  // a backup, for a rollback
      }
    }
    family_ = first_family_name(bundles[0]);
  }

  std::string issue(const std::string& role, const std::string& name) {
    ProgramOutcome t = run_medseal({"token", "issue", "--data", data_, "--role", role, "--name", name});
    EXPECT_EQ(t.status, 0) << t.err;
    return t.out.substr(0, t.out.find('\n'));
  }

  static httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  static std::string first_family_name(const std::string& bundle_path) {
    const nlohmann::json bundle = nlohmann::json::parse(slurp(bundle_path));
    for (const nlohmann::json& e : bundle["entry"]) {
      const nlohmann::json& r = e["resource"];
      if (r["resourceType"] == "Patient") return r["name"][0]["family"].get<std::string>();
    }
    return "";
  }

  // The size line of the checkpoint after the first bundle.
  std::string first_size() const {
    const size_t line = first_checkpoint_.find('\n') + 1;
    return first_checkpoint_.substr(line, first_checkpoint_.find('\n', line) - line);
  }

  uint64_t log_size() {
    const std::string cp = client_.Get("/log/checkpoint")->body;
    return std::stoull(cp.substr(cp.find('\n') + 1));
  }

  std::unique_ptr<RemoteMonitorProcess> start_monitor(std::string url = "") {
    const std::string token_file = dir_.path() + "/auditor.token";
    std::ofstream(token_file) << auditor_ << "\n";
    return std::make_unique<RemoteMonitorProcess>(
        std::vector<std::string>{"--url", url.empty() ? server_.base() : url, "--vkey", data_ + "/log.vkey", "--token-file",
                                 token_file, "--state", dir_.path() + "/state", "--poll-ms", "50",
                                 "--recheck-ms", "100"},
        dir_.path() + "/monitor.err", /*append=*/true);
  }

  // The monitor's cursor, from its state file (0 before the first save).
  uint64_t monitor_checked() const {
    const std::string text = slurp(dir_.path() + "/state/monitor.json");
    if (text.empty()) return 0;
    return nlohmann::json::parse(text)["checked"].get<uint64_t>();
  }

  // Runs `sql` on the store and waits for the monitor's alert of `kind` naming `ids`.
  void attack(const std::string& what, const std::string& sql, const std::string& kind,
              const std::vector<std::string>& ids) {
    const size_t from = monitor_->stderr_text().size();
    const auto start = Clock::now();
    raw_exec(db_, sql);
    const bool seen = wait_for([&] { return has_alert(monitor_->stderr_text(), from, kind, ids); }, kBound);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::printf("[ remote ] %-24s %-17s %8.1f ms\n", what.c_str(), kind.c_str(), ms);
    EXPECT_TRUE(seen) << what << ": no " << kind << " alert naming the ids:\n"
                      << monitor_->stderr_text().substr(from) << "server:\n"
                      << server_.stderr_text().substr(std::max<size_t>(server_.stderr_text().size(), 3000) - 3000);
  }

  TempDir dir_;
  std::string data_ = dir_.path() + "/data";
  std::string db_ = data_ + "/medseal.db";
  Server server_{data_, {"--no-sentinel"}};
  httplib::Client client_{server_.base()};
  std::string clinician_, auditor_, first_checkpoint_, family_;
  std::unique_ptr<RemoteMonitorProcess> monitor_;
};

TEST_F(RemoteMonitorTest, StatementsPagesAreForAuditorsAndHoldNoContent) {
  auto get = [&](const std::string& query, const std::string& token) {
    return client_.Get("/ledger/statements" + query, token.empty() ? httplib::Headers{} : bearer(token));
  };
  auto anonymous = get("?from=0&count=5", "");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto clinician = get("?from=0&count=5", clinician_);
  ASSERT_TRUE(clinician);
  EXPECT_EQ(clinician->status, 403) << clinician->body;
  EXPECT_TRUE(clinician->has_header("X-Medseal-Ledger-Index")) << "a refusal is recorded";
  for (const char* bad : {"", "?from=0", "?count=5", "?from=01&count=5", "?from=0&count=0",
                          "?from=0&count=1001", "?from=0&count=5&x=1", "?from=0&from=1&count=5",
                          "?from=-1&count=5", "?from=0&count=5x"}) {
    auto r = get(bad, auditor_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
    EXPECT_FALSE(r->has_header("X-Medseal-Ledger-Index")) << bad << ": bad input writes nothing";
  }

  const uint64_t size = log_size();
  ASSERT_GT(size, 200u) << "two Synthea bundles fill several pages";
  auto whole = get("?from=0&count=1000", auditor_);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200);
  auto most = sentinel::parse_integrity_page(whole->body);
  ASSERT_TRUE(most) << most.status().to_string();
  EXPECT_EQ(most->to, std::min<uint64_t>(1000, most->head.size));
  uint64_t from = 0, pages = 0;
  while (from < size) {
    auto r = get("?from=" + std::to_string(from) + "&count=100", auditor_);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body.substr(0, 300);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const uint64_t own = std::stoull(r->get_header_value("X-Medseal-Ledger-Index"));
    auto page = sentinel::parse_integrity_page(r->body);
    ASSERT_TRUE(page) << page.status().to_string();
    EXPECT_EQ(page->from, from);
    EXPECT_LE(page->to - page->from, 100u);
    EXPECT_GT(page->to, page->from);
    EXPECT_GT(page->head.size, own) << "the page is read after its own access entry";
    EXPECT_FALSE(page->records.empty());
    ASSERT_FALSE(family_.empty());
    EXPECT_EQ(r->body.find(family_), std::string::npos) << "a patient's name is in a statements page";
    for (const sentinel::PageEntry& e : page->entries) {
      EXPECT_EQ(e.state, sentinel::PageEntry::State::kPresent) << e.index;
    }
    from = page->to;
    ++pages;
  }
  EXPECT_GE(pages, 2u);
  // Beyond the log: an empty page, not an error.
  auto beyond = get("?from=" + std::to_string(size + 100000) + "&count=10", auditor_);
  ASSERT_TRUE(beyond);
  ASSERT_EQ(beyond->status, 200);
  auto empty = sentinel::parse_integrity_page(beyond->body);
  ASSERT_TRUE(empty) << empty.status().to_string();
  EXPECT_TRUE(empty->entries.empty());

  // Each call is one access entry naming no patient: the patient's trail does not grow.
  const std::string patient = query(db_, "SELECT 'Patient/' || id FROM record_versions WHERE type = 'Patient' LIMIT 1")[0];
  const size_t keys_before = query(db_, "SELECT idx FROM entry_keys WHERE key = '" + patient + "'").size();
  ASSERT_EQ(get("?from=0&count=10", auditor_)->status, 200);
  EXPECT_EQ(query(db_, "SELECT idx FROM entry_keys WHERE key = '" + patient + "'").size(), keys_before);
}

TEST_F(RemoteMonitorTest, NamesEachAttackAndStaysQuietUnderLoad) {
  const uint64_t loaded = log_size();
  monitor_ = start_monitor();
  ASSERT_TRUE(wait_for([&] { return monitor_checked() >= loaded; }, kBound)) << monitor_->stderr_text();

  // Busy and untouched: clinician reads for a few seconds, no alert at all.
  const std::string patient =
      query(db_, "SELECT 'Patient/' || id FROM record_versions WHERE type = 'Patient' LIMIT 1")[0];
  const auto soak_end = Clock::now() + std::chrono::seconds(4);
  int reads = 0;
  while (Clock::now() < soak_end) {
    auto r = client_.Get("/fhir/" + patient, bearer(clinician_));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    ++reads;
  }
  // An erasure (a legal duty) deletes salts, statements and bytes: gaps the monitor must accept.
  const std::string admin = slurp(data_ + "/admin.token").substr(0, slurp(data_ + "/admin.token").find('\n'));
  const std::string erased = query(db_, "SELECT type || '/' || id FROM record_versions "
                                        "WHERE type = 'Observation' ORDER BY ledger_idx DESC LIMIT 1")[0];
  auto erase = client_.Post("/fhir/" + erased + "/$erase", bearer(admin), "", "application/fhir+json");
  ASSERT_TRUE(erase);
  ASSERT_EQ(erase->status, 200) << erase->body;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client_.Get("/fhir/" + patient, bearer(clinician_))->status, 200);
  const uint64_t busy = log_size();
  ASSERT_TRUE(wait_for([&] { return monitor_checked() >= busy; }, kBound)) << monitor_->stderr_text();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // rolling re-checks over the gaps
  std::printf("[ remote ] soak: %d reads, an erasure, log %llu -> %llu entries, all checked\n", reads,
              static_cast<unsigned long long>(loaded), static_cast<unsigned long long>(busy));
  EXPECT_EQ(alert_count(monitor_->stderr_text()), 0u) << monitor_->stderr_text();

  const std::vector<std::string> obs = query(
      db_, "SELECT ledger_idx FROM record_versions WHERE type = 'Observation' ORDER BY ledger_idx");
  ASSERT_GE(obs.size(), 3u);
  auto name_at = [&](const std::string& index) {
    return query(db_, "SELECT type || '/' || id || '/_history/' || version FROM record_versions "
                      "WHERE ledger_idx = " + index)[0];
  };
  const std::string changed = obs[1], deleted_row = obs[2];
  attack("record bytes changed",
         "UPDATE record_versions SET bytes = " + flip_byte("bytes", 20) + " WHERE ledger_idx = " + changed,
         "content-mismatch", {name_at(changed), "\"indexes\":[" + changed + "]"});
  const std::string deleted_name = name_at(deleted_row);
  attack("record row deleted", "DELETE FROM record_versions WHERE ledger_idx = " + deleted_row,
         "missing-row", {deleted_name, "\"indexes\":[" + deleted_row + "]"});
  // The first entry of the run holding entry 0: flags, salt (32), length (4), then the statement.
  attack("statement changed",
         "UPDATE entry_extras SET data = " + flip_byte("data", 1 + 32 + 4 + 12) + " WHERE first_idx = 0",
         "content-mismatch", {"\"indexes\":[0]", "statement or salt changed"});
  const std::vector<std::string> runs =
      query(db_, "SELECT first_idx FROM entry_extras WHERE first_idx > 0 ORDER BY first_idx");
  ASSERT_GE(runs.size(), 2u);
  const std::string run = runs[runs.size() / 2];
  attack("statement deleted", "DELETE FROM entry_extras WHERE first_idx = " + run, "missing-entry",
         {"\"indexes\":[" + run});
  // The store's head set back to the checkpoint after the first bundle, as a restored backup would.
  std::string hex;
  for (unsigned char ch : first_checkpoint_) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", ch);
    hex += b;
  }
  const std::string old_size = first_size();
  // Seen either in a statements page (the store's head, "found_size") or, once the server reloads
  // its head from the store, on the public log by the mirror ("size A -> B", "size").
  attack("log truncated", "UPDATE log_head SET size = " + old_size + ", checkpoint = X'" + hex + "'",
         "log-rollback", {"size\":" + old_size});
}

TEST_F(RemoteMonitorTest, ResumesAfterARestartAndCatchesARollbackMadeWhileStopped) {
  const uint64_t loaded = log_size();
  monitor_ = start_monitor();
  ASSERT_TRUE(wait_for([&] { return monitor_checked() >= loaded; }, kBound)) << monitor_->stderr_text();
  monitor_.reset();
  const uint64_t checked = monitor_checked();

  // A restart resumes from the state directory: nothing to report, the cursor never goes back.
  monitor_ = start_monitor();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client_.Get("/fhir/metadata")->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_GE(monitor_checked(), checked);
  EXPECT_EQ(alert_count(monitor_->stderr_text()), 0u) << monitor_->stderr_text();
  monitor_.reset();

  // While the monitor is stopped, the server is restarted on a backup from before the second
  // bundle: the monitor's next start must see the log go back.
  ASSERT_EQ(server_.stop(), 0);
  for (const char* suffix : {"-wal", "-shm"}) ::unlink((db_ + suffix).c_str());
  ASSERT_EQ(::rename((dir_.path() + "/old.db").c_str(), db_.c_str()), 0);
  Server restored(data_, {"--no-sentinel"});
  ASSERT_TRUE(restored.ready()) << restored.stderr_text();
  const size_t from = slurp(dir_.path() + "/monitor.err").size();
  const auto start = Clock::now();
  monitor_ = start_monitor(restored.base());
  const std::string old_size = first_size();
  const bool seen = wait_for([&] {
    return has_alert(monitor_->stderr_text(), from, "log-rollback", {"size\":" + old_size});
  }, kBound);
  std::printf("[ remote ] %-24s %-17s %8.1f ms\n", "rollback while stopped", "log-rollback",
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  EXPECT_TRUE(seen) << monitor_->stderr_text().substr(from);
}

}  // namespace
}  // namespace medseal::testing
