// Authorization (records/policy.h): role x owner of the data x care relation / consent / block /
// break-glass x operation, each cell asserting the status and the ledger entry (kind and rule)
// that records the decision; then relation expiry, blocks, break-glass alerts and new patients.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>

#include "alerts/alert.h"
#include "ledger/receipt.h"
#include "note/keys.h"
#include "records/service.h"
#include "support/manual_clock.h"
#include "support/ledger_check.h"
#include "support/memory_store.h"

namespace medseal::records {
namespace {

using identity::Role;
using ledger::EntryKind;

constexpr uint64_t kJan2024 = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr uint64_t kDay = 24ULL * 3600 * 1000;
constexpr std::string_view kPatient = "Patient/pat";

Caller caller(Role role, std::string name, std::string patient = "", std::string break_glass = "") {
  return Caller{identity::Identity{std::move(name), role, std::move(patient)}, "TREAT",
                std::move(break_glass)};
}

std::string observation(std::string_view patient) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":")" +
         std::string(patient) + R"("}})";
}

std::string encounter(std::string_view patient, std::string_view practitioner, std::string_view period) {
  return R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":")" +
         std::string(patient) + R"("},"participant":[{"individual":{"reference":")" + std::string(practitioner) +
         R"("}}])" + (period.empty() ? "" : R"(,"period":)" + std::string(period)) + "}";
}

std::string care_team(std::string_view patient, std::string_view member, std::string_view status) {
  return R"({"resourceType":"CareTeam","status":")" + std::string(status) + R"(","subject":{"reference":")" +
         std::string(patient) + R"("},"participant":[{"member":{"reference":")" + std::string(member) + R"("}}]})";
}

// A Consent of the patient: "permit" grants `actor` access, "deny" blocks it.
std::string consent(std::string_view patient, std::string_view type, std::string_view actor) {
  return R"({"resourceType":"Consent","status":"active","scope":{"text":"patient-privacy"},"category":[{"text":"access"}],)"
         R"("patient":{"reference":")" + std::string(patient) + R"("},"provision":{"type":")" + std::string(type) +
         R"(","actor":[{"role":{"text":"access"},"reference":{"reference":")" + std::string(actor) + R"("}}]}})";
}

class AuthzTest : public ::testing::Test {
 protected:
  // The authorization logic does not depend on the store: the memory store keeps this fast.
  void SetUp() override {
    auto l = ledger::Ledger::open(store_, key_, {.batch_window = std::chrono::microseconds(100)});
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ledger_ = std::move(*l);
    open_service();
  }

  void open_service() {
    RecordOptions options;
    options.alerts = &alerts_;
    service_ = std::make_unique<RecordService>(*ledger_, store_, clock_, options);
  }

  // Writes `body` as `who` and returns the id; the test fails if it is refused.
  std::string write(const Caller& who, const std::string& type, const std::string& body) {
    auto w = service_->create(who, type, body, nullptr);
    EXPECT_TRUE(w.is_ok()) << w.status().to_string();
    return w ? w->version.id : "";
  }

  void register_patient(const Caller& who, std::string_view id) {
    auto w = service_->update(who, "Patient", id,
                              R"({"resourceType":"Patient","id":")" + std::string(id) + R"("})",
                              std::nullopt, nullptr);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  }

  // The kind and statement of ledger entry `index`, from a verified receipt.
  std::pair<EntryKind, Statement> entry_at(uint64_t index) {
    auto receipt = ledger_->receipt(index);
    EXPECT_TRUE(receipt.is_ok()) << receipt.status().to_string();
    if (!receipt) return {};
    auto v = ledger::verify_receipt(*receipt, note::verifier_of(key_));
    EXPECT_TRUE(v.is_ok());
    if (!v) return {};
    auto s = parse_statement(v->statement);
    EXPECT_TRUE(s.is_ok()) << v->statement;
    return {v->entry.kind, s ? *s : Statement{}};
  }

  size_t break_glass_alerts() const {
    size_t n = 0;
    for (const alerts::Alert& a : alerts_.alerts()) n += a.kind == "break-glass";
    return n;
  }

  note::SignerKey key_ = testing::test_log_key();
  testing::ManualClock clock_{kJan2024};
  alerts::MemorySink alerts_;
  testing::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<RecordService> service_;
  const Caller registrar_ = caller(Role::kClinician, "dr.reg");
  const Caller patient_ = caller(Role::kPatient, "pat", std::string(kPatient));
};

// --- the matrix

enum class Op { kRead, kSearch, kWrite, kHistory, kReceipt, kTrail };
constexpr Op kOps[] = {Op::kRead, Op::kSearch, Op::kWrite, Op::kHistory, Op::kReceipt, Op::kTrail};

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kRead: return "read";
    case Op::kSearch: return "search";
    case Op::kWrite: return "create";
    case Op::kHistory: return "history";
    case Op::kReceipt: return "receipt";
    case Op::kTrail: return "audit";
  }
  return "";
}

// A caller and what policy.h says it gets: the rule for reading the patient's records (read,
// search, history, receipt), for writing there, and for the access trail. Rules are the expected
// statement "rule"; `*_ok` whether it is allowed.
struct Scenario {
  std::string label;
  Caller who;
  std::string read_rule;
  bool read_ok;
  std::string write_rule;
  bool write_ok;
  std::string receipt_rule;
  bool receipt_ok;
  std::string trail_rule;
  bool trail_ok;
};

std::vector<Scenario> scenarios() {
  const std::string bg = "unconscious in the emergency room";
  auto clinician = [](std::string label, std::string name, std::string rule, bool ok, std::string glass = "") {
    return Scenario{label, caller(Role::kClinician, std::move(name), "", std::move(glass)), rule, ok, rule, ok,
                    rule, ok, "role", false};
  };
  return {
      {"own patient", caller(Role::kPatient, "pat", "Patient/pat"), "own-compartment", true, "role", false,
       "own-compartment", true, "own-compartment", true},
      {"other patient", caller(Role::kPatient, "oth", "Patient/oth"), "other-compartment", false,
       "other-compartment", false, "other-compartment", false, "role", false},
      clinician("care relation (encounter)", "dr.care", "care-relation", true),
      clinician("care relation (care team of the organisation)", "dr.team@north", "care-relation", true),
      clinician("consent", "dr.consent", "consent", true),
      clinician("no relation", "dr.none", "no-relation", false),
      clinician("blocked despite care relation", "dr.blocked", "blocked", false),
      clinician("organisation blocked", "dr.any@south", "blocked", false),
      clinician("break-glass", "dr.none", "break-glass", true, bg),
      clinician("break-glass over a block", "dr.blocked", "break-glass", true, bg),
      clinician("break-glass with a relation needs none", "dr.care", "care-relation", true, bg),
      {"auditor", caller(Role::kAuditor, "aud"), "no-clinical-content", false, "no-clinical-content", false,
       "auditor", true, "auditor", true},
      {"auditor with consent", caller(Role::kAuditor, "aud.granted"), "consent", true, "no-clinical-content", false,
       "auditor", true, "auditor", true},
      {"admin", caller(Role::kAdmin, "admin"), "no-clinical-content", false, "no-clinical-content", false,
       "no-clinical-content", false, "role", false},
  };
}

TEST_F(AuthzTest, EveryRoleRelationAndOperationIsDecidedAndRecorded) {
  register_patient(registrar_, "pat");
  register_patient(registrar_, "oth");
  const std::string obs = write(registrar_, "Observation", observation(kPatient));
  write(registrar_, "Encounter", encounter(kPatient, "Practitioner/dr.care", ""));
  write(registrar_, "CareTeam", care_team(kPatient, "Organization/north", "active"));
  write(registrar_, "CareTeam", care_team(kPatient, "Practitioner/dr.blocked", "active"));
  write(patient_, "Consent", consent(kPatient, "permit", "Practitioner/dr.consent"));
  write(patient_, "Consent", consent(kPatient, "permit", "Practitioner/aud.granted"));
  write(patient_, "Consent", consent(kPatient, "deny", "Practitioner/dr.blocked"));
  write(patient_, "Consent", consent(kPatient, "deny", "Organization/south"));
  clock_.set(kJan2024 + 2 * kDay);  // dr.reg's registration window has passed; nothing else

  size_t cells = 0;
  for (const Scenario& sc : scenarios()) {
    for (Op op : kOps) {
      SCOPED_TRACE(sc.label + " / " + std::string(op_name(op)));
      const size_t alerts_before = break_glass_alerts();
      uint64_t index = UINT64_MAX;
      Status status = Status::ok();
      switch (op) {
        case Op::kRead: status = service_->read(sc.who, "Observation", obs, 0, &index).status(); break;
        case Op::kSearch:
          status = service_->search(sc.who, {"Observation", {}, std::string(kPatient)}, &index).status();
          break;
        case Op::kWrite:
          status = service_->create(sc.who, "Observation", observation(kPatient), &index).status();
          break;
        case Op::kHistory: status = service_->history(sc.who, "Observation", obs, 0, 10, &index).status(); break;
        case Op::kReceipt:
          status = service_->version_receipt(sc.who, "Observation", obs, 1, &index).status();
          break;
        case Op::kTrail: status = service_->access_trail(sc.who, kPatient, 0, 10, &index).status(); break;
      }
      const bool write = op == Op::kWrite;
      const std::string& rule = write ? sc.write_rule
                                : op == Op::kReceipt ? sc.receipt_rule
                                : op == Op::kTrail   ? sc.trail_rule
                                                     : sc.read_rule;
      const bool ok = write ? sc.write_ok : op == Op::kReceipt ? sc.receipt_ok : op == Op::kTrail ? sc.trail_ok : sc.read_ok;
      EXPECT_EQ(status.code(), ok ? Code::kOk : Code::kPermissionDenied) << status.to_string();
      ASSERT_NE(index, UINT64_MAX) << "no ledger entry";
      auto [kind, s] = entry_at(index);
      EXPECT_EQ(kind, !ok ? EntryKind::kAccessDenied : write ? EntryKind::kRecordVersion : EntryKind::kAccess);
      EXPECT_EQ(s.rule, rule);
      EXPECT_EQ(s.who, sc.who.who.name);
      EXPECT_EQ(s.op, op_name(op));
      // Attempts show in the patient's trail as well as reads.
      EXPECT_NE(std::find(s.patients.begin(), s.patients.end(), kPatient), s.patients.end());
      const bool glass = ok && rule == "break-glass";
      EXPECT_EQ(s.reason.empty(), ok && !glass);
      if (glass) {
        EXPECT_EQ(s.reason, sc.who.break_glass);
      }
      EXPECT_EQ(break_glass_alerts(), alerts_before + (glass ? 1 : 0));
      ++cells;
    }
  }
  EXPECT_EQ(cells, scenarios().size() * std::size(kOps));
}

// --- focused rules

TEST_F(AuthzTest, AnEncounterIsACareRelationUntilItsFollowUpEnds) {
  register_patient(registrar_, "pat");
  const std::string obs = write(registrar_, "Observation", observation(kPatient));
  const std::string enc = write(registrar_, "Encounter",
      encounter(kPatient, "Practitioner/dr.care", R"({"start":"2024-01-01T08:00:00Z","end":"2024-01-01T09:00:00+00:00"})"));
  const Caller doctor = caller(Role::kClinician, "dr.care");
  uint64_t index = 0;
  const uint64_t end = kJan2024 + 9 * 3600 * 1000;
  const uint64_t follow_up = RelationOptions{}.follow_up_ms;
  clock_.set(kJan2024 + 7 * 3600 * 1000);  // before the encounter
  EXPECT_EQ(service_->read(doctor, "Observation", obs, 0, &index).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(entry_at(index).second.rule, "no-relation");
  clock_.set(end + follow_up);  // the end second is inclusive
  ASSERT_TRUE(service_->read(doctor, "Observation", obs, 0, &index).is_ok());
  EXPECT_EQ(entry_at(index).second.rule, "care-relation");
  clock_.set(end + follow_up + 1000);
  EXPECT_EQ(service_->read(doctor, "Observation", obs, 0, &index).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(entry_at(index).second.rule, "no-relation");

  // Entered in error: no relation at all, also within its period.
  clock_.set(end);
  ASSERT_TRUE(service_->update(registrar_, "Encounter", enc,
      R"({"resourceType":"Encounter","id":")" + enc + R"(","status":"entered-in-error","class":{"code":"AMB"},"subject":{"reference":"Patient/pat"},"participant":[{"individual":{"reference":"Practitioner/dr.care"}}]})",
      std::nullopt, nullptr).is_ok());
  EXPECT_EQ(service_->read(doctor, "Observation", obs, 0, &index).status().code(), Code::kPermissionDenied);
}

TEST_F(AuthzTest, ACareTeamCountsWhileActiveAndARestartKeepsRelationsAndBlocks) {
  register_patient(registrar_, "pat");
  const std::string obs = write(registrar_, "Observation", observation(kPatient));
  const std::string team = write(registrar_, "CareTeam", care_team(kPatient, "Practitioner/dr.a", "active"));
  const Caller a = caller(Role::kClinician, "dr.a");
  const Caller b = caller(Role::kClinician, "dr.b@clinic");
  write(registrar_, "CareTeam", care_team(kPatient, "Practitioner/dr.b", "active"));
  const std::string block = write(patient_, "Consent", consent(kPatient, "deny", "Organization/clinic"));
  clock_.set(kJan2024 + 30 * kDay);

  // The relation index is rebuilt from the store.
  service_.reset();
  open_service();
  uint64_t index = 0;
  EXPECT_TRUE(service_->read(a, "Observation", obs, 0, &index).is_ok());
  EXPECT_EQ(service_->read(b, "Observation", obs, 0, &index).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(entry_at(index).second.rule, "blocked");

  // The patient lifts the block; the team is closed.
  ASSERT_TRUE(service_->remove(patient_, "Consent", block, std::nullopt, nullptr).is_ok());
  EXPECT_TRUE(service_->read(b, "Observation", obs, 0, &index).is_ok());
  ASSERT_TRUE(service_->update(a, "CareTeam", team,
      R"({"resourceType":"CareTeam","id":")" + team + R"(","status":"inactive","subject":{"reference":"Patient/pat"},"participant":[{"member":{"reference":"Practitioner/dr.a"}}]})",
      std::nullopt, nullptr).is_ok());
  EXPECT_EQ(service_->read(a, "Observation", obs, 0, &index).status().code(), Code::kPermissionDenied);

  // A patient writes Consents only, in their own compartment only.
  EXPECT_EQ(service_->create(patient_, "Observation", observation(kPatient), &index).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(service_->create(patient_, "Consent", consent("Patient/oth", "deny", "Practitioner/dr.a"), &index)
                .status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(entry_at(index).second.rule, "other-compartment");
}

TEST_F(AuthzTest, BreakGlassRaisesOneAlertPerRequestWithTheReasonInTheLedgerOnly) {
  register_patient(registrar_, "pat");
  const std::string obs = write(registrar_, "Observation", observation(kPatient));
  clock_.set(kJan2024 + 2 * kDay);
  const std::string reason = "anaphylaxis, patient cannot consent";
  const Caller bg = caller(Role::kClinician, "dr.er", "", reason);
  uint64_t index = 0;
  ASSERT_TRUE(service_->read(bg, "Observation", obs, 0, &index).is_ok());
  ASSERT_EQ(break_glass_alerts(), 1u);
  const alerts::Alert alert = alerts_.alerts().back();
  EXPECT_EQ(alert.severity, alerts::Severity::kCritical);
  EXPECT_EQ(alert.indexes, std::vector<uint64_t>{index});
  EXPECT_EQ(alert.resources, std::vector<std::string>{std::string(kPatient)});
  EXPECT_FALSE(alert.evidence.contains("reason")) << "free text stays out of alerts";
  EXPECT_EQ(alert.summary.find(reason), std::string::npos);
  EXPECT_EQ(alert.evidence["who"], "dr.er");
  EXPECT_EQ(entry_at(index).second.reason, reason);

  // A transaction writing three entries under break-glass: three entries, one alert.
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"resource":)" + observation(kPatient) + R"(,"request":{"method":"POST","url":"Observation"}},)"
      R"({"resource":)" + observation(kPatient) + R"(,"request":{"method":"POST","url":"Observation"}},)"
      R"({"resource":)" + observation(kPatient) + R"(,"request":{"method":"POST","url":"Observation"}}]})";
  auto written = service_->transaction(bg, bundle, &index);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  ASSERT_EQ(break_glass_alerts(), 2u);
  EXPECT_EQ(alerts_.alerts().back().indexes, (std::vector<uint64_t>{index, index + 1, index + 2}));
  for (uint64_t i = index; i < index + 3; ++i) EXPECT_EQ(entry_at(i).second.rule, "break-glass");

  // Without a reason it is a refusal that tells how to break the glass, and no alert.
  auto refused = service_->read(caller(Role::kClinician, "dr.er"), "Observation", obs, 0, &index);
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("X-Medseal-Break-Glass"), std::string::npos);
  EXPECT_EQ(break_glass_alerts(), 2u);
  // Break-glass is per patient: a type-wide search does not break it.
  EXPECT_EQ(service_->search(bg, {"Observation"}, &index).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(break_glass_alerts(), 2u);
}

TEST_F(AuthzTest, ANewPatientsBundleNeedsNoRelationAndRegistersTheWriterForAWhile) {
  const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient"},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":)" + observation("urn:uuid:11111111-1111-4111-8111-111111111111") +
                             R"(,"request":{"method":"POST","url":"Observation"}}]})";
  const Caller ingest = caller(Role::kClinician, "synthea.loader");
  uint64_t index = 0;
  auto written = service_->transaction(ingest, bundle, &index);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  EXPECT_EQ(entry_at(index).second.rule, "new-patient");
  EXPECT_EQ(entry_at(index + 1).second.rule, "new-patient");
  const std::string obs = (*written)[1].version.id;
  ASSERT_TRUE(service_->read(ingest, "Observation", obs, 0, &index).is_ok());
  EXPECT_EQ(entry_at(index).second.rule, "registration");
  // Another clinician's bundle for the now registered patient is refused as a whole.
  const std::string patient = (*written)[0].version.compartment;
  const std::string more = R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
                           observation(patient) + R"(,"request":{"method":"POST","url":"Observation"}}]})";
  const uint64_t before = ledger_->head().size;
  EXPECT_EQ(service_->transaction(caller(Role::kClinician, "dr.other"), more, &index).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(ledger_->head().size, before + 1);  // the refusal only
  EXPECT_EQ(entry_at(index).second.rule, "no-relation");
  clock_.set(kJan2024 + RelationOptions{}.registration_window_ms + 1);
  EXPECT_EQ(service_->read(ingest, "Observation", obs, 0, &index).status().code(), Code::kPermissionDenied);
}

TEST(FhirTime, DatesDateTimesAndInstants) {
  EXPECT_EQ(parse_fhir_time("2024", false), kJan2024);
  EXPECT_EQ(parse_fhir_time("2023", true), kJan2024);
  EXPECT_EQ(parse_fhir_time("2023-12", true), kJan2024);
  EXPECT_EQ(parse_fhir_time("2023-12-31", true), kJan2024);
  EXPECT_EQ(parse_fhir_time("2024-01-01T02:00:00+02:00", false), kJan2024);
  EXPECT_EQ(parse_fhir_time("2023-12-31T23:00:00.123-01:00", false), kJan2024);
  for (const char* bad : {"", "24", "2024-13", "2024-01-01T", "2024-01-01T10:00", "2024-01-01 10:00:00Z", "1969"}) {
    EXPECT_FALSE(parse_fhir_time(bad, false)) << bad;
  }
}

}  // namespace
}  // namespace medseal::records
