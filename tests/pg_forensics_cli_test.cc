// `medseal forensics --store postgresql://...`: the forensic report of a server's PostgreSQL store,
// read from the command line as GET /forensics reads it. A clean store reports the accesses and
// exit 0; a record version changed by direct SQL is named with the hash the ledger committed and
// exit 1. Skipped without MEDSEAL_TEST_PG (support/test_stores.h).
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/acked_writes.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "support/test_stores.h"

namespace medseal::testing {
namespace {

class PgForensicsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test_pg_url().empty()) GTEST_SKIP() << kNoTestPg;
    space_ = std::make_unique<StoreSpace>(StoreKind::kPostgres);
  }

  // `medseal forensics --data DIR --store URL --json` and its exit status; the report in `report`.
  int forensics(nlohmann::json* report) {
    ProgramOutcome out = run_medseal({"forensics", "--data", data_, "--store", space_->location(), "--json"});
    *report = nlohmann::json::parse(out.out, nullptr, false);
    EXPECT_FALSE(report->is_discarded()) << out.out << out.err;
    return out.status;
  }

  TempDir dir_;
  std::string data_ = dir_.path() + "/data";
  std::unique_ptr<StoreSpace> space_;
};

TEST_F(PgForensicsCli, ReportsAccessesAndNamesARecordAlteredBySql) {
  ProgramOutcome key = run_medseal({"keygen", "--out", data_, "--origin", "forensics.example/medseal"});
  ASSERT_EQ(key.status, 0) << key.err;
  const httplib::Headers clinician = issue_bearer(data_, "clinician", "dr.forensics");
  Server server(data_, {"--store", space_->location()});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  httplib::Client http(server.base());
  int created = 0;
  eventually([&] {  // 503 until the node has taken the leadership
    auto res = http.Put("/fhir/Patient/pgf-1", clinician, R"({"resourceType":"Patient","id":"pgf-1"})",
                        "application/fhir+json");
    created = res ? res->status : 0;
    return created != 503;
  });
  ASSERT_EQ(created, 201);
  auto obs = http.Put("/fhir/Observation/pgf-obs", clinician,
                      observation_json("Patient/pgf-1", 0, 0, "pgf-obs"), "application/fhir+json");
  ASSERT_TRUE(obs && obs->status == 201) << (obs ? obs->body : "no answer");
  auto read = http.Get("/fhir/Observation/pgf-obs", clinician);  // an access entry
  ASSERT_TRUE(read && read->status == 200) << (read ? read->body : "no answer");

  nlohmann::json clean;
  ASSERT_EQ(forensics(&clean), 0) << clean.dump().substr(0, 500);
  EXPECT_EQ(clean["altered"].size(), 0u);
  bool listed = false;
  for (const nlohmann::json& a : clean["accesses"]) listed |= a.value("who", "") == "dr.forensics";
  EXPECT_TRUE(listed) << clean["accesses"].dump().substr(0, 500);

  space_->raw_exec("UPDATE record_versions SET bytes = overlay(bytes placing '\\x58'::bytea from 5 for 1) "
                   "WHERE type = 'Observation' AND id = 'pgf-obs'");
  nlohmann::json report;
  EXPECT_EQ(forensics(&report), 1);
  ASSERT_EQ(report["altered"].size(), 1u) << report["altered"].dump();
  EXPECT_EQ(report["altered"][0]["kind"], "content-mismatch");
  EXPECT_EQ(report["altered"][0]["resource"], "Observation/pgf-obs/_history/1");

  ProgramOutcome not_pg = run_medseal({"forensics", "--data", data_, "--store", dir_.path() + "/x.db"});
  EXPECT_EQ(not_pg.status, 2) << not_pg.err;
  EXPECT_NE(not_pg.err.find("postgresql://"), std::string::npos) << not_pg.err;
}

}  // namespace
}  // namespace medseal::testing
