// Inputs the fuzz targets (fuzz/) found crashing, each kept as a test of the module that was
// fixed, with the input inline. The fuzz target that found it is named in each test.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "note/keys.h"
#include "records/json_scan.h"
#include "records/resource.h"
#include "records/service.h"
#include "support/manual_clock.h"
#include "support/memory_store.h"

namespace medseal {
namespace {

constexpr std::string_view kLastUpdated = "2024-01-01T00:00:00.000Z";

// fhir_resource_fuzz: whitespace before the resource's '{' shifted every stamping site by its
// length, so the id and meta were spliced into the middle of resourceType's string and the
// stored bytes were no JSON at all (crash-1bf3809d, reduced).
// fhir_bundle_fuzz: a document ending in eight or more spaces made the scanner's whitespace skip
// (eight spaces at a time) read one byte past the end (crash-9de997f7: "5" and eight spaces).
// The bytes sit in a buffer of exactly their size, so AddressSanitizer sees the overread.
TEST(FuzzRegression, TrailingSpacesEndTheScanAtTheLastByte) {
  for (const std::string text : {"5        ", "{}        ", "[1]                "}) {
    auto exact = std::make_unique<char[]>(text.size());
    std::copy(text.begin(), text.end(), exact.get());
    auto doc = records::json::Document::scan(std::string_view(exact.get(), text.size()), 8);
    EXPECT_TRUE(doc.is_ok()) << text << ": " << doc.status().to_string();
  }
  const std::string unterminated = "{\"a\":        ";
  auto exact = std::make_unique<char[]>(unterminated.size());
  std::copy(unterminated.begin(), unterminated.end(), exact.get());
  EXPECT_FALSE(records::json::Document::scan(std::string_view(exact.get(), unterminated.size()), 8).is_ok());
}

TEST(FuzzRegression, StampKeepsWhitespaceBeforeTheObject) {
  const std::string sent = "\n {\n \"resourceType\": \"Patient\"\n}\n";
  auto stamped = records::stamp_and_inspect(sent, "p1", "1", kLastUpdated);
  ASSERT_TRUE(stamped.is_ok()) << stamped.status().to_string();
  EXPECT_EQ(stamped->bytes,
            "\n {\n \"resourceType\": \"Patient\",\n \"id\": \"p1\",\n \"meta\": {\"versionId\": \"1\", "
            "\"lastUpdated\": \"2024-01-01T00:00:00.000Z\"}\n}\n");
  auto inspected = records::inspect_resource(stamped->bytes);
  ASSERT_TRUE(inspected.is_ok()) << inspected.status().to_string();
  EXPECT_EQ(inspected->id, "p1");
  EXPECT_EQ(stamped->compartment, "Patient/p1");
}

TEST(FuzzRegression, StampWithWhitespaceBeforeAnObjectWithIdAndMeta) {
  const std::string sent =
      " \t{\"resourceType\":\"Observation\",\"id\":\"old\",\"meta\":{\"versionId\":\"9\"},"
      "\"subject\":{\"reference\":\"Patient/p2\"}}";
  auto stamped = records::stamp_and_inspect(sent, "o1", "2", kLastUpdated);
  ASSERT_TRUE(stamped.is_ok()) << stamped.status().to_string();
  EXPECT_EQ(stamped->bytes,
            " \t{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"2\","
            "\"lastUpdated\":\"2024-01-01T00:00:00.000Z\"},\"subject\":{\"reference\":\"Patient/p2\"}}");
  EXPECT_EQ(stamped->compartment, "Patient/p2");
}

// The same through the record service, as a POST body with a leading newline arrives: what is
// stored and served back is strict JSON with the server's id.
TEST(FuzzRegression, CreatedResourceWithLeadingWhitespaceReadsBackAsJson) {
  testing::ManualClock clock(1'704'067'200'000);
  testing::MemoryStore store;
  auto ledger = ledger::Ledger::open(store, note::generate_signer_key("fuzz.example/log"));
  ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
  records::RecordService service(**ledger, store, clock);
  const records::Caller clinician{{"dr.who", identity::Role::kClinician, ""}, "TREAT"};
  auto written = service.create(clinician, "Patient", "\n{\"resourceType\":\"Patient\"}", nullptr);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  auto inspected = records::inspect_resource(written->version.bytes);
  ASSERT_TRUE(inspected.is_ok()) << inspected.status().to_string();
  EXPECT_EQ(inspected->id, written->version.id);
}

}  // namespace
}  // namespace medseal
