// The record service over a real ledger on each store (SQLite, PostgreSQL): every write and read is an entry
// before the method returns, authorization is enforced and recorded, bad input changes nothing.
#include "records/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "ledger/receipt.h"
#include "note/keys.h"
#include "support/fhir_data.h"
#include "support/ledger_check.h"
#include "support/paths.h"
#include "support/test_stores.h"
#include "util/bytes.h"

namespace medseal::records {
namespace {

using identity::Role;
using testing::read_file;
using testing::shared_dir;

Caller caller(Role role, std::string name, std::string patient = "") {
  return Caller{identity::Identity{std::move(name), role, std::move(patient)}, "TREAT"};
}

std::string patient_body(const std::string& id = "") {
  std::string body = R"({"resourceType":"Patient",)";
  if (!id.empty()) body += R"("id":")" + id + R"(",)";
  return body + R"("name":[{"family":"Tamm","given":["Mari"]}],"birthDate":"1980-01-01"})";
}

std::string observation_body(const std::string& patient_ref) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},)"
         R"("subject":{"reference":")" +
         patient_ref + R"("},"valueQuantity":{"value":72.50,"unit":"kg"}})";
}

class RecordServiceTest : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == testing::StoreKind::kPostgres && testing::test_pg_url().empty()) {
      GTEST_SKIP() << testing::kNoTestPg;
    }
    space_ = std::make_unique<testing::StoreSpace>(GetParam());
    auto store = space_->open();
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(*store);
    ledger::LedgerOptions options;
    options.batch_window = std::chrono::microseconds(500);
    auto l = ledger::Ledger::open(*store_, key_, options);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ledger_ = std::move(*l);
    service_ = std::make_unique<RecordService>(*ledger_, *store_, system_clock());
  }

  uint64_t size() const { return ledger_->head().size; }

  Statement statement_at(uint64_t index) {
    auto extra = store_->read_extra(index);
    EXPECT_TRUE(extra.is_ok()) << extra.status().to_string();
    if (!extra) return {};
    auto s = parse_statement(extra->statement);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return s ? *s : Statement{};
  }

  Written create_patient(const Caller& who) {
    uint64_t index = 0;
    auto w = service_->create(who, "Patient", patient_body(), &index);
    EXPECT_TRUE(w.is_ok()) << w.status().to_string();
    return w ? *w : Written{};
  }

  std::unique_ptr<testing::StoreSpace> space_;  // outlives the store
  note::SignerKey key_ = testing::test_log_key();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<RecordService> service_;
  Caller doctor_ = caller(Role::kClinician, "dr.kask");
};

TEST_P(RecordServiceTest, CreateWritesAVersionEntryThatCommitsToTheStoredBytes) {
  uint64_t index = UINT64_MAX;
  auto w = service_->create(doctor_, "Patient", patient_body(), &index);
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  EXPECT_TRUE(w->created);
  EXPECT_EQ(w->version.version, 1u);
  EXPECT_EQ(w->version.ledger_index, index);
  EXPECT_EQ(w->version.compartment, "Patient/" + w->version.id);
  EXPECT_NE(w->version.bytes.find(R"("id":")" + w->version.id + R"(")"), std::string::npos);

  auto stored = store_->read_record("Patient", w->version.id, 1);
  ASSERT_TRUE(stored.is_ok());
  EXPECT_EQ(stored->bytes, w->version.bytes);
  EXPECT_EQ(stored->ledger_index, index);

  const Statement s = statement_at(index);
  EXPECT_EQ(s.op, "create");
  EXPECT_EQ(s.who, "dr.kask");
  EXPECT_EQ(s.sha256, hex_encode(crypto::sha256(stored->bytes)));
  EXPECT_EQ(s.resources, std::vector<std::string>{"Patient/" + w->version.id + "/_history/1"});
  EXPECT_EQ(s.patients, std::vector<std::string>{"Patient/" + w->version.id});

  auto receipt = ledger_->receipt(index);
  ASSERT_TRUE(receipt.is_ok());
  auto verified = ledger::verify_receipt(*receipt, note::verifier_of(key_));
  ASSERT_TRUE(verified.is_ok()) << verified.status().to_string();
  EXPECT_EQ(verified->entry.kind, ledger::EntryKind::kRecordVersion);
}

// Server-assigned ids are version 7 UUIDs: a later create sorts after an earlier one (so the
// indexes keyed by id grow at their right edge), and the tails are random.
TEST_P(RecordServiceTest, ServerAssignedIdsAreTimeOrderedUuids) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    uint64_t index = 0;
    auto w = service_->create(doctor_, "Patient", patient_body(), &index);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    ids.push_back(w->version.id);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i].size(), 36u) << ids[i];
    EXPECT_EQ(ids[i][14], '7') << ids[i];
    EXPECT_NE(std::string("89ab").find(ids[i][19]), std::string::npos) << ids[i];
    if (i > 0) {
      EXPECT_LT(ids[i - 1], ids[i]);
      EXPECT_NE(ids[i - 1].substr(24), ids[i].substr(24));
    }
  }
}

TEST_P(RecordServiceTest, DecimalsAndKeyOrderComeBackExactly) {
  const std::string body = read_file(shared_dir() + "/data/fhir-r4-examples/Observation-decimal.json");
  uint64_t index = 0;
  auto w = service_->create(doctor_, "Observation", body, &index);
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  auto r = service_->read(doctor_, "Observation", w->version.id, 0, &index);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->bytes, w->version.bytes);
  EXPECT_NE(r->bytes.find("1E-22"), std::string::npos);
}

TEST_P(RecordServiceTest, EachReadAddsExactlyOneAccessEntry) {
  const Written p = create_patient(doctor_);
  for (int i = 0; i < 3; ++i) {
    const uint64_t before = size();
    uint64_t index = 0;
    auto r = service_->read(doctor_, "Patient", p.version.id, 0, &index);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(size(), before + 1);
    EXPECT_EQ(index, before);
    const Statement s = statement_at(index);
    EXPECT_EQ(s.op, "read");
    EXPECT_EQ(s.patients, std::vector<std::string>{"Patient/" + p.version.id});
  }
}

TEST_P(RecordServiceTest, UpdateChecksIfMatchAndCreatesNewIds) {
  const Written p = create_patient(doctor_);
  uint64_t index = 0;
  auto v2 = service_->update(doctor_, "Patient", p.version.id, patient_body(p.version.id), 1, &index);
  ASSERT_TRUE(v2.is_ok()) << v2.status().to_string();
  EXPECT_EQ(v2->version.version, 2u);
  EXPECT_FALSE(v2->created);

  const uint64_t before = size();
  auto stale = service_->update(doctor_, "Patient", p.version.id, patient_body(p.version.id), 1, &index);
  EXPECT_EQ(stale.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(size(), before);

  auto fresh = service_->update(doctor_, "Patient", "chosen-id", patient_body("chosen-id"), std::nullopt, &index);
  ASSERT_TRUE(fresh.is_ok());
  EXPECT_TRUE(fresh->created);
  EXPECT_EQ(fresh->version.version, 1u);

  auto mismatch = service_->update(doctor_, "Patient", "other-id", patient_body("chosen-id"), std::nullopt, &index);
  EXPECT_EQ(mismatch.status().code(), Code::kInvalidArgument);
}

TEST_P(RecordServiceTest, ExactlyOneConcurrentUpdateWinsEachVersion) {
  const Written p = create_patient(doctor_);
  constexpr int kWriters = 8;
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&] {
      uint64_t index = 0;
      auto r = service_->update(doctor_, "Patient", p.version.id, patient_body(p.version.id), 1, &index);
      if (r) {
        won++;
      } else {
        lost++;
        EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, kWriters - 1);

  threads.clear();
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&] {
      uint64_t index = 0;
      auto r = service_->update(doctor_, "Patient", p.version.id, patient_body(p.version.id), std::nullopt, &index);
      EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    });
  }
  for (auto& t : threads) t.join();
  uint64_t index = 0;
  auto history = service_->history(doctor_, "Patient", p.version.id, 0, 100, &index);
  ASSERT_TRUE(history.is_ok());
  EXPECT_EQ(history->total, uint64_t(2 + kWriters));
  for (size_t i = 0; i < history->records.size(); ++i) {
    EXPECT_EQ(history->records[i].version, uint64_t(history->records.size() - i));  // newest first
  }
}

TEST_P(RecordServiceTest, DeleteIsANewVersionAndHistoryShowsIt) {
  const Written p = create_patient(doctor_);
  uint64_t index = 0;
  auto d = service_->remove(doctor_, "Patient", p.version.id, std::nullopt, &index);
  ASSERT_TRUE(d.is_ok());
  EXPECT_TRUE(d->version.deleted);
  EXPECT_EQ(statement_at(index).op, "delete");
  auto r = service_->read(doctor_, "Patient", p.version.id, 0, &index);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->deleted);
  auto v1 = service_->read(doctor_, "Patient", p.version.id, 1, &index);
  ASSERT_TRUE(v1.is_ok());
  EXPECT_EQ(v1->bytes, p.version.bytes);
  auto missing = service_->remove(doctor_, "Patient", "never-written", std::nullopt, &index);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_P(RecordServiceTest, BadInputWritesNothing) {
  const uint64_t before = size();
  uint64_t index = UINT64_MAX;
  const std::pair<std::string, std::string> cases[] = {
      {"Patient", "{not json"},
      {"Patient", R"({"resourceType":"Observation","status":"final"})"},
      {"Patient", R"(["resourceType","Patient"])"},
      {"NoSuchType", R"({"resourceType":"NoSuchType"})"},
      {"Patient", R"({"resourceType":"Patient","id":"bad id"})"},
  };
  for (const auto& [type, body] : cases) {
    auto r = service_->create(doctor_, type, body, &index);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << body;
  }
  EXPECT_EQ(size(), before);
  EXPECT_EQ(index, UINT64_MAX);
}

TEST_P(RecordServiceTest, PatientsSeeOnlyTheirOwnCompartmentAndRefusalsAreRecorded) {
  const Written mine = create_patient(doctor_);
  const Written theirs = create_patient(doctor_);
  const Caller patient = caller(Role::kPatient, "mari", "Patient/" + mine.version.id);
  uint64_t index = 0;
  EXPECT_TRUE(service_->read(patient, "Patient", mine.version.id, 0, &index).is_ok());

  const uint64_t before = size();
  index = UINT64_MAX;
  auto denied = service_->read(patient, "Patient", theirs.version.id, 0, &index);
  EXPECT_EQ(denied.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(index, before);
  auto verified = ledger::verify_receipt(*ledger_->receipt(index), note::verifier_of(key_));
  ASSERT_TRUE(verified.is_ok());
  EXPECT_EQ(verified->entry.kind, ledger::EntryKind::kAccessDenied);

  auto write = service_->create(patient, "Patient", patient_body(), &index);
  EXPECT_EQ(write.status().code(), Code::kPermissionDenied);

  const Caller auditor = caller(Role::kAuditor, "audit.office");
  EXPECT_EQ(service_->read(auditor, "Patient", mine.version.id, 0, &index).status().code(),
            Code::kPermissionDenied);

  storage::RecordQuery everyone{"Patient"};
  EXPECT_EQ(service_->search(patient, {"Patient", {}, "Patient/" + theirs.version.id}, &index)
                .status()
                .code(),
            Code::kPermissionDenied);
  auto own = service_->search(patient, everyone, &index);
  ASSERT_TRUE(own.is_ok());
  ASSERT_EQ(own->records.size(), 1u);
  EXPECT_EQ(own->records[0].id, mine.version.id);
}

TEST_P(RecordServiceTest, TheAccessTrailShowsWhoSawAPatientsData) {
  const Written p = create_patient(doctor_);
  const std::string patient_ref = "Patient/" + p.version.id;
  uint64_t index = 0;
  auto obs = service_->create(doctor_, "Observation", observation_body(patient_ref), &index);
  ASSERT_TRUE(obs.is_ok());
  EXPECT_EQ(obs->version.compartment, patient_ref);
  const Caller nurse = caller(Role::kClinician, "nurse.tamm");
  // The nurse joins the patient's care team (policy.h): without it, reading is refused.
  EXPECT_EQ(service_->read(nurse, "Observation", obs->version.id, 0, &index).status().code(),
            Code::kPermissionDenied);
  const std::string team = R"({"resourceType":"CareTeam","status":"active","subject":{"reference":")" +
                           patient_ref + R"("},"participant":[{"member":{"reference":"Practitioner/nurse.tamm"}}]})";
  ASSERT_TRUE(service_->create(doctor_, "CareTeam", team, &index).is_ok());
  ASSERT_TRUE(service_->read(nurse, "Observation", obs->version.id, 0, &index).is_ok());
  const uint64_t read_index = index;
  ASSERT_TRUE(service_->search(nurse, {"Observation", {}, patient_ref}, &index).is_ok());
  const uint64_t search_index = index;

  const Caller patient = caller(Role::kPatient, "mari", patient_ref);
  auto trail = service_->access_trail(patient, patient_ref, 0, 100, &index);
  ASSERT_TRUE(trail.is_ok()) << trail.status().to_string();
  // create patient, create observation, denied read, care team, read, search (newest first)
  ASSERT_EQ(trail->size(), 6u);
  EXPECT_EQ((*trail)[0].index, search_index);
  EXPECT_EQ((*trail)[0].statement.op, "search");
  EXPECT_EQ((*trail)[1].index, read_index);
  EXPECT_EQ((*trail)[1].statement.who, "nurse.tamm");
  EXPECT_EQ((*trail)[1].entry.kind, ledger::EntryKind::kAccess);
  // The trail's entries are the ledger's: each leaf matches the public bundle.
  for (const TrailEntry& t : *trail) {
    auto v = ledger::verify_receipt(*ledger_->receipt(t.index), note::verifier_of(key_));
    ASSERT_TRUE(v.is_ok());
    EXPECT_EQ(v->entry.commitment, t.entry.commitment);
    EXPECT_EQ(v->entry.kind, t.entry.kind);
  }
  // Reading the trail is itself an access, found in the trail next time.
  auto again = service_->access_trail(patient, patient_ref, 0, 1, &index);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ((*again)[0].statement.op, "audit");

  EXPECT_EQ(service_->access_trail(nurse, patient_ref, 0, 10, &index).status().code(),
            Code::kPermissionDenied);
}

TEST_P(RecordServiceTest, ATransactionIsAllOrNothingAndRewritesReferences) {
  const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111",
     "resource":)" + patient_body() + R"(,"request":{"method":"POST","url":"Patient"}},
    {"fullUrl":"urn:uuid:22222222-2222-4222-8222-222222222222",
     "resource":)" + observation_body("urn:uuid:11111111-1111-4111-8111-111111111111") +
                             R"(,"request":{"method":"POST","url":"Observation"}}]})";
  uint64_t index = 0;
  auto written = service_->transaction(doctor_, bundle, &index);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  ASSERT_EQ(written->size(), 2u);
  const std::string patient_ref = "Patient/" + (*written)[0].version.id;
  EXPECT_EQ((*written)[1].version.compartment, patient_ref);
  EXPECT_NE((*written)[1].version.bytes.find(patient_ref), std::string::npos);
  EXPECT_EQ((*written)[1].version.ledger_index, index + 1);

  const uint64_t before = size();
  std::string broken = bundle;
  broken.replace(broken.find(R"("url":"Observation")"), 19, R"("url":"Patient")");
  EXPECT_EQ(service_->transaction(doctor_, broken, &index).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(size(), before);
}

TEST_P(RecordServiceTest, EveryVersionReceiptVerifiesAgainstTheResourceBytes) {
  const Written p = create_patient(doctor_);
  uint64_t index = 0;
  auto receipt = service_->version_receipt(doctor_, "Patient", p.version.id, 1, &index);
  ASSERT_TRUE(receipt.is_ok()) << receipt.status().to_string();
  auto v = ledger::verify_receipt(*receipt, note::verifier_of(key_));
  ASSERT_TRUE(v.is_ok());
  auto s = parse_statement(v->statement);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->sha256, hex_encode(crypto::sha256(p.version.bytes)));
  EXPECT_EQ(statement_at(index).op, "receipt");
}

TEST_P(RecordServiceTest, ErasureRemovesContentAndKeepsTheLedgerVerifiable) {
  const Written p = create_patient(doctor_);
  uint64_t index = 0;
  auto v2 = service_->update(doctor_, "Patient", p.version.id, patient_body(p.version.id), std::nullopt, &index);
  ASSERT_TRUE(v2.is_ok());
  const Written other = create_patient(doctor_);

  EXPECT_EQ(service_->erase(doctor_, "Patient", p.version.id, &index).status().code(),
            Code::kPermissionDenied);
  const Caller admin = caller(Role::kAdmin, "admin");
  auto erased = service_->erase(admin, "Patient", p.version.id, &index);
  ASSERT_TRUE(erased.is_ok()) << erased.status().to_string();
  EXPECT_EQ(*erased, (std::vector<uint64_t>{p.version.ledger_index, v2->version.ledger_index}));
  EXPECT_EQ(statement_at(index).erased, *erased);

  EXPECT_EQ(store_->read_record("Patient", p.version.id, 1).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->read_extra(p.version.ledger_index).status().code(), Code::kNotFound);
  EXPECT_EQ(ledger_->receipt(p.version.ledger_index).status().code(), Code::kNotFound);
  auto kept = ledger_->receipt(other.version.ledger_index);
  ASSERT_TRUE(kept.is_ok());
  EXPECT_TRUE(ledger::verify_receipt(*kept, note::verifier_of(key_)).is_ok());
  EXPECT_TRUE(testing::whole_log_verifies(*ledger_, note::verifier_of(key_)));
}

}  // namespace
}  // namespace medseal::records

namespace medseal::records {
namespace {


TEST_P(RecordServiceTest, EveryOfficialExampleRoundTrips) {
  const auto files = testing::fhir_examples();
  ASSERT_GE(files.size(), 200u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string body = read_file(file);
    const nlohmann::json original = nlohmann::json::parse(body);
    const std::string type = original.at("resourceType");
    uint64_t index = 0;
    auto w = service_->create(doctor_, type, body, &index);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    // Writing into the compartment of an unregistered patient is allowed ("new-patient");
    // reading it back needs a relation: the doctor registers the patient.
    const std::string& compartment = w->version.compartment;
    if (!compartment.empty() && store_->read_record("Patient", compartment.substr(8), 0).status().code() == Code::kNotFound) {
      ASSERT_TRUE(service_->update(doctor_, "Patient", compartment.substr(8), patient_body(compartment.substr(8)),
                                   std::nullopt, &index).is_ok());
    }
    auto r = service_->read(doctor_, type, w->version.id, 0, &index);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->bytes, w->version.bytes);
    const nlohmann::json back = nlohmann::json::parse(r->bytes);
    EXPECT_EQ(back.at("id"), w->version.id);
    EXPECT_EQ(back.at("meta").at("versionId"), "1");
    EXPECT_EQ(testing::without_server_fields(back), testing::without_server_fields(original));
  }
}

TEST_P(RecordServiceTest, EverySyntheaBundleLoadsAsATransaction) {
  const auto files = testing::synthea_bundles();
  ASSERT_EQ(files.size(), 40u);
  size_t resources = 0;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string bundle = read_file(file);
    const size_t entries = nlohmann::json::parse(bundle).at("entry").size();
    uint64_t index = 0;
    auto written = service_->transaction(doctor_, bundle, &index);
    ASSERT_TRUE(written.is_ok()) << written.status().to_string();
    ASSERT_EQ(written->size(), entries);
    resources += entries;
    for (const Written& w : *written) {
      EXPECT_EQ(w.version.bytes.find("urn:uuid:"), std::string::npos);
    }
    // One resource of each bundle read back through the service.
    const Written& last = written->back();
    auto r = service_->read(doctor_, last.version.type, last.version.id, 0, &index);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->bytes, last.version.bytes);
  }
  EXPECT_GT(resources, 8000u);
  EXPECT_TRUE(testing::whole_log_verifies(*ledger_, note::verifier_of(key_)));
}

INSTANTIATE_TEST_SUITE_P(BothStores, RecordServiceTest,
                         ::testing::ValuesIn(testing::all_store_kinds()), testing::StoreKindName());

}  // namespace
}  // namespace medseal::records
