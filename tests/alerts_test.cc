#include "alerts/alert.h"

#include <gtest/gtest.h>

namespace medseal::alerts {
namespace {

TEST(Alerts, JsonCarriesEveryField) {
  Alert a = make_alert(Severity::kCritical, "fork", "two checkpoints of size 7");
  a.resources = {"http://127.0.0.1:1/log"};
  a.indexes = {3, 4};
  a.evidence = {{"expected", "aa"}, {"found", "bb"}};
  nlohmann::json j = to_json(a);
  EXPECT_EQ(j["id"], a.id);
  EXPECT_EQ(j["severity"], "critical");
  EXPECT_EQ(j["kind"], "fork");
  EXPECT_EQ(j["summary"], "two checkpoints of size 7");
  EXPECT_EQ(j["resources"][0], "http://127.0.0.1:1/log");
  EXPECT_EQ(j["indexes"], nlohmann::json::array({3, 4}));
  EXPECT_EQ(j["evidence"]["found"], "bb");
  EXPECT_EQ(j["time_ms"], a.time_ms);
  EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
}

TEST(Alerts, IdsAreFreshAndTimesCurrent) {
  Alert a = make_alert(Severity::kWarning, "k", "s");
  Alert b = make_alert(Severity::kWarning, "k", "s");
  EXPECT_EQ(a.id.size(), 32u);
  EXPECT_NE(a.id, b.id);
  EXPECT_GT(a.time_ms, 1'700'000'000'000u);
  EXPECT_EQ(severity_name(Severity::kInfo), "info");
  EXPECT_EQ(severity_name(Severity::kWarning), "warning");
}

TEST(Alerts, MemorySinkKeepsOrder) {
  MemorySink sink;
  sink.raise(make_alert(Severity::kInfo, "first", "1"));
  sink.raise(make_alert(Severity::kInfo, "second", "2"));
  ASSERT_EQ(sink.alerts().size(), 2u);
  EXPECT_EQ(sink.alerts()[0].kind, "first");
  EXPECT_EQ(sink.alerts()[1].kind, "second");
}

}  // namespace
}  // namespace medseal::alerts
