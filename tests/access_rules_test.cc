// Access anomalies (sentinel/access_rules.h): each rule with hand-made statements and entry times
// (thresholds, sliding windows, coalescing, no purposes or reasons in what an alert says), and
// through a real sentinel over a real store: a restart raises nothing it raised before.
#include "sentinel/access_rules.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "sentinel/sentinel.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/record_stack.h"

namespace medseal::sentinel {
namespace {

constexpr uint64_t kMinute = 60'000;
// 2026-11-27T12:00:00Z: noon UTC.
constexpr uint64_t kNoonUtc = 1'795'780'800'000;

records::Statement access(const std::string& who, std::vector<std::string> patients,
                          const std::string& op = "read") {
  records::Statement s;
  s.op = op;
  s.who = who;
  s.role = "clinician";
  s.purpose = "SECRET-PURPOSE";
  s.rule = "care-relation";
  for (const std::string& p : patients) s.resources.push_back(p + "/_history/1");
  s.patients = std::move(patients);
  return s;
}

records::Statement refused(const std::string& who, const std::string& patient,
                           const std::string& rule = "no-relation", const std::string& op = "read") {
  records::Statement s = access(who, {patient}, op);
  s.denied = true;
  s.rule = rule;
  s.reason = "SECRET-REASON";
  return s;
}

std::vector<std::string> patients(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back("Patient/p" + std::to_string(i));
  return out;
}

std::vector<alerts::Alert> with_rule(const alerts::MemorySink& sink, const std::string& rule) {
  std::vector<alerts::Alert> out;
  for (const alerts::Alert& a : sink.alerts()) {
    if (a.kind == "access-anomaly" && a.evidence.value("rule", "") == rule) out.push_back(a);
  }
  return out;
}

// Business hours that never end: only many-patients and outside-care-relation can fire.
AccessRuleOptions no_after_hours() {
  AccessRuleOptions o;
  o.bulk_resources = 0;
  o.bulk_patients = 0;
  return o;
}

// TZ for one test, restored after it.
class LocalTime {
 public:
  explicit LocalTime(const char* tz) {
    const char* old = getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~LocalTime() {
    if (had_) {
      setenv("TZ", old_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST(AccessRules, ManyPatientsFiresOnceAboveTheThresholdWithinTheWindow) {
  alerts::MemorySink sink;
  AccessRuleOptions o = no_after_hours();
  o.max_patients = 5;
  o.window_ms = 10 * kMinute;
  AccessRules rules(o, sink);
  uint64_t index = 100;
  for (const std::string& p : patients(0, 5)) rules.observe(index++, kNoonUtc, access("dr.x", {p}));
  rules.observe(index++, kNoonUtc + 1000, access("dr.x", {"Patient/p0"}));  // a repeat is not new
  EXPECT_TRUE(with_rule(sink, "many-patients").empty()) << "5 patients is not more than 5";
  rules.observe(index++, kNoonUtc + 2000, access("dr.x", {"Patient/p5"}));
  std::vector<alerts::Alert> fired = with_rule(sink, "many-patients");
  ASSERT_EQ(fired.size(), 1u);
  const alerts::Alert& a = fired[0];
  EXPECT_EQ(a.severity, alerts::Severity::kCritical);
  EXPECT_EQ(a.evidence["who"], "dr.x");
  EXPECT_EQ(a.evidence["patients"], 6);
  EXPECT_EQ(a.resources.size(), 6u);
  EXPECT_EQ(a.indexes.size(), 7u);
  EXPECT_EQ(a.indexes.front(), 100u);
  EXPECT_NE(a.summary.find("dr.x touched 6 distinct patients"), std::string::npos) << a.summary;
  // More of the same within the window: still one alert.
  for (const std::string& p : patients(6, 20)) rules.observe(index++, kNoonUtc + 3000, access("dr.x", {p}));
  EXPECT_EQ(with_rule(sink, "many-patients").size(), 1u);
  // Another identity has a window of its own.
  for (const std::string& p : patients(0, 5)) rules.observe(index++, kNoonUtc + 4000, access("dr.y", {p}));
  EXPECT_EQ(with_rule(sink, "many-patients").size(), 1u);
  // A window later, still reading many: a second alert.
  for (const std::string& p : patients(20, 27)) {
    rules.observe(index++, kNoonUtc + 2000 + 10 * kMinute, access("dr.x", {p}));
  }
  EXPECT_EQ(with_rule(sink, "many-patients").size(), 2u);
}

TEST(AccessRules, ManyPatientsCountsEverySearchHitAndNamesAtMostTheListedNumber) {
  alerts::MemorySink sink;
  AccessRuleOptions o = no_after_hours();
  o.max_patients = 50;
  o.listed_patients = 20;
  AccessRules rules(o, sink);
  rules.observe(7, kNoonUtc, access("dr.search", patients(0, 51), "search"));
  std::vector<alerts::Alert> fired = with_rule(sink, "many-patients");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].evidence["patients"], 51);
  EXPECT_EQ(fired[0].resources.size(), 20u);
  EXPECT_EQ(fired[0].indexes, std::vector<uint64_t>{7});
}

TEST(AccessRules, ManyPatientsSlidesPatientsOutOfTheWindow) {
  alerts::MemorySink sink;
  AccessRuleOptions o = no_after_hours();
  o.max_patients = 3;
  o.window_ms = kMinute;
  AccessRules rules(o, sink);
  // Four patients, each two minutes apart: never more than one in any window.
  for (int i = 0; i < 8; ++i) {
    rules.observe(i, kNoonUtc + i * 2 * kMinute, access("dr.slow", {"Patient/p" + std::to_string(i)}));
  }
  EXPECT_TRUE(with_rule(sink, "many-patients").empty());
  // Zero turns the rule off.
  alerts::MemorySink off_sink;
  o.max_patients = 0;
  AccessRules off(o, off_sink);
  off.observe(1, kNoonUtc, access("dr.x", patients(0, 500), "search"));
  EXPECT_TRUE(off_sink.alerts().empty());
}

TEST(AccessRules, RefusedReadsOutsideACareRelationAreCoalescedPerIdentityAndPatient) {
  alerts::MemorySink sink;
  AccessRuleOptions o = no_after_hours();
  o.window_ms = 10 * kMinute;
  AccessRules rules(o, sink);
  rules.observe(1, kNoonUtc, refused("dr.curious", "Patient/a"));
  rules.observe(2, kNoonUtc + 1000, refused("dr.curious", "Patient/a", "no-relation", "vread"));
  rules.observe(3, kNoonUtc + 2000, refused("dr.curious", "Patient/b", "blocked"));
  rules.observe(4, kNoonUtc + 3000, refused("dr.other", "Patient/a"));
  // Not reads outside a relation: another rule, a refused write, another role.
  rules.observe(5, kNoonUtc + 4000, refused("dr.curious", "Patient/c", "role"));
  rules.observe(6, kNoonUtc + 4000, refused("dr.curious", "Patient/c", "no-relation", "update"));
  records::Statement auditor = refused("aud", "Patient/c");
  auditor.role = "auditor";
  rules.observe(7, kNoonUtc + 4000, auditor);
  std::vector<alerts::Alert> fired = with_rule(sink, "outside-care-relation");
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0].resources, std::vector<std::string>{"Patient/a"});
  EXPECT_EQ(fired[0].indexes, std::vector<uint64_t>{1});
  EXPECT_EQ(fired[0].severity, alerts::Severity::kWarning);
  EXPECT_EQ(fired[1].resources, std::vector<std::string>{"Patient/b"});
  EXPECT_EQ(fired[1].evidence["decided_by"], "blocked");
  EXPECT_EQ(fired[2].evidence["who"], "dr.other");
  // A window later the same pair alerts again.
  rules.observe(8, kNoonUtc + 10 * kMinute, refused("dr.curious", "Patient/a"));
  EXPECT_EQ(with_rule(sink, "outside-care-relation").size(), 4u);
}

TEST(AccessRules, BulkReadsAlertOnlyOutsideBusinessHoursInLocalTime) {
  LocalTime utc("UTC");
  alerts::MemorySink sink;
  AccessRuleOptions o;
  o.max_patients = 0;
  o.bulk_resources = 100;
  o.bulk_patients = 20;
  o.business_start = 9;
  o.business_end = 17;
  AccessRules rules(o, sink);
  records::Statement big = access("dr.bulk", patients(0, 20), "search");
  records::Statement small = access("dr.bulk", patients(0, 19), "search");
  rules.observe(1, kNoonUtc, big);                          // 12:00, inside
  rules.observe(2, kNoonUtc + 8 * 60 * kMinute, small);     // 20:00, too small
  EXPECT_TRUE(with_rule(sink, "after-hours-export").empty());
  rules.observe(3, kNoonUtc + 8 * 60 * kMinute, big);       // 20:00, 20 patients
  records::Statement many_resources = access("dr.bulk", {"Patient/p1"}, "history");
  many_resources.resources.assign(100, "Observation/o/_history/1");
  rules.observe(4, kNoonUtc - 6 * 60 * kMinute, many_resources);  // 06:00, 100 resources
  std::vector<alerts::Alert> fired = with_rule(sink, "after-hours-export");
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].indexes, std::vector<uint64_t>{3});
  EXPECT_EQ(fired[0].evidence["patients"], 20);
  EXPECT_EQ(fired[1].evidence["resources"], 100);
  {
    // The same instant is business hours in another zone: 20:00 UTC is 15:00 in New York.
    LocalTime new_york("America/New_York");
    alerts::MemorySink ny_sink;
    AccessRules ny(o, ny_sink);
    ny.observe(3, kNoonUtc + 8 * 60 * kMinute, big);
    EXPECT_TRUE(ny_sink.alerts().empty());
  }
  // 00-00: always after hours.
  alerts::MemorySink always_sink;
  o.business_start = o.business_end = 0;
  AccessRules always(o, always_sink);
  always.observe(1, kNoonUtc, big);
  EXPECT_EQ(with_rule(always_sink, "after-hours-export").size(), 1u);
}

TEST(AccessRules, BusinessHoursMayWrapMidnight) {
  LocalTime utc("UTC");
  alerts::MemorySink sink;
  AccessRuleOptions o;
  o.max_patients = 0;
  ASSERT_TRUE(parse_business_hours("22-06", &o.business_start, &o.business_end));
  AccessRules rules(o, sink);
  records::Statement big = access("dr.night", patients(0, 25), "search");
  rules.observe(1, kNoonUtc + 11 * 60 * kMinute, big);  // 23:00: a night shift's hours
  EXPECT_TRUE(sink.alerts().empty());
  rules.observe(2, kNoonUtc, big);                      // 12:00: outside them
  EXPECT_EQ(sink.alerts().size(), 1u);
}

TEST(AccessRules, ParsesBusinessHoursStrictly) {
  int start = -1, end = -1;
  EXPECT_TRUE(parse_business_hours("07-19", &start, &end));
  EXPECT_EQ(start, 7);
  EXPECT_EQ(end, 19);
  EXPECT_TRUE(parse_business_hours("00-00", &start, &end));
  EXPECT_EQ(start, end);
  for (const char* bad : {"7-19", "07-24", "07:19", "07-19 ", "", "aa-bb", "07-1", "-07-19"}) {
    EXPECT_FALSE(parse_business_hours(bad, &start, &end)) << bad;
  }
}

TEST(AccessRules, AlertsNameIdsAndCountsButNeverPurposesOrReasons) {
  LocalTime utc("UTC");
  alerts::MemorySink sink;
  AccessRuleOptions o;
  o.max_patients = 2;
  o.business_start = o.business_end = 0;
  AccessRules rules(o, sink);
  records::Statement big = access("dr.x", patients(0, 30), "search");
  big.rule = "break-glass";
  big.reason = "SECRET-REASON";
  rules.observe(1, kNoonUtc, big);
  rules.observe(2, kNoonUtc, refused("dr.x", "Patient/z"));
  ASSERT_EQ(sink.alerts().size(), 3u);
  for (const alerts::Alert& a : sink.alerts()) {
    const std::string text = alerts::to_json(a).dump();
    EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
    EXPECT_EQ(a.kind, "access-anomaly");
  }
}

// The rules inside a real sentinel over a real store: reads through RecordService raise the
// alert as they arrive; a restarted sentinel (same state file) does not raise it again, and
// still raises for what comes after.
class SentinelAccessRules : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = testing::open_record_stack(dir_.path(), "test/access-rules");
    ASSERT_NE(stack_, nullptr);
    for (int i = 0; i < 3; ++i) {
      auto w = stack_->service->create(clinician_, "Patient",
                                R"({"resourceType":"Patient","birthDate":"1980-01-01"})", nullptr);
      ASSERT_TRUE(w.is_ok()) << w.status().to_string();
      ids_.push_back(w->version.id);
    }
    options_.db_path = stack_->db_path;
    options_.state_path = dir_.path() + "/sentinel.state";
    options_.vkey = note::verifier_of(stack_->key);
    options_.poll = std::chrono::milliseconds(20);
    AccessRuleOptions rules;
    rules.max_patients = 2;
    options_.access_rules = rules;
  }

  void read_all() {
    for (const std::string& id : ids_) {
      auto r = stack_->service->read(clinician_, "Patient", id, 0, nullptr);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::RecordStack> stack_;
  records::Caller clinician_{identity::Identity{"dr.reader", identity::Role::kClinician, ""}, "TREAT"};
  std::vector<std::string> ids_;
  SentinelOptions options_;
};

TEST_F(SentinelAccessRules, ARestartDoesNotRaiseOldAnomaliesAgain) {
  {
    alerts::MemorySink sink;
    auto s = Sentinel::start(options_, sink);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    EXPECT_TRUE(sink.alerts().empty()) << "writes are no accesses";
    read_all();
    ASSERT_TRUE(testing::eventually([&] { return with_rule(sink, "many-patients").size() == 1; }))
        << sink.alerts().size() << " alerts";
    const alerts::Alert a = with_rule(sink, "many-patients")[0];
    EXPECT_EQ(a.evidence["who"], "dr.reader");
    EXPECT_EQ(a.resources.size(), 3u);
  }
  alerts::MemorySink again;
  auto restarted = Sentinel::start(options_, again);
  ASSERT_TRUE(restarted.is_ok()) << restarted.status().to_string();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(again.alerts().empty()) << alerts::to_json(again.alerts().front()).dump();
  read_all();
  EXPECT_TRUE(testing::eventually([&] { return with_rule(again, "many-patients").size() == 1; }));
}

TEST_F(SentinelAccessRules, AFirstStartLooksAtEntriesBeyondTheSavedStateOnly) {
  read_all();  // before any sentinel ran: no saved state, so the start pass looks at them
  alerts::MemorySink sink;
  {
    auto s = Sentinel::start(options_, sink);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    EXPECT_EQ(with_rule(sink, "many-patients").size(), 1u);
  }
  // verify_store (monitor --full, forensics) never raises them.
  alerts::MemorySink full;
  std::filesystem::remove(options_.state_path);
  auto pass = verify_store(options_, full, nullptr);
  ASSERT_TRUE(pass.is_ok()) << pass.status().to_string();
  EXPECT_TRUE(full.alerts().empty());
}

}  // namespace
}  // namespace medseal::sentinel
