// FHIR search and paging parameters: every _lastUpdated prefix and precision against instants
// worked out by hand, bad values, unknown parameters, and which interaction accepts what.
#include <gtest/gtest.h>

#include "server/fhir_query.h"

namespace medseal::server::fhir {
namespace {

// Unix milliseconds of UTC midnights, computed independently (date -u -d ... +%s).
constexpr uint64_t k2024 = 1704067200000;        // 2024-01-01
constexpr uint64_t k2025 = 1735689600000;        // 2025-01-01
constexpr uint64_t k2024Feb = 1706745600000;     // 2024-02-01
constexpr uint64_t k2024Mar = 1709251200000;     // 2024-03-01
constexpr uint64_t k2024Feb29 = 1709164800000;   // 2024-02-29
constexpr uint64_t k2023Dec = 1701388800000;     // 2023-12-01
constexpr uint64_t kHour = 3'600'000;
constexpr uint64_t kNoon34_56 = 12 * kHour + 34 * 60'000 + 56'000;  // 12:34:56

TimeRange range(std::string_view value) {
  auto r = parse_last_updated(value);
  EXPECT_TRUE(r.is_ok()) << value << ": " << r.status().to_string();
  return r.is_ok() ? *r : TimeRange{};
}

void expect_range(std::string_view value, uint64_t from, uint64_t to) {
  TimeRange r = range(value);
  EXPECT_EQ(r.from_ms, from) << value;
  EXPECT_EQ(r.to_ms, to) << value;
}

TEST(FhirLastUpdated, EveryPrecisionStandsForItsWholeRange) {
  expect_range("2024", k2024, k2025);
  expect_range("2024-02", k2024Feb, k2024Mar);
  expect_range("2023-12", k2023Dec, k2024);  // December ends at the next year
  expect_range("2024-02-29", k2024Feb29, k2024Mar);
  uint64_t t = k2024Feb29 + kNoon34_56;
  expect_range("2024-02-29T12:34:56Z", t, t + 1000);
  expect_range("2024-02-29T12:34:56+00:00", t, t + 1000);
  expect_range("2024-02-29T12:34:56+01:00", t - kHour, t - kHour + 1000);
  expect_range("2024-02-29T12:34:56-05:30", t + 5 * kHour + 1'800'000, t + 5 * kHour + 1'800'000 + 1000);
  expect_range("2024-02-29T12:34:56.5Z", t + 500, t + 600);
  expect_range("2024-02-29T12:34:56.25Z", t + 250, t + 260);
  expect_range("2024-02-29T12:34:56.123Z", t + 123, t + 124);
  expect_range("2024-02-29T12:34:56.123000Z", t + 123, t + 124);
  // A sub-millisecond instant matches no stored (whole-millisecond) time.
  TimeRange sub = range("2024-02-29T12:34:56.1234Z");
  EXPECT_EQ(sub.from_ms, sub.to_ms);
}

TEST(FhirLastUpdated, EveryPrefix) {
  expect_range("eq2024", k2024, k2025);
  expect_range("gt2024", k2025, UINT64_MAX);
  expect_range("ge2024", k2024, UINT64_MAX);
  expect_range("lt2024", 0, k2024);
  expect_range("le2024", 0, k2025);
  expect_range("gt2024-02-29", k2024Mar, UINT64_MAX);
  expect_range("le2024-02", 0, k2024Mar);
  uint64_t t = k2024Feb29 + kNoon34_56;
  expect_range("ge2024-02-29T12:34:56Z", t, UINT64_MAX);
  expect_range("gt2024-02-29T12:34:56Z", t + 1000, UINT64_MAX);
  expect_range("lt2024-02-29T12:34:56.001Z", 0, t + 1);
}

TEST(FhirLastUpdated, TimesBefore1970ClampToZero) {
  expect_range("lt1960", 0, 0);
  expect_range("ge1960", 0, UINT64_MAX);
  expect_range("1969-12-31T23:00:00-02:00", 3'600'000, 3'601'000);
}

TEST(FhirLastUpdated, RejectsWhatItDoesNotUnderstand) {
  for (std::string_view bad :
       {"", "ge", "24", "20245", "2024-1", "2024-13", "2024-00", "2024-02-30", "2023-02-29",
        "2024-01-32", "2024-01-01T", "2024-01-01T10:00:00", "2024-01-01T10:00Z", "2024-01-01T25:00:00Z",
        "2024-01-01T10:60:00Z", "2024-01-01T10:00:61Z", "2024-01-01T10:00:00.Z",
        "2024-01-01T10:00:00.1234567890Z", "2024-01-01T10:00:00+15:00", "2024-01-01T10:00:00+01",
        "2024-01-01T10:00:00 01:00", "2024-01-01t10:00:00Z", "2024-01-01 ", " 2024", "0000",
        "ne2024", "sa2024", "eb2024", "ap2024", "EQ2024", "2024,2025", "-2024", "+2024", "2024/01"}) {
    auto r = parse_last_updated(bad);
    EXPECT_FALSE(r.is_ok()) << "accepted: " << bad;
    if (!r.is_ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(FhirQueryString, DecodesPercentAndKeepsPlus) {
  auto params = parse_query_string("patient=Patient%2F1&&_lastUpdated=ge2024-01-01T00:00:00+01:00&flag");
  ASSERT_TRUE(params.is_ok()) << params.status().to_string();
  ASSERT_EQ(params->size(), 3u);
  EXPECT_EQ((*params)[0].name, "patient");
  EXPECT_EQ((*params)[0].value, "Patient/1");
  EXPECT_EQ((*params)[1].value, "ge2024-01-01T00:00:00+01:00");
  EXPECT_EQ((*params)[2].name, "flag");
  EXPECT_EQ((*params)[2].value, "");
  EXPECT_TRUE(parse_query_string("").is_ok());
  EXPECT_TRUE(parse_query_string("")->empty());
}

TEST(FhirQueryString, RejectsBadEncodingControlsAndFloods) {
  for (std::string_view bad : {"a=%", "a=%4", "a=%zz", "a%=1", "a=%0a", "a=%00b", "a=\x01"}) {
    EXPECT_FALSE(parse_query_string(bad).is_ok()) << bad;
  }
  std::string many;
  for (size_t i = 0; i <= kMaxParams; ++i) many += "a=1&";
  EXPECT_FALSE(parse_query_string(many).is_ok());
}

TEST(FhirQueryString, FormatsWhatItParses) {
  std::vector<QueryParam> params = {{"_lastUpdated", "ge2024-01-01T00:00:00+01:00"}, {"patient", "Patient/a b&c"}};
  std::string text = format_query_string(params);
  EXPECT_EQ(text, "_lastUpdated=ge2024-01-01T00:00:00%2B01:00&patient=Patient/a%20b%26c");
  auto back = parse_query_string(text);
  ASSERT_TRUE(back.is_ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].value, params[0].value);
  EXPECT_EQ((*back)[1].value, params[1].value);
}

ParsedQuery parsed(std::string_view raw, Accepts accepts) {
  auto q = parse_parameters(raw, accepts);
  EXPECT_TRUE(q.is_ok()) << raw << ": " << q.status().to_string();
  return q.is_ok() ? std::move(*q) : ParsedQuery{};
}

void expect_rejected(std::string_view raw, Accepts accepts) {
  auto q = parse_parameters(raw, accepts);
  EXPECT_FALSE(q.is_ok()) << "accepted: " << raw;
  if (!q.is_ok()) {
    EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
  }
}

TEST(FhirParameters, SearchTakesPatientIdsDatesAndPaging) {
  ParsedQuery q = parsed("patient=Patient/p1&_id=a,b.c,d-1&_lastUpdated=ge2024&_lastUpdated=lt2024-03&_count=10&_offset=20&_format=json",
                         Accepts::kSearch);
  EXPECT_EQ(q.patient, "Patient/p1");
  EXPECT_EQ(q.ids, (std::vector<std::string>{"a", "b.c", "d-1"}));
  EXPECT_EQ(q.updated.from_ms, k2024);  // the two values both hold
  EXPECT_EQ(q.updated.to_ms, k2024Mar);
  EXPECT_EQ(q.paging.count, 10u);
  EXPECT_EQ(q.paging.offset, 20u);
  EXPECT_EQ(q.format, "json");
  EXPECT_EQ(q.params.size(), 7u);
  EXPECT_EQ(parsed("patient=p1", Accepts::kSearch).patient, "Patient/p1");  // a bare id
}

TEST(FhirParameters, DefaultsAndLimits) {
  ParsedQuery q = parsed("", Accepts::kSearch);
  EXPECT_EQ(q.paging.count, kDefaultCount);
  EXPECT_EQ(q.paging.offset, 0u);
  EXPECT_EQ(q.updated.from_ms, 0u);
  EXPECT_EQ(q.updated.to_ms, UINT64_MAX);
  EXPECT_EQ(parsed("_count=5000", Accepts::kSearch).paging.count, kMaxCount);
  EXPECT_EQ(parsed("_count=0", Accepts::kSearch).paging.count, 0u);
  // Disjoint dates select nothing rather than everything.
  ParsedQuery none = parsed("_lastUpdated=lt2024&_lastUpdated=gt2024", Accepts::kSearch);
  EXPECT_GE(none.updated.from_ms, none.updated.to_ms);
}

TEST(FhirParameters, RejectsBadValues) {
  for (std::string_view bad :
       {"_count=-1", "_count=abc", "_count=", "_count=1.5", "_count=99999999999999999999", "_offset=-3",
        "_offset=x", "patient=", "patient=Patient/", "patient=Observation/1", "patient=Patient/a/b",
        "patient=a_b", "patient=Patient/1&patient=Patient/2", "_id=", "_id=a,,b", "_id=a,", "_id=a b",
        "_id=a&_id=b", "_lastUpdated=2024-13", "_lastUpdated=ne2024", "_lastUpdated=2024,2025"}) {
    expect_rejected(bad, Accepts::kSearch);
  }
  std::string ids = "_id=";
  for (size_t i = 0; i <= kMaxIds; ++i) ids += "i" + std::to_string(i) + ",";
  ids.pop_back();
  expect_rejected(ids, Accepts::kSearch);
}

TEST(FhirParameters, UnknownParametersAndModifiersAreRejected) {
  for (std::string_view bad : {"name=x", "_sort=-_lastUpdated", "_summary=count", "_pretty=true",
                               "patient:missing=true", "_id:not=1", "subject=Patient/1", "_include=*",
                               "_elements=id", "PATIENT=1", "_count"}) {
    expect_rejected(bad, Accepts::kSearch);
  }
}

TEST(FhirParameters, EachInteractionAcceptsItsOwn) {
  EXPECT_EQ(parsed("_format=application/fhir+json", Accepts::kNothing).format, "application/fhir+json");
  expect_rejected("_count=1", Accepts::kNothing);
  expect_rejected("patient=1", Accepts::kNothing);
  EXPECT_EQ(parsed("_count=3&_offset=6", Accepts::kPaging).paging.offset, 6u);
  expect_rejected("patient=1", Accepts::kPaging);
  expect_rejected("_since=2024", Accepts::kPaging);
  EXPECT_EQ(parsed("patient=Patient/x&_count=2", Accepts::kTrail).patient, "Patient/x");
  expect_rejected("", Accepts::kTrail);  // the trail of whom?
  expect_rejected("patient=x&_id=1", Accepts::kTrail);
  expect_rejected("patient=x&_lastUpdated=2024", Accepts::kTrail);
}

TEST(FhirParameters, FormatValues) {
  for (std::string_view ok : {"json", "application/json", "application/fhir+json"}) EXPECT_TRUE(is_json_format(ok));
  for (std::string_view no : {"xml", "application/fhir+xml", "", "JSON", "text/html"}) EXPECT_FALSE(is_json_format(no));
}

TEST(FhirParameters, PagingLinksReplaceCountAndOffset) {
  std::vector<QueryParam> given = {{"_count", "5"}, {"patient", "Patient/1"}, {"_offset", "0"}};
  auto next = with_paging(given, Paging{5, 5});
  EXPECT_EQ(format_query_string(next), "patient=Patient/1&_count=5&_offset=5");
}

}  // namespace
}  // namespace medseal::server::fhir
