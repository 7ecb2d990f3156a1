// Forensics and access anomalies end to end: a real `medseal serve` loaded with Synthea bundles,
// clinicians reading; the many-patients anomaly on GET /alerts; then a record byte flipped behind
// the server's back, and `medseal forensics` (and GET /forensics) must name it with the hash the
// ledger committed and the hash the store now holds, list what each identity read and who read
// each patient, and record the auditor's own reading of the report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "support/eventually.h"
#include "support/fhir_data.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "util/bytes.h"

namespace medseal::testing {
namespace {

struct RecordRow {
  uint64_t index = 0;
  std::string name;  // Type/id/_history/N
  std::string bytes;
};

std::vector<RecordRow> record_rows(const std::string& db_path, const std::string& type) {
  sqlite3* db = nullptr;
  std::vector<RecordRow> out;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  const std::string sql = "SELECT ledger_idx, type || '/' || id || '/_history/' || version, bytes "
                          "FROM record_versions WHERE type = ?1 ORDER BY ledger_idx";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_bind_text(q, 1, type.c_str(), -1, SQLITE_TRANSIENT);
  while (q != nullptr && sqlite3_step(q) == SQLITE_ROW) {
    const char* blob = static_cast<const char*>(sqlite3_column_blob(q, 2));
    out.push_back({static_cast<uint64_t>(sqlite3_column_int64(q, 0)),
                   reinterpret_cast<const char*>(sqlite3_column_text(q, 1)),
                   std::string(blob, static_cast<size_t>(sqlite3_column_bytes(q, 2)))});
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

// Flips the low bit of byte `at` of the record row at `index`, through a connection of our own.
// Returns the bytes now stored.
std::string flip_record_byte(const std::string& db_path, const RecordRow& row, size_t at) {
  std::string bytes = row.bytes;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "UPDATE record_versions SET bytes = ?1 WHERE ledger_idx = ?2", -1,
                               &q, nullptr), SQLITE_OK);
  sqlite3_bind_blob(q, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 2, static_cast<sqlite3_int64>(row.index));
  EXPECT_EQ(sqlite3_step(q), SQLITE_DONE) << sqlite3_errmsg(db);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return bytes;
}

std::string sha256_hex(const std::string& bytes) { return hex_encode(crypto::sha256(bytes)); }

std::string id_of(const std::string& versioned) {  // Patient/x/_history/1 -> Patient/x
  return versioned.substr(0, versioned.find("/_history"));
}

class Forensics : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    db_ = data_ + "/medseal.db";
    server_ = std::make_unique<Server>(data_, std::vector<std::string>{
                                                  "--anomaly-patients", "2", "--anomaly-window", "10m"});
    ASSERT_TRUE(server_->ready()) << server_->stderr_text();
    loader_ = issue("clinician", "dr.load");
    other_ = issue("clinician", "dr.other");
    auditor_ = issue("auditor", "aud.kim");
    client_ = std::make_unique<httplib::Client>(server_->base());
    client_->set_read_timeout(60);
    const std::vector<std::string> bundles = synthea_bundles();
    ASSERT_GE(bundles.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      auto res = client_->Post("/fhir", auth(loader_), read_file(bundles[i]), "application/fhir+json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body.substr(0, 300);
    }
    for (const RecordRow& r : record_rows(db_, "Patient")) patients_.push_back(id_of(r.name));
    ASSERT_EQ(patients_.size(), 3u);
  }

  std::string issue(const std::string& role, const std::string& name) {
    ProgramOutcome t = run_medseal({"token", "issue", "--data", data_, "--role", role, "--name", name});
    EXPECT_EQ(t.status, 0) << t.err;
    return t.out.substr(0, t.out.find('\n'));
  }

  static httplib::Headers auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  // The loader reads every patient (it registered them: allowed); the other clinician tries one.
  void read_patients() {
    for (const std::string& p : patients_) {
      auto r = client_->Get("/fhir/" + p, auth(loader_));
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body.substr(0, 200);
    }
    auto refused = client_->Get("/fhir/" + patients_[0], auth(other_));
    ASSERT_TRUE(refused);
    ASSERT_EQ(refused->status, 403);
  }

  // `medseal forensics --json` with `extra` flags: its exit status and parsed report.
  int forensics(std::vector<std::string> extra, nlohmann::json* report) {
    std::vector<std::string> args = {"forensics", "--data", data_, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    ProgramOutcome out = run_medseal(args);
    EXPECT_TRUE(out.status == 0 || out.status == 1) << out.status << " " << out.err;
    *report = nlohmann::json::parse(out.out, nullptr, false);
    EXPECT_FALSE(report->is_discarded()) << out.out.substr(0, 300) << out.err;
    return out.status;
  }

  bool has_alert(const std::string& rule, const std::string& who) {
    auto res = client_->Get("/alerts?limit=1000", auth(auditor_));
    if (!res || res->status != 200) return false;
    nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
    if (body.is_discarded()) return false;
    for (const nlohmann::json& a : body["alerts"]) {
      if (a["kind"] == "access-anomaly" && a["evidence"].value("rule", "") == rule &&
          a["evidence"].value("who", "") == who) {
        last_alert_ = a;
        return true;
      }
    }
    return false;
  }

  TempDir dir_;
  std::string data_, db_, loader_, other_, auditor_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::vector<std::string> patients_;
  nlohmann::json last_alert_;
};

TEST_F(Forensics, ManyPatientsAndOutsideACareRelationReachGetAlerts) {
  read_patients();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return has_alert("many-patients", "dr.load"); }, std::chrono::seconds(15)))
      << server_->stderr_text();
  std::printf("[ anomaly ] many-patients on GET /alerts after %.0f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  EXPECT_EQ(last_alert_["evidence"]["patients"], 3);
  EXPECT_EQ(last_alert_["resources"].size(), 3u);
  EXPECT_TRUE(eventually([&] { return has_alert("outside-care-relation", "dr.other"); },
                         std::chrono::seconds(15)));
  EXPECT_EQ(last_alert_["resources"], nlohmann::json::array({patients_[0]}));
}

TEST_F(Forensics, MonitorRaisesTheSameAnomaliesFromItsOwnProcess) {
  read_patients();
  // A monitor started afterwards with no state of its own looks at every entry once.
  const std::string err = dir_.path() + "/monitor.err";
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int out_fd = ::open("/dev/null", O_WRONLY);
  const pid_t pid = spawn_program({medseal_binary(), "monitor", "--data", data_, "--state",
                                   dir_.path() + "/monitor.state", "--anomaly-patients", "2"},
                                  "", out_fd, err_fd);
  ::close(err_fd);
  ::close(out_fd);
  ASSERT_GT(pid, 0);
  const bool seen = eventually([&] {
    const std::string text = read_file(err);
    return text.find("\"rule\":\"many-patients\"") != std::string::npos &&
           text.find("dr.load") != std::string::npos;
  }, std::chrono::seconds(15));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit_status(pid), 0);
  EXPECT_TRUE(seen) << read_file(err);
  ProgramOutcome bad = run_medseal({"monitor", "--data", data_, "--business-hours", "7-19"});
  EXPECT_EQ(bad.status, 2) << bad.err;
}

TEST_F(Forensics, NamesTheAlteredRecordWithCommittedAndFoundHashes) {
  read_patients();
  const std::string untouched_state = dir_.path() + "/never-written.state";
  nlohmann::json clean;
  EXPECT_EQ(forensics({"--state", untouched_state}, &clean), 0) << clean.dump().substr(0, 500);
  EXPECT_EQ(clean["altered"].size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(untouched_state)) << "forensics must not write state";

  const std::vector<RecordRow> obs = record_rows(db_, "Observation");
  ASSERT_GE(obs.size(), 3u);
  const RecordRow& victim = obs[1];
  // A legitimate erasure first: listed, but not an alteration (exit 0).
  const std::string admin = read_file(data_ + "/admin.token");
  const RecordRow& erased = obs[2];
  auto erase = client_->Post("/fhir/" + id_of(erased.name) + "/$erase",
                             auth(admin.substr(0, admin.find('\n'))), "", "application/fhir+json");
  ASSERT_TRUE(erase);
  ASSERT_EQ(erase->status, 200) << erase->body;
  nlohmann::json after_erasure;
  EXPECT_EQ(forensics({}, &after_erasure), 0) << after_erasure["altered"].dump();
  ASSERT_EQ(after_erasure["altered"].size(), 1u) << after_erasure["altered"].dump();
  EXPECT_EQ(after_erasure["altered"][0]["kind"], "erased");
  EXPECT_EQ(after_erasure["altered"][0]["index"], erased.index);
  EXPECT_EQ(after_erasure["altered"][0]["resource"], id_of(erased.name));
  EXPECT_TRUE(after_erasure["altered"][0]["found"].is_null());
  EXPECT_EQ(after_erasure["altered"][0]["committed"].get<std::string>().size(), 64u);

  const std::string now_stored = flip_record_byte(db_, victim, victim.bytes.size() / 2);

  nlohmann::json report;
  EXPECT_EQ(forensics({}, &report), 1);
  bool named = false;
  for (const nlohmann::json& a : report["altered"]) {
    if (a["index"] != victim.index) continue;
    named = true;
    EXPECT_EQ(a["kind"], "content-mismatch");
    EXPECT_EQ(a["resource"], victim.name);
    EXPECT_EQ(a["committed"], sha256_hex(victim.bytes));
    EXPECT_EQ(a["found"], sha256_hex(now_stored));
  }
  EXPECT_TRUE(named) << report["altered"].dump();
  for (const char* key : {"generated", "since", "until", "filter", "altered", "accesses", "patients", "identities"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  EXPECT_EQ(report["filter"], nlohmann::json::object());

  // A table on a terminal, with the same exit status.
  ProgramOutcome table = run_medseal({"forensics", "--data", data_});
  EXPECT_EQ(table.status, 1);
  EXPECT_NE(table.out.find(sha256_hex(now_stored)), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(victim.name), std::string::npos);
}

TEST_F(Forensics, ListsThePatientsAnIdentityTouchedAndWhoTouchedAPatient) {
  read_patients();
  nlohmann::json by_identity;
  forensics({"--identity", "dr.load"}, &by_identity);
  EXPECT_EQ(by_identity["filter"], nlohmann::json({{"identity", "dr.load"}}));
  std::vector<std::string> touched;
  for (const nlohmann::json& p : by_identity["patients"]) {
    touched.push_back(p["patient"]);
    EXPECT_GE(p["accesses"].get<int>(), 1);
  }
  std::sort(touched.begin(), touched.end());
  std::vector<std::string> expected = patients_;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(touched, expected);
  ASSERT_FALSE(by_identity["accesses"].empty());
  for (const nlohmann::json& a : by_identity["accesses"]) {
    EXPECT_EQ(a["who"], "dr.load");
    EXPECT_EQ(a["outcome"], "ok");
    EXPECT_EQ(a["purpose"], "TREAT");
  }

  nlohmann::json by_patient;
  forensics({"--patient", patients_[0]}, &by_patient);
  ASSERT_EQ(by_patient["identities"].size(), 1u) << by_patient.dump();
  EXPECT_EQ(by_patient["identities"][0]["who"], "dr.load");
  EXPECT_EQ(by_patient["identities"][0]["role"], "clinician");
  bool refusal_listed = false;
  for (const nlohmann::json& a : by_patient["accesses"]) {
    refusal_listed = refusal_listed || (a["who"] == "dr.other" && a["outcome"] == "denied" &&
                                        a["rule"] == "no-relation");
  }
  EXPECT_TRUE(refusal_listed) << by_patient["accesses"].dump();

  nlohmann::json future;
  forensics({"--since", "2999-01-01T00:00:00Z"}, &future);
  EXPECT_TRUE(future["accesses"].empty());
  EXPECT_EQ(future["since"], "2999-01-01T00:00:00.000Z");
  ProgramOutcome bad = run_medseal({"forensics", "--data", data_, "--since", "yesterday"});
  EXPECT_EQ(bad.status, 2) << bad.err;
  ProgramOutcome both = run_medseal({"forensics", "--data", data_, "--identity", "a", "--patient", patients_[0]});
  EXPECT_EQ(both.status, 2);
}

TEST_F(Forensics, HttpIsForAuditorsAndIsItselfRecorded) {
  read_patients();
  auto none = client_->Get("/forensics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto clinician = client_->Get("/forensics?identity=dr.load", auth(loader_));
  ASSERT_TRUE(clinician);
  EXPECT_EQ(clinician->status, 403);
  auto bad = client_->Get("/forensics?identity=dr.load&patient=" + patients_[0], auth(auditor_));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  auto res = client_->Get("/forensics?identity=dr.load", auth(auditor_));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  nlohmann::json report = nlohmann::json::parse(res->body);
  EXPECT_EQ(report["filter"], nlohmann::json({{"identity", "dr.load"}}));
  EXPECT_EQ(report["patients"].size(), 3u);
  EXPECT_TRUE(report["altered"].empty());

  // The auditor's reading is an access naming the patients the answer named; the clinician's
  // attempt an access-denied entry.
  nlohmann::json trail;
  forensics({"--identity", "aud.kim"}, &trail);
  bool recorded = false;
  for (const nlohmann::json& a : trail["accesses"]) {
    if (a["op"] != "forensics") continue;
    recorded = true;
    EXPECT_EQ(a["outcome"], "ok");
    EXPECT_EQ(a["resources"], nlohmann::json::array({"forensics?identity=dr.load"}));
    EXPECT_EQ(a["patients"].size(), 3u);
  }
  EXPECT_TRUE(recorded) << trail.dump();
  nlohmann::json refused;
  forensics({"--identity", "dr.load"}, &refused);
  bool denied = false;
  for (const nlohmann::json& a : refused["accesses"]) {
    denied = denied || (a["op"] == "forensics" && a["outcome"] == "denied");
  }
  EXPECT_TRUE(denied);
  // A patient's own trail shows that an auditor looked.
  auto audit = client_->Get("/fhir/AuditEvent?patient=" + patients_[1], auth(auditor_));
  ASSERT_TRUE(audit);
  EXPECT_NE(audit->body.find("forensics"), std::string::npos) << audit->body.substr(0, 500);
}

}  // namespace
}  // namespace medseal::testing
