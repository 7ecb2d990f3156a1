// FHIR resources as exact bytes (records/resource.h): strict parsing, byte-exact stamping,
// transaction Bundles and reference rewriting, against the official R4 examples and Synthea.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "records/json_scan.h"
#include "records/resource.h"
#include "support/fhir_data.h"
#include "support/paths.h"

namespace medseal::records {
namespace {

using nlohmann::json;

std::vector<std::string> examples() { return testing::fhir_examples(); }
std::vector<std::string> synthea() { return testing::synthea_bundles(); }

// --- An independent, deliberately naive reader of member spans, for already valid JSON. ---

size_t skip_ws(const std::string& s, size_t i) {
  while (i < s.size() && std::string_view(" \t\r\n").find(s[i]) != std::string_view::npos) ++i;
  return i;
}
size_t skip_string(const std::string& s, size_t i) {
  for (++i; s[i] != '"'; ++i) {
    if (s[i] == '\\') ++i;
  }
  return i + 1;
}
size_t skip_value(const std::string& s, size_t i) {
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && std::string_view(",]} \t\r\n").find(s[i]) == std::string_view::npos) ++i;
    return i;
  }
  int depth = 0;
  do {
    if (s[i] == '"') {
      i = skip_string(s, i);
      continue;
    }
    if (s[i] == '{' || s[i] == '[') ++depth;
    if (s[i] == '}' || s[i] == ']') --depth;
    ++i;
  } while (depth > 0);
  return i;
}

struct MemberSpan {
  std::string name;  // raw, between the quotes
  size_t key_begin, value_begin, value_end;
};

std::vector<MemberSpan> members_of(const std::string& s, size_t object_begin) {
  std::vector<MemberSpan> out;
  size_t i = skip_ws(s, object_begin + 1);
  while (s[i] == '"') {
    MemberSpan m;
    m.key_begin = i;
    i = skip_string(s, i);
    m.name = s.substr(m.key_begin + 1, i - m.key_begin - 2);
    i = skip_ws(s, i);
    i = skip_ws(s, i + 1);  // ':'
    m.value_begin = i;
    m.value_end = i = skip_value(s, i);
    out.push_back(m);
    i = skip_ws(s, i);
    if (s[i] == ',') i = skip_ws(s, i + 1);
  }
  return out;
}

// Where member `name` of the object at `object_begin` starts its value; npos when absent.
size_t value_of(const std::string& s, size_t object_begin, const std::string& name) {
  for (const MemberSpan& m : members_of(s, object_begin)) {
    if (m.name == name) return m.value_begin;
  }
  return std::string::npos;
}

// `s` without member `name` of the object at `object_begin`, together with the comma that joins
// it to the member before it (or, for the first member, to the one after it).
std::string cut_member(std::string s, size_t object_begin, const std::string& name) {
  const std::vector<MemberSpan> ms = members_of(s, object_begin);
  for (size_t k = 0; k < ms.size(); ++k) {
    if (ms[k].name != name) continue;
    if (k > 0) return s.erase(ms[k - 1].value_end, ms[k].value_end - ms[k - 1].value_end);
    const size_t end = ms.size() > 1 ? ms[1].key_begin : ms[0].value_end;
    return s.erase(ms[0].key_begin, end - ms[0].key_begin);
  }
  return s;
}

// The document with the server-owned members cut out: id, meta.versionId, meta.lastUpdated,
// and meta itself when `drop_meta`.
std::string without_owned_members(std::string s, bool drop_meta) {
  const size_t root = skip_ws(s, 0);
  if (drop_meta) {
    s = cut_member(s, root, "meta");
  } else if (const size_t meta = value_of(s, root, "meta"); meta != std::string::npos) {
    s = cut_member(s, meta, "versionId");
    s = cut_member(s, value_of(s, root, "meta"), "lastUpdated");
  }
  return cut_member(s, root, "id");
}

void erase_owned_members(json& j, bool drop_meta) {
  j.erase("id");
  if (drop_meta) {
    j.erase("meta");
  } else if (j.contains("meta")) {
    j["meta"].erase("versionId");
    j["meta"].erase("lastUpdated");
  }
}

constexpr std::string_view kNewId = "new-id";
constexpr std::string_view kVersion = "3";
constexpr std::string_view kUpdated = "2026-11-27T10:00:00.000Z";

void expect_stamp_preserves(const std::string& original, const std::string& label) {
  SCOPED_TRACE(label);
  Result<std::string> stamped = stamp_resource(original, kNewId, kVersion, kUpdated);
  ASSERT_TRUE(stamped.is_ok()) << stamped.status().to_string();
  ASSERT_TRUE(inspect_resource(*stamped).is_ok());
  const json before = json::parse(original);
  json after = json::parse(*stamped);  // (a) it parses
  EXPECT_EQ(after["id"], kNewId);      // (b) the owned members hold what was set
  EXPECT_EQ(after["meta"]["versionId"], kVersion);
  EXPECT_EQ(after["meta"]["lastUpdated"], kUpdated);
  const bool had_meta = before.contains("meta");
  json before_rest = before;  // (c) everything else means the same
  erase_owned_members(before_rest, false);
  erase_owned_members(after, !had_meta);
  EXPECT_EQ(before_rest, after);
  // (d) every byte outside the owned members is preserved, in order.
  EXPECT_EQ(without_owned_members(original, false), without_owned_members(*stamped, !had_meta));
}

TEST(RecordsResource, StampsEveryOfficialExampleByteExactly) {
  const std::vector<std::string> files = examples();
  ASSERT_GE(files.size(), 200u);
  for (const std::string& path : files) {
    const std::string bytes = testing::read_file(path);
    Result<ResourceInfo> info = inspect_resource(bytes);
    ASSERT_TRUE(info.is_ok()) << path << ": " << info.status().to_string();
    EXPECT_EQ(info->type, json::parse(bytes)["resourceType"]) << path;
    expect_stamp_preserves(bytes, path);
  }
}

TEST(RecordsResource, StampKeepsDecimalsAsWritten) {
  const std::string path =
      testing::shared_dir() + "/data/fhir-r4-examples/Observation-decimal.json";
  const std::string original = testing::read_file(path);
  Result<std::string> stamped = stamp_resource(original, kNewId, kVersion, kUpdated);
  ASSERT_TRUE(stamped.is_ok()) << stamped.status().to_string();
  for (const char* number :
       {"\"value\": 1.0,", "\"value\": 1.00,", "\"value\": 1E-22,",
        "\"value\": 1000000000000000000,", "\"value\": 1.000000000000000000E-245,",
        "\"value\": -1.000000000000000000E+245,"}) {
    ASSERT_NE(original.find(number), std::string::npos) << number;
    EXPECT_NE(stamped->find(number), std::string::npos) << number;
  }
  // The existing id was replaced where it stood; meta went right after it, laid out alike.
  const std::string want_start =
      "{\n  \"resourceType\": \"Observation\",\n  \"id\": \"new-id\",\n  \"meta\": "
      "{\"versionId\": \"3\", \"lastUpdated\": \"2026-11-27T10:00:00.000Z\"},\n  \"text\": {"
      "\n    \"status\"";
  EXPECT_EQ(stamped->substr(0, want_start.size()), want_start);
}

TEST(RecordsResource, StampPlacesMissingMembers) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {R"({"resourceType":"Patient"})",
       R"({"resourceType":"Patient","id":"new-id","meta":{"versionId":"3","lastUpdated":"T"}})"},
      {R"({"resourceType":"Patient","meta":{}})",
       R"({"resourceType":"Patient","id":"new-id","meta":{"versionId":"3","lastUpdated":"T"}})"},
      {R"({"meta":{ "profile":["p"] },"resourceType":"Patient","id":"old"})",
       R"({"meta":{ "profile":["p"], "versionId":"3", "lastUpdated":"T" },)"
       R"("resourceType":"Patient","id":"new-id"})"},
      {R"({"id":"old","resourceType":"Patient","meta":{"lastUpdated":"x","versionId":"1"},)"
       R"("n":1.50})",
       R"({"id":"new-id","resourceType":"Patient","meta":{"lastUpdated":"T","versionId":"3"},)"
       R"("n":1.50})"},
      {"{ \"resourceType\" : \"Patient\" , \"name\" : \"Zo\xC3\xAB\\u00e9\" }",
       "{ \"resourceType\" : \"Patient\", \"id\" : \"new-id\", \"meta\" : {\"versionId\" : \"3\", "
       "\"lastUpdated\" : \"T\"} , \"name\" : \"Zo\xC3\xAB\\u00e9\" }"},
  };
  for (const Case& c : cases) {
    Result<std::string> out = stamp_resource(c.in, kNewId, kVersion, "T");
    ASSERT_TRUE(out.is_ok()) << c.in << ": " << out.status().to_string();
    EXPECT_EQ(*out, c.out);
    expect_stamp_preserves(c.in, c.in);
  }
}

TEST(RecordsResource, StampRejectsWhatItCannotStamp) {
  const std::string ok = R"({"resourceType":"Patient"})";
  EXPECT_FALSE(stamp_resource(ok, "a b", kVersion, kUpdated).is_ok());
  EXPECT_FALSE(stamp_resource(ok, kNewId, "", kUpdated).is_ok());
  EXPECT_FALSE(stamp_resource(R"({"resourceType":"Patient","meta":[]})", kNewId, kVersion, kUpdated)
                   .is_ok());
  EXPECT_FALSE(stamp_resource(R"({"resourceType":1})", kNewId, kVersion, kUpdated).is_ok());
}

std::string nested_arrays(size_t levels) {
  return R"({"resourceType":"Patient","a":)" + std::string(levels, '[') + std::string(levels, ']') +
         "}";
}

TEST(RecordsResource, RejectsWhatIsNotStrictJsonOrNotAResource) {
  struct Case {
    const char* why;
    std::string bytes;
  };
  const std::string p = R"({"resourceType":"Patient","name":")";
  const Case cases[] = {
      {"invalid UTF-8", p + "SECRET\xFF\"}"},
      {"truncated UTF-8", p + "SECRET\xC3\"}"},
      {"continuation byte alone", p + "SECRET\x80\"}"},
      {"overlong slash", p + "SECRET\xC0\xAF\"}"},
      {"overlong 3-byte", p + "SECRET\xE0\x80\xAF\"}"},
      {"UTF-8 encoded surrogate", p + "SECRET\xED\xA0\x80\"}"},
      {"beyond U+10FFFF", p + "SECRET\xF4\x90\x80\x80\"}"},
      {"lone high surrogate escape", p + "SECRET\\ud800\"}"},
      {"lone low surrogate escape", p + "SECRET\\udc00\"}"},
      {"high surrogate then non-surrogate", p + "SECRET\\ud800\\u0041\"}"},
      {"invalid escape", p + "SECRET\\x\"}"},
      {"short \\u escape", p + "SECRET\\u12\"}"},
      {"control character", p + "SEC\x01RET\"}"},
      {"raw newline", p + "SEC\nRET\"}"},
      {"raw NUL", p + std::string("SEC\0RET\"}", 9)},
      {"unterminated string", p + "SECRET"},
      {"trailing garbage", p + "SECRET\"} x"},
      {"second value", p + "SECRET\"}{}"},
      {"leading zero", R"({"resourceType":"Patient","n":01})"},
      {"plus sign", R"({"resourceType":"Patient","n":+1})"},
      {"bare dot", R"({"resourceType":"Patient","n":1.})"},
      {"leading dot", R"({"resourceType":"Patient","n":.5})"},
      {"empty exponent", R"({"resourceType":"Patient","n":1e})"},
      {"lone minus", R"({"resourceType":"Patient","n":-})"},
      {"NaN", R"({"resourceType":"Patient","n":NaN})"},
      {"bad literal", R"({"resourceType":"Patient","n":tru})"},
      {"trailing comma", R"({"resourceType":"Patient","n":[1,]})"},
      {"trailing comma in object", R"({"resourceType":"Patient",})"},
      {"single quotes", R"({'resourceType':'Patient'})"},
      {"duplicate top-level key", R"({"resourceType":"Patient","resourceType":"Patient"})"},
      {"duplicate key", R"({"resourceType":"Patient","name":"SECRET","name":"SECRET"})"},
      {"duplicate key via escape", R"({"resourceType":"Patient","a":1,"\u0061":2})"},
      {"duplicate empty key", R"({"resourceType":"Patient","":1,"":2})"},
      {"duplicate in meta",
       R"({"resourceType":"Patient","meta":{"versionId":"1","versionId":"2"}})"},
      {"duplicate deep", R"({"resourceType":"Patient","x":[{"a":{"b":1,"b":1}}]})"},
      // Objects of up to 16 members are checked pairwise, larger ones by sorting: both ways.
      {"duplicate among 16 members", R"({"resourceType":"Patient","a":0,"b":1,"c":2,"d":3,)"
                                     R"("e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"k":10,"l":11,"m":12,)"
                                     R"("n":13,"a":14})"},
      {"duplicate among 20 members", R"({"resourceType":"Patient","a":0,"b":1,"c":2,"d":3,)"
                                     R"("e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"k":10,"l":11,"m":12,)"
                                     R"("n":13,"o":14,"p":15,"q":16,"r":17,"s":18,"q":19})"},
      {"depth 101", nested_arrays(100)},
      {"missing resourceType", R"({"id":"SECRET"})"},
      {"resourceType not a string", R"({"resourceType":["Patient"]})"},
      {"resourceType lower case", R"({"resourceType":"patient"})"},
      {"resourceType empty", R"({"resourceType":""})"},
      {"resourceType with digit", R"({"resourceType":"Patient2"})"},
      {"id of 65 characters", R"({"resourceType":"Patient","id":")" + std::string(65, 'a') + "\"}"},
      {"id with a space", R"({"resourceType":"Patient","id":"a b"})"},
      {"empty id", R"({"resourceType":"Patient","id":""})"},
      {"id with a slash", R"({"resourceType":"Patient","id":"a/b"})"},
      {"numeric id", R"({"resourceType":"Patient","id":12})"},
      {"top-level array", R"([{"resourceType":"Patient"}])"},
      {"top-level string", R"("Patient")"},
      {"empty input", ""},
      {"only whitespace", " \n"},
      {"byte order mark", "\xEF\xBB\xBF{\"resourceType\":\"Patient\"}"},
      {"unterminated object", R"({"resourceType":"Patient")"},
  };
  for (const Case& c : cases) {
    Result<ResourceInfo> r = inspect_resource(c.bytes);
    ASSERT_FALSE(r.is_ok()) << c.why;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.why;
    EXPECT_EQ(r.status().message().find("SECRET"), std::string::npos) << c.why;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << c.why;
    EXPECT_FALSE(stamp_resource(c.bytes, kNewId, kVersion, kUpdated).is_ok()) << c.why;
  }
}

TEST(RecordsResource, AcceptsStrictJsonAtItsLimits) {
  const std::string p = R"({"resourceType":"Patient","v":)";
  const std::string cases[] = {
      nested_arrays(99),  // depth 100
      p + "\"\\ud83d\\ude00 \xF0\x9F\x98\x80 \xE2\x82\xAC \xC3\xA9 \xF4\x8F\xBF\xBF\"}",
      p + "\"\\u0000\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
      p + "[-0, 0, 0.5e+10, 1E-22, -1.000E+245, 10, 1.00, true, false, null, {}, []]}",
      " \t\r\n" + p + "1} \t\r\n",
      R"({"resourceType":"Patient","a":{"b":1},"b":{"a":1}})",  // same names, other objects
      R"({"resourceType":"Patient","ab":1,"ac":2,"":3,"bb":4})",  // alike, not the same
      R"({"resourceType":"DomainResource"})",  // a valid name; is_r4_resource_type is the caller's
  };
  for (const std::string& c : cases) {
    Result<ResourceInfo> r = inspect_resource(c);
    EXPECT_TRUE(r.is_ok()) << c << ": " << r.status().to_string();
  }
  Result<ResourceInfo> info = inspect_resource(R"({"id":"A-z.09","resourceType":"Observation"})");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->type, "Observation");
  EXPECT_EQ(info->id, "A-z.09");
  EXPECT_EQ(inspect_resource(R"({"resourceType":"Patient"})")->id, "");
  EXPECT_TRUE(is_valid_id(std::string(64, 'a')));
}

// The scanner skips plain string bytes eight at a time: a byte that needs a look is found at
// every position of a word, and the error names what it found and at which byte.
TEST(RecordsResource, ScannerFindsEveryByteThatEndsAPlainRunAndNamesItsOffset) {
  const std::string head = R"({"resourceType":"Patient","v":")";
  for (size_t at = 0; at < 24; ++at) {
    SCOPED_TRACE(at);
    const std::string run(at, 'a');
    const std::string tail(24, 'b');
    Result<ResourceInfo> control = inspect_resource(head + run + "\x01" + tail + "\"}");
    ASSERT_FALSE(control.is_ok());
    EXPECT_EQ(control.status().message(), "json: control character in string at byte " +
                                              std::to_string(head.size() + at));
    Result<ResourceInfo> utf8 = inspect_resource(head + run + "\xFF" + tail + "\"}");
    ASSERT_FALSE(utf8.is_ok());
    EXPECT_EQ(utf8.status().message(),
              "json: invalid UTF-8 at byte " + std::to_string(head.size() + at));
    EXPECT_TRUE(inspect_resource(head + run + "\\\\\\\"\xC3\xA9" + tail + "\"}").is_ok());
    // A quote ends the string wherever it falls: "x" is a member, not part of the value.
    Result<std::string> quoted =
        stamp_resource(head + run + "\"," + R"("x":")" + tail + "\"}", "p", "1", "t");
    ASSERT_TRUE(quoted.is_ok()) << quoted.status().to_string();
    EXPECT_NE(quoted->find(R"("v":")" + run + R"(","x":")"), std::string::npos);
  }
  Result<ResourceInfo> trailing = inspect_resource(R"({"resourceType":"Patient"} x)");
  ASSERT_FALSE(trailing.is_ok());
  EXPECT_EQ(trailing.status().message(), "json: trailing data at byte 27");
}

// Stamps and rewrites are quoted straight into the result; their size is computed beforehand.
TEST(RecordsResource, QuotesLikeJsonAndKnowsTheQuotedSize) {
  const std::string tricky = std::string("a\"b\\c\x01\x1f\n", 8) + std::string(1, '\0') + "\xC3\xA9/";
  const std::string quoted = records::json::quote(tricky);
  EXPECT_EQ(quoted, std::string("\"a\\\"b\\\\c\\u0001\\u001f\\u000a\\u0000\xC3\xA9/\""));
  EXPECT_EQ(json::parse(quoted).get<std::string>(), tricky);
  EXPECT_EQ(records::json::quoted_size(tricky), quoted.size());
  std::string appended = "x";
  records::json::append_quoted(appended, "Patient/1");
  EXPECT_EQ(appended, "x\"Patient/1\"");
  EXPECT_EQ(records::json::quoted_size(""), 2u);
}

TEST(RecordsResource, KnowsTheR4ResourceTypes) {
  const auto types = r4_resource_types();
  EXPECT_EQ(types.size(), 146u);
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_EQ(std::adjacent_find(types.begin(), types.end()), types.end());
  for (std::string_view t : types) {
    EXPECT_TRUE(is_valid_type_name(t)) << t;
    EXPECT_TRUE(is_r4_resource_type(t)) << t;
  }
  for (const char* t : {"Bundle", "Binary", "Parameters", "Patient", "VisionPrescription",
                        "Account", "MedicinalProductUndesirableEffect"}) {
    EXPECT_TRUE(is_r4_resource_type(t)) << t;
  }
  for (const char* t : {"DomainResource", "Resource", "patient", "", "Patient ", "MedicationUsage",
                        "DeviceUsage", "Extension", "Reference"}) {
    EXPECT_FALSE(is_r4_resource_type(t)) << t;
  }
  for (const std::string& path : examples()) {
    const std::string type = json::parse(testing::read_file(path))["resourceType"];
    EXPECT_TRUE(is_r4_resource_type(type)) << path;
  }
}

TEST(RecordsResource, FindsThePatientCompartment) {
  EXPECT_EQ(patient_compartment(R"({"resourceType":"Patient","id":"x"})"), "Patient/x");
  EXPECT_EQ(patient_compartment(R"({"resourceType":"Patient"})"), "");
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Observation","subject":{"reference":"Patient/x"}})"),
      "Patient/x");
  EXPECT_EQ(
      patient_compartment(
          R"({"resourceType":"Observation",)"
          R"("subject":{"reference":"https://h.example/fhir/Patient/x"}})"),
      "Patient/x");
  EXPECT_EQ(patient_compartment(R"({"resourceType":"Claim","patient":{"reference":"Patient/p1"}})"),
            "Patient/p1");
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Coverage","beneficiary":{"reference":"Patient/b"}})"),
      "Patient/b");
  // The first one that names a Patient, in document order.
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Observation","subject":{"reference":"Group/g"},)"
                          R"("patient":{"reference":"Patient/y"}})"),
      "Patient/y");
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Observation","subject":{"reference":"Group/g"}})"),
      "");
  EXPECT_EQ(patient_compartment(
                R"({"resourceType":"Observation","subject":{"reference":"Patient/x/_history/2"}})"),
            "");
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Observation","subject":{"reference":"urn:uuid:1"}})"),
      "");
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Observation","focus":[{"reference":"Patient/x"}]})"),
      "");
  EXPECT_EQ(patient_compartment(R"({"resourceType":"Organization"})"), "");
  EXPECT_EQ(
      patient_compartment(R"({"resourceType":"Observation","subject":{"reference":"Patient/x"})"),
      "");
  const std::string official =
      testing::read_file(testing::shared_dir() + "/data/fhir-r4-examples/Observation-example.json");
  EXPECT_EQ(patient_compartment(official), "Patient/example");
}

TEST(RecordsResource, ParsesTransactionEntries) {
  const std::string resource = "{ \"resourceType\" : \"Patient\",\n \"n\": 1.50 }";
  const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[)"
                             R"({"fullUrl":"urn:uuid:a","resource":)" +
                             resource +
                             R"(,"request":{"method":"POST","url":"Patient"}},)"
                             R"({"resource":{"resourceType":"Patient","id":"p"},)"
                             R"("request":{"method":"PUT","url":"Patient/p","ifMatch":"W/\"2\""}},)"
                             R"({"request":{"url":"Patient/q","method":"DELETE"}}]})";
  Result<std::vector<BundleEntry>> entries = parse_transaction(bundle);
  ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].full_url, "urn:uuid:a");
  EXPECT_EQ((*entries)[0].method, "POST");
  EXPECT_EQ((*entries)[0].url, "Patient");
  EXPECT_EQ((*entries)[0].resource, resource);
  EXPECT_EQ((*entries)[1].full_url, "");
  EXPECT_EQ((*entries)[1].if_match, "W/\"2\"");
  EXPECT_EQ((*entries)[2].method, "DELETE");
  EXPECT_EQ((*entries)[2].resource, "");
  EXPECT_FALSE(parse_transaction(bundle, 2).is_ok());
  EXPECT_TRUE(parse_transaction(bundle, 3).is_ok());
  EXPECT_EQ(parse_transaction(R"({"resourceType":"Bundle","type":"transaction"})")->size(), 0u);
}

TEST(RecordsResource, RejectsWhatIsNotAPlainTransaction) {
  const std::string head = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  const std::string with_patient = head + R"({"resource":{"resourceType":"Patient"},)";
  const std::string cases[] = {
      R"({"resourceType":"Bundle","type":"batch","entry":[]})",
      R"({"resourceType":"Patient","type":"transaction"})",
      R"({"type":"transaction"})",
      R"([{"resourceType":"Bundle","type":"transaction"}])",
      R"({"resourceType":"Bundle","type":"transaction","entry":{}})",
      head + "1]}",
      head + R"({"resource":{"resourceType":"Patient"}}]})",
      with_patient + R"("request":{"method":"GET","url":"Patient"}}]})",
      with_patient + R"("request":{"method":"post","url":"Patient"}}]})",
      head + R"({"request":{"method":"POST","url":"Patient"}}]})",
      head + R"({"request":{"method":"PUT","url":"Patient/1"}}]})",
      with_patient + R"("request":{"method":"DELETE","url":"Patient/1"}}]})",
      with_patient + R"("request":{"method":"POST"}}]})",
      head + R"({"resource":"x","request":{"method":"POST","url":"Patient"}}]})",
      with_patient + R"("request":{"method":"POST","url":"Patient","ifNoneExist":"x=1"}}]})",
      with_patient + R"("request":{"method":"POST","url":"Patient"}}] )",
  };
  for (const std::string& c : cases) {
    Result<std::vector<BundleEntry>> r = parse_transaction(c);
    EXPECT_FALSE(r.is_ok()) << c;
    if (!r.is_ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c;
    }
  }
  // The official example holds GET entries and a conditional create, which are not supported.
  EXPECT_FALSE(
      parse_transaction(testing::read_file(testing::shared_dir() +
                                           "/data/fhir-r4-examples/Bundle-bundle-transaction.json"))
          .is_ok());
}

TEST(RecordsResource, RewritesOnlyMatchingStringValues) {
  const std::map<std::string, std::string> rewrites = {{"urn:uuid:a", "Patient/1"}, {"x", "y\"z"}};
  const std::string in =
      R"({"resourceType":"Observation", "urn:uuid:a" : "urn:uuid:a",)"
      R"( "s":{"reference":"urn:uuid:a"},)"
      R"( "t":["urn:uuid:ab","\u0078","urn:uuid:a "], "n":1.0})";
  Result<std::string> out = rewrite_references(in, rewrites);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(
      *out,
      R"({"resourceType":"Observation", "urn:uuid:a" : "Patient/1", "s":{"reference":"Patient/1"},)"
      R"( "t":["urn:uuid:ab","y\"z","urn:uuid:a "], "n":1.0})");
  EXPECT_EQ(*rewrite_references(in, {}), in);
  EXPECT_FALSE(rewrite_references("{\"a\":\"\xFF\"}", rewrites).is_ok());
}

// `resource` with every quoted "urn:uuid:..." string replaced textually through `rewrites`:
// what rewrite_references must produce for Synthea, which never escapes inside these strings.
std::string rewrite_textually(const std::string& resource,
                              const std::map<std::string, std::string>& rewrites) {
  std::string out;
  size_t copied = 0;
  for (size_t at = resource.find("\"urn:uuid:"); at != std::string::npos;
       at = resource.find("\"urn:uuid:", at + 1)) {
    const size_t close = resource.find('"', at + 1);
    const auto found = rewrites.find(resource.substr(at + 1, close - at - 1));
    if (found == rewrites.end()) continue;
    out.append(resource, copied, at - copied);
    out += "\"" + found->second + "\"";
    copied = close + 1;
  }
  return out + resource.substr(copied);
}

TEST(RecordsResource, ParsesAndRewritesEverySyntheaBundle) {
  const std::vector<std::string> files = synthea();
  ASSERT_EQ(files.size(), 40u);
  size_t resources = 0;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    const std::string bytes = testing::read_file(path);
    const json parsed = json::parse(bytes);
    Result<std::vector<BundleEntry>> entries = parse_transaction(bytes);
    ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
    ASSERT_EQ(entries->size(), parsed["entry"].size());
    std::map<std::string, std::string> rewrites;
    for (size_t i = 0; i < entries->size(); ++i) {
      const BundleEntry& e = (*entries)[i];
      ASSERT_EQ(e.method, "POST");
      ASSERT_TRUE(e.full_url.starts_with("urn:uuid:"));
      rewrites[e.full_url] = e.url + "/id-" + std::to_string(i);
    }
    for (size_t i = 0; i < entries->size(); ++i) {
      const BundleEntry& e = (*entries)[i];
      ASSERT_EQ(json::parse(e.resource), parsed["entry"][i]["resource"]);
      Result<ResourceInfo> info = inspect_resource(e.resource);
      ASSERT_TRUE(info.is_ok()) << info.status().to_string();
      EXPECT_EQ(info->type, e.url);
      Result<std::string> rewritten = rewrite_references(e.resource, rewrites);
      ASSERT_TRUE(rewritten.is_ok()) << rewritten.status().to_string();
      EXPECT_EQ(rewritten->find("urn:uuid:"), std::string::npos);
      EXPECT_EQ(*rewritten, rewrite_textually(std::string(e.resource), rewrites));
      // The spans found while the bundle was parsed give the same result without a rescan.
      EXPECT_EQ(rewrite_uuid_references(e, rewrites), *rewritten);
      ++resources;
    }
  }
  EXPECT_GT(resources, 8000u);
}

TEST(RecordsResource, SyntheaCompartmentsAfterRewriting) {
  const std::string bytes = testing::read_file(synthea().at(20));
  Result<std::vector<BundleEntry>> entries = parse_transaction(bytes);
  ASSERT_TRUE(entries.is_ok());
  std::map<std::string, std::string> rewrites;
  for (const BundleEntry& e : *entries) rewrites[e.full_url] = e.url + "/" + e.full_url.substr(9);
  std::string patient;
  size_t in_compartment = 0;
  for (const BundleEntry& e : *entries) {
    const std::string compartment = patient_compartment(*rewrite_references(e.resource, rewrites));
    if (e.url == "Patient") patient = compartment;
    if (!compartment.empty()) ++in_compartment;
  }
  ASSERT_FALSE(patient.empty());
  // Everything but the Organizations and Practitioners belongs to the one patient.
  EXPECT_GT(in_compartment, entries->size() / 2);
}

// rewrite_and_stamp must equal rewriting and then stamping in two steps, for whatever it gets.
void expect_one_pass_equals_two_steps(const BundleEntry& e,
                                      const std::map<std::string, std::string>& rewrites) {
  Result<StampedResource> two =
      stamp_and_inspect(rewrite_uuid_references(e, rewrites), kNewId, kVersion, kUpdated);
  Result<StampedResource> one = rewrite_and_stamp(e, rewrites, kNewId, kVersion, kUpdated);
  ASSERT_EQ(one.is_ok(), two.is_ok()) << (one ? two.status() : one.status()).to_string();
  if (!one) return;
  EXPECT_EQ(one->bytes, two->bytes);
  EXPECT_EQ(one->info.type, two->info.type);
  EXPECT_EQ(one->info.id, two->info.id);
  EXPECT_EQ(one->compartment, two->compartment);
  EXPECT_EQ(rewritten_size(e, rewrites), rewrite_uuid_references(e, rewrites).size());
  // The service looks the references up in a hash map: the same rewrites, in the same order.
  const std::unordered_map<std::string, std::string> hashed(rewrites.begin(), rewrites.end());
  const std::vector<UuidRewrite> ordered = uuid_rewrites(e, rewrites);
  const std::vector<UuidRewrite> from_hash = uuid_rewrites(e, hashed);
  ASSERT_EQ(ordered.size(), from_hash.size());
  for (size_t i = 0; i < ordered.size(); ++i) {
    EXPECT_EQ(ordered[i].span.begin, from_hash[i].span.begin);
    EXPECT_EQ(*ordered[i].value, *from_hash[i].value);
  }
}

TEST(RecordsResource, OnePassRewriteAndStampEqualsTwoStepsForEverySyntheaEntry) {
  size_t checked = 0;
  size_t in_compartment = 0;
  for (const std::string& path : synthea()) {
    SCOPED_TRACE(path);
    const std::string bytes = testing::read_file(path);
    Result<std::vector<BundleEntry>> entries = parse_transaction(bytes);
    ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
    std::map<std::string, std::string> rewrites;
    for (const BundleEntry& e : *entries) rewrites[e.full_url] = e.url + "/" + e.full_url.substr(9);
    for (const BundleEntry& e : *entries) {
      expect_one_pass_equals_two_steps(e, rewrites);
      Result<StampedResource> one = rewrite_and_stamp(e, rewrites, kNewId, kVersion, kUpdated);
      ASSERT_TRUE(one.is_ok()) << one.status().to_string();
      EXPECT_EQ(one->bytes.find("urn:uuid:"), std::string::npos);
      if (!one->compartment.empty()) ++in_compartment;
      ++checked;
    }
  }
  EXPECT_GT(checked, 8000u);
  EXPECT_GT(in_compartment, checked / 2);
}

// A transaction Bundle with one POST of `resource`.
std::string bundle_of(std::string_view resource) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:)"
         R"(00000000-0000-4000-8000-000000000001","resource":)" +
         std::string(resource) + R"(,"request":{"method":"POST","url":"Patient"}}]})";
}

TEST(RecordsResource, OnePassRewriteAndStampEqualsTwoStepsForEveryExampleAndOddCase) {
  std::vector<std::string> resources;
  for (const std::string& path : examples()) resources.push_back(testing::read_file(path));
  // Rewrites inside values that stamping replaces, references that rewriting changes, resources
  // that stamping refuses.
  const std::string uuid = "urn:uuid:00000000-0000-4000-8000-000000000001";
  resources.push_back(R"({"resourceType":"Observation","meta":{"versionId":")" + uuid +
                      R"(","lastUpdated":{"a":[")" + uuid + R"("]}},"subject":{"reference":")" +
                      uuid + R"("}})");
  resources.push_back(R"({"resourceType":"Observation","patient":{"reference":"Group/1"},)"
                      R"("subject":{"reference":")" + uuid + R"("}})");
  resources.push_back(R"({"resourceType":"Observation","subject":{"reference":"Patient/1"}})");
  resources.push_back(R"({"resourceType":"Patient","meta":[")" + uuid + R"("]})");
  resources.push_back(R"({"resourceType":"Patient","id":")" + uuid + R"("})");
  resources.push_back(R"({"resourceType":"patient"})");
  resources.push_back(R"({"id":"x"})");
  const std::map<std::string, std::string> rewrites = {{uuid, "Patient/p1"}};
  for (const std::string& resource : resources) {
    SCOPED_TRACE(resource.substr(0, 200));
    const std::string bundle = bundle_of(resource);
    Result<std::vector<BundleEntry>> entries = parse_transaction(bundle);
    ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
    ASSERT_EQ(entries->size(), 1u);
    expect_one_pass_equals_two_steps(entries->front(), rewrites);
    expect_one_pass_equals_two_steps(entries->front(), {});
  }
  const std::string odd_bundle = bundle_of(resources.back());
  Result<std::vector<BundleEntry>> odd = parse_transaction(odd_bundle);
  EXPECT_FALSE(rewrite_and_stamp(odd->front(), rewrites, kNewId, kVersion, kUpdated).is_ok());
  const std::string first_bundle = bundle_of(resources[resources.size() - 7]);
  Result<std::vector<BundleEntry>> first = parse_transaction(first_bundle);
  Result<StampedResource> stamped =
      rewrite_and_stamp(first->front(), rewrites, kNewId, kVersion, kUpdated);
  ASSERT_TRUE(stamped.is_ok());
  EXPECT_EQ(stamped->compartment, "Patient/p1");
}

bool json_accepts(std::string_view text) {
  return records::json::Document::scan(text, kMaxDepth).is_ok();
}

// True when some object in `text` (which nlohmann accepts) repeats a member name.
bool has_duplicate_name(const std::string& text) {
  struct Sax : nlohmann::json_sax<json> {
    std::vector<std::set<std::string>> open;
    bool duplicate = false;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(json::number_integer_t) override { return true; }
    bool number_unsigned(json::number_unsigned_t) override { return true; }
    bool number_float(json::number_float_t, const std::string&) override { return true; }
    bool string(std::string&) override { return true; }
    bool binary(json::binary_t&) override { return true; }
    bool start_object(size_t) override {
      open.emplace_back();
      return true;
    }
    bool key(std::string& name) override {
      duplicate |= !open.back().insert(name).second;
      return true;
    }
    bool end_object() override {
      open.pop_back();
      return true;
    }
    bool start_array(size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) override {
      return false;
    }
  } sax;
  json::sax_parse(text, &sax);
  return sax.duplicate;
}

// A differential check against nlohmann, which is also strict about UTF-8 and the grammar but
// allows duplicate names: after every one-byte change to a real resource, both agree, except
// that the scanner may reject a duplicate name that nlohmann accepts.
TEST(RecordsResource, AgreesWithNlohmannOnMutatedInput) {
  const std::string original = testing::read_file(
      testing::shared_dir() + "/data/fhir-r4-examples/Patient-example.json");
  const char replacements[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', 'u',
                               ' ', '\n', '\x01', '\x7F', '\x80', '\xC3', '\xED', '\xFF'};
  uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string mutated = original;
    const size_t at = next() % mutated.size();
    mutated[at] = replacements[next() % sizeof replacements];
    const bool nlohmann_ok = json::accept(mutated);
    const bool ours = json_accepts(mutated);
    if (ours) ++accepted;
    EXPECT_TRUE(!ours || nlohmann_ok) << "byte " << at;
    if (nlohmann_ok && !ours) {
      EXPECT_TRUE(has_duplicate_name(mutated)) << "byte " << at;
    }
  }
  EXPECT_GT(accepted, 1000u);
}

}  // namespace
}  // namespace medseal::records
