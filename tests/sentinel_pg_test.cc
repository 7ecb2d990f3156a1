// The sentinel on PostgreSQL (issue 7 section 4): each attack done in SQL by another database role
// (one allowed to write the ledger's tables, nothing more) behind the back of a live ledger must
// raise the right alert kind naming the right ids within 15 s (latency printed), and steady load
// raises nothing. Needs MEDSEAL_TEST_PG (scripts/pg-test-cluster.sh run build/sentinel_pg_test).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "alerts/alert.h"
#include "ledger/ledger.h"
#include "records/service.h"
#include "sentinel/forensics.h"
#include "sentinel/integrity_page.h"
#include "sentinel/pg_store_view.h"
#include "sentinel/sentinel.h"
#include "storage/postgres/pg_conn.h"
#include "support/eventually.h"
#include "support/ledger_check.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/sentinel_alerts.h"
#include "support/serve_process.h"
#include "support/test_stores.h"
#include "util/clock.h"

namespace medseal::sentinel {
namespace {

using identity::Role;
using records::Caller;
using testing::StoreKind;
using testing::StoreSpace;

constexpr const char* kTables[] = {"log_head", "tiles", "entry_extras", "record_versions",
                                   "entry_keys"};

Caller caller(Role role, std::string name) { return testing::sentinel_caller(role, std::move(name)); }
using testing::has_index;
using testing::names;
using testing::observation_body;
using testing::patient_body;

// The foreign-write alert names the attacking role among the journalled transactions.
bool by_role(const alerts::Alert& a, const std::string& role) {
  if (!a.evidence.contains("transactions")) return false;
  for (const auto& t : a.evidence["transactions"]) {
    for (const auto& r : t["roles"]) {
      if (r == role) return true;
    }
  }
  return false;
}

// The test server's URL with another user and the store's schema.
std::string url_as(const std::string& user, const std::string& schema) {
  std::string url = testing::test_pg_url();
  const size_t scheme = url.find("://") + 3;
  const size_t at = url.find('@', scheme);
  url = url.substr(0, scheme) + user + (at == std::string::npos ? "@" : "") +
        url.substr(at == std::string::npos ? scheme : at);
  const char sep = url.find('?') == std::string::npos ? '?' : '&';
  return url + sep + "options=-csearch_path%3D" + schema;
}

class SentinelPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::test_pg_url().empty()) GTEST_SKIP() << testing::kNoTestPg;
    space_ = std::make_unique<StoreSpace>(StoreKind::kPostgres);
    auto store = space_->open();
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(*store);
    ledger::LedgerOptions options;
    options.batch_window = std::chrono::microseconds(500);
    auto l = ledger::Ledger::open(*store_, key_, options);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ledger_ = std::move(*l);
    service_ = std::make_unique<records::RecordService>(*ledger_, *store_, system_clock());
    load();
    options_.db_path = space_->location();
    options_.state_path = dir_.path() + "/sentinel.state";
    options_.vkey = note::verifier_of(key_);
    options_.poll = std::chrono::milliseconds(50);
    auto s = Sentinel::start(options_, sink_);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    sentinel_ = std::move(*s);
    ASSERT_TRUE(sink_.alerts().empty()) << alerts::to_json(sink_.alerts().front()).dump();
    make_attacker();
  }

  void TearDown() override {
    sentinel_.reset();
    service_.reset();
    ledger_.reset();
    store_.reset();
    if (!attacker_.empty()) {
      space_->raw_exec("DROP SCHEMA " + old_schema() + " CASCADE; DROP OWNED BY " + attacker_ +
                       "; DROP ROLE " + attacker_);
    }
  }

  // A login role that may read and write the ledger's tables (and the old copies): no owner, no
  // superuser, no right on the sentinel's journal.
  void make_attacker() {
    attacker_ = space_->schema() + "_attacker";
    std::string sql = "CREATE ROLE " + attacker_ + " LOGIN; GRANT USAGE ON SCHEMA " +
                      space_->schema() + ", " + old_schema() + " TO " + attacker_ + ";";
    for (const char* t : kTables) {
      sql += std::string("GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ") + t + " TO " +
             attacker_ + "; GRANT SELECT ON " + old_schema() + "." + t + " TO " + attacker_ + ";";
    }
    space_->raw_exec(sql);
  }

  std::string old_schema() const { return space_->schema() + "_old"; }

  // Runs SQL as the attacker, on a session of its own.
  void attack(const std::string& sql) {
    auto c = storage::postgres::Conn::connect(url_as(attacker_, space_->schema()));
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    Status s = (*c)->exec(sql.c_str(), "attack");
    ASSERT_TRUE(s) << s.to_string();
    attacked_ = std::chrono::steady_clock::now();
  }

  uint64_t write(const std::string& type, const std::string& body, std::string* name) {
    return testing::create_resource(*service_, clinician_, type, body, name, &patient_);
  }

  // Two patients (then a copy of every table: the "older dump"), an observation, an update, a
  // read.
  void load() {
    p1_index_ = write("Patient", patient_body(), &p1_);
    write("Patient", patient_body(), &p2_);
    old_size_ = store_->head()->size;
    std::string copy = "CREATE SCHEMA " + old_schema() + ";";
    for (const char* t : kTables) {
      copy += "CREATE TABLE " + old_schema() + "." + t + " AS SELECT * FROM " + t + ";";
    }
    space_->raw_exec(copy);
    obs_index_ = write("Observation", observation_body(patient_), &obs_);
    const std::string id = p1_.substr(8, p1_.find('/', 8) - 8);
    ASSERT_TRUE(service_->update(clinician_, "Patient", id, R"({"resourceType":"Patient","id":")" +
                                     id + R"(","name":[{"family":"Tamm"}]})", std::nullopt,
                                 &update_index_).is_ok());
    ASSERT_TRUE(service_->read(clinician_, "Patient", id, 0, &read_index_).is_ok());
  }

  // Waits for an alert of `kind` that `match` accepts; prints the latency from the attack's
  // commit and returns it in ms (-1 after the 15 s bound).
  double await(const std::string& kind, const std::function<bool(const alerts::Alert&)>& match) {
    return testing::await_alert(sink_, kind, match, std::chrono::seconds(15), attacked_);
  }

  testing::TempDir dir_;
  std::unique_ptr<StoreSpace> space_;
  note::SignerKey key_ = testing::test_log_key();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<records::RecordService> service_;
  Caller clinician_ = caller(Role::kClinician, "dr.house");
  std::string p1_, p2_, obs_, patient_, attacker_;
  uint64_t p1_index_ = 0, obs_index_ = 0, update_index_ = 0, read_index_ = 0, old_size_ = 0;
  std::chrono::steady_clock::time_point attacked_ = std::chrono::steady_clock::now();
  alerts::MemorySink sink_;
  SentinelOptions options_;
  std::unique_ptr<Sentinel> sentinel_;
};

TEST_F(SentinelPgTest, RecordBytesUpdated) {
  attack("UPDATE record_versions SET bytes = '\\x7b7d'::bytea WHERE ledger_idx = " +
         std::to_string(obs_index_));
  await("content-mismatch", [&](const alerts::Alert& a) {
    return names(a, obs_) && has_index(a, obs_index_) && a.evidence.contains("expected");
  });
  await("foreign-write", [&](const alerts::Alert& a) { return names(a, obs_) && by_role(a, attacker_); });
}

TEST_F(SentinelPgTest, StatementUpdated) {
  // Byte 40 of the first run is inside the first statement (after flags, salt and length).
  attack("UPDATE entry_extras SET data = overlay(data placing '\\x77'::bytea from 40 for 1) "
         "WHERE first_idx = 0");
  await("content-mismatch", [&](const alerts::Alert& a) { return has_index(a, 0) && names(a, p1_); });
}

TEST_F(SentinelPgTest, RowDeleted) {
  attack("DELETE FROM record_versions WHERE ledger_idx = " + std::to_string(p1_index_));
  await("missing-row", [&](const alerts::Alert& a) { return names(a, p1_) && has_index(a, p1_index_); });
  await("foreign-write", [&](const alerts::Alert& a) { return by_role(a, attacker_); });
}

TEST_F(SentinelPgTest, RowInsertedWithoutEntry) {
  attack("INSERT INTO record_versions VALUES (" + std::to_string(read_index_) +
         ", 'Patient', 'forged', 1, 0, 0, '', 0, '\\x7b7d'::bytea)");
  await("unexpected-row", [&](const alerts::Alert& a) {
    return names(a, "Patient/forged/_history/1") && has_index(a, read_index_);
  });
}

TEST_F(SentinelPgTest, AccessTrailTruncated) {
  attack("TRUNCATE entry_keys");
  await("missing-row", [&](const alerts::Alert& a) { return names(a, patient_) && has_index(a, read_index_); });
  await("foreign-write", [&](const alerts::Alert& a) { return by_role(a, attacker_); });
}

TEST_F(SentinelPgTest, RecordsTruncated) {
  attack("TRUNCATE record_versions");
  await("missing-row", [&](const alerts::Alert& a) { return names(a, obs_) && names(a, p1_); });
}

// The older copy of every table restored over the live ones (a data-only restore of an earlier
// dump) in one transaction.
TEST_F(SentinelPgTest, OlderCopyRestored) {
  std::string sql = "BEGIN; TRUNCATE log_head, tiles, entry_extras, record_versions, entry_keys;";
  for (const char* t : kTables) {
    sql += std::string("INSERT INTO ") + t + " SELECT * FROM " + old_schema() + "." + t + ";";
  }
  attack(sql + "COMMIT;");
  await("log-rollback", [&](const alerts::Alert& a) {
    return has_index(a, obs_index_) && a.evidence.value("found_size", 0u) == old_size_;
  });
}

// pg_dump of the store, then pg_restore --clean by the tables' owner: every table dropped and
// re-created (new oids, the watch triggers restored from the dump or reinstalled).
TEST_F(SentinelPgTest, DumpRestoredByOwner) {
  const std::string dump = dir_.path() + "/old.dump";
  const std::string base = testing::test_pg_url();
  std::string tables;
  for (const char* t : kTables) tables += std::string(" -t ") + space_->schema() + "." + t;
  const std::string take = "pg_dump -Fc -f " + dump + tables + " '" + base + "'";
  // The dump is taken at the current size; the log then grows, and the restore rolls it back.
  ASSERT_EQ(std::system(take.c_str()), 0) << take;
  const uint64_t dumped = store_->head()->size;
  std::string name;
  const uint64_t passes = sentinel_->full_passes();
  const uint64_t later = write("Observation", observation_body(patient_), &name);
  // A pass begun after the write ends after the sentinel took it in: the restore then rolls back.
  ASSERT_TRUE(testing::eventually([&] { return sentinel_->full_passes() >= passes + 2; },
                                  std::chrono::seconds(10)));
  // In one transaction, as a careful attacker would: no half-restored state to see.
  const std::string restore = "pg_restore --clean --single-transaction -d '" + base + "' " + dump;
  ASSERT_EQ(std::system(restore.c_str()), 0) << restore;
  attacked_ = std::chrono::steady_clock::now();
  await("log-rollback", [&](const alerts::Alert& a) {
    return has_index(a, later) && a.evidence.value("found_size", 0u) == dumped;
  });
  await("foreign-write", [&](const alerts::Alert& a) { return a.evidence.contains("layout"); });
}

// A superuser can skip the watch triggers: the journal sees nothing, the rolling full pass still
// names the change (within one pass).
TEST_F(SentinelPgTest, SuperuserSkippingTriggersIsFoundByTheRollingPass) {
  space_->raw_exec("SET session_replication_role = replica; UPDATE record_versions SET bytes = "
                   "'\\x7b7d'::bytea WHERE ledger_idx = " + std::to_string(obs_index_));
  attacked_ = std::chrono::steady_clock::now();
  await("content-mismatch", [&](const alerts::Alert& a) { return names(a, obs_) && has_index(a, obs_index_); });
  for (const alerts::Alert& a : sink_.alerts()) EXPECT_NE(a.kind, "foreign-write");
}

TEST_F(SentinelPgTest, ForeignWriteAmongServerCommitsIsCalledForeign) {
  std::atomic<bool> done{false};
  std::thread load([&] {
    while (!done) {
      std::string name;
      write("Observation", observation_body(patient_), &name);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Verifies (the ledger does not commit to `latest`): only the journal can call it foreign.
  attack("UPDATE record_versions SET latest = 1 - latest WHERE ledger_idx = " +
         std::to_string(p1_index_));
  EXPECT_GE(await("foreign-write", [&](const alerts::Alert& a) { return by_role(a, attacker_); }), 0);
  done = true;
  load.join();
  for (const alerts::Alert& a : sink_.alerts()) EXPECT_EQ(a.kind, "foreign-write");
}

TEST_F(SentinelPgTest, SteadyLoadRaisesNothing) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  int writes = 0;
  while (std::chrono::steady_clock::now() < until) {
    std::string name;
    write("Observation", observation_body(patient_), &name);
    auto r = service_->read(clinician_, "Patient", patient_.substr(8), 0, nullptr);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    writes += 2;
  }
  const uint64_t passes = sentinel_->full_passes();
  // The rolling full pass keeps going under load (the start's pass is the first).
  EXPECT_GE(passes, 2u);
  ASSERT_TRUE(testing::eventually([&] { return sentinel_->full_passes() >= passes + 1; },
                                  std::chrono::seconds(10)));
  std::printf("[ load ] %d entries in 4 s, %llu full passes during it, %zu alerts\n", writes,
              static_cast<unsigned long long>(passes), sink_.alerts().size());
  EXPECT_TRUE(sink_.alerts().empty()) << alerts::to_json(sink_.alerts().front()).dump();
}

// A monitor under a role that may only read (SELECT on the tables and the journal the first
// sentinel installed) sees the attack too.
TEST_F(SentinelPgTest, AReadOnlyRoleMonitors) {
  const std::string reader = space_->schema() + "_reader";
  space_->raw_exec("CREATE ROLE " + reader + " LOGIN; GRANT USAGE ON SCHEMA " + space_->schema() +
                   " TO " + reader + "; GRANT SELECT ON ALL TABLES IN SCHEMA " +
                   space_->schema() + " TO " + reader);
  {
    SentinelOptions o = options_;
    o.db_path = url_as(reader, space_->schema());
    o.state_path = dir_.path() + "/reader.state";
    alerts::MemorySink seen;
    auto monitor = Sentinel::start(o, seen);
    ASSERT_TRUE(monitor.is_ok()) << monitor.status().to_string();
    attack("DELETE FROM entry_keys WHERE idx = " + std::to_string(read_index_));
    EXPECT_GE(testing::await_alert(seen, "missing-row",
                                   [&](const alerts::Alert& a) { return has_index(a, read_index_); },
                                   std::chrono::seconds(15), attacked_), 0);
    EXPECT_GE(testing::await_alert(seen, "foreign-write",
                                   [&](const alerts::Alert& a) { return by_role(a, attacker_); },
                                   std::chrono::seconds(15), attacked_), 0);
  }
  space_->raw_exec("DROP OWNED BY " + reader + "; DROP ROLE " + reader);
}

// Forensics and the statements page read the PostgreSQL store through the same view.
TEST_F(SentinelPgTest, ForensicsAndStatementsPageRead) {
  attack("UPDATE record_versions SET bytes = '\\x7b7d'::bytea WHERE ledger_idx = " +
         std::to_string(obs_index_));
  Result<ForensicsReport> report = build_forensics(options_, ForensicsQuery{}, 0);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  bool altered = false;
  for (const AlteredRow& a : report->altered) altered = altered || a.index == obs_index_;
  EXPECT_TRUE(altered);
  EXPECT_FALSE(report->accesses.empty());
  auto view = open_sentinel_view(space_->location());
  ASSERT_TRUE(view.is_ok()) << view.status().to_string();
  Result<std::string> page = read_integrity_page(**view, 0, 10);
  ASSERT_TRUE(page.is_ok()) << page.status().to_string();
  Result<IntegrityPage> parsed = parse_integrity_page(*page);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->records.size(), 4u);
}

}  // namespace
}  // namespace medseal::sentinel

namespace medseal::sentinel {
namespace {

// The programs: `serve --store postgresql://...` runs the sentinel by default, and
// `monitor --store ... --data DIR --full` verifies the store from another process.
TEST(SentinelPgProgramTest, ServeAndMonitorWatchThePostgresStore) {
  if (testing::test_pg_url().empty()) GTEST_SKIP() << testing::kNoTestPg;
  StoreSpace space(StoreKind::kPostgres);
  testing::TempDir tmp;
  const std::string data = tmp.path() + "/data", input = tmp.path() + "/stdin";
  {
    std::ofstream out(input);
    for (int i = 0; i < 50; ++i) out << R"({"event":"test","n":)" << i << "}\n";
  }
  testing::ProgramOutcome appended =
      testing::run_medseal({"log", "append", "--data", data, "--store", space.location()}, input);
  ASSERT_EQ(appended.status, 0) << appended.err;
  const std::vector<std::string> monitor = {"monitor", "--data", data, "--store", space.location(),
                                            "--full", "--state", tmp.path() + "/monitor.state"};
  testing::ProgramOutcome clean = testing::run_medseal(monitor);
  EXPECT_EQ(clean.status, 0) << clean.err;

  testing::Server server(data, {"--store", space.location()});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  EXPECT_EQ(server.stderr_text().find("not started"), std::string::npos) << server.stderr_text();
  const auto start = std::chrono::steady_clock::now();
  space.raw_exec("UPDATE entry_extras SET data = overlay(data placing '\\x77'::bytea from 40 for 1) "
                 "WHERE first_idx = 0");
  EXPECT_TRUE(server.wait_for_stderr("\"foreign-write\"", 15)) << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr("\"content-mismatch\"", 15)) << server.stderr_text();
  std::printf("[ latency ] serve: %.1f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  testing::ProgramOutcome tampered = testing::run_medseal(monitor);
  EXPECT_NE(tampered.status, 0);
  EXPECT_NE(tampered.err.find("content-mismatch"), std::string::npos) << tampered.err;
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace medseal::sentinel
