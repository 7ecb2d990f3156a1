// FHIR resources as a client sends them to POST or PUT (records/resource.h over
// records/json_scan.h), and the FHIR dates the relation index reads from them
// (records/relations.h). The one-scan stamp agrees with inspect_resource and patient_compartment,
// and stamping keeps the document strict JSON that inspects as the same resource.
#include <map>
#include <string>

#include "fuzz_input.h"
#include "records/json_scan.h"
#include "records/relations.h"
#include "records/resource.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  (void)records::json::Document::scan(input, records::kMaxDepth);
  (void)records::parse_fhir_time(input, false);
  (void)records::parse_fhir_time(input, true);
  (void)records::parse_version_etag(input);

  auto info = records::inspect_resource(input);
  auto stamped = records::stamp_and_inspect(input, "fuzz-1", "7", "2024-01-01T00:00:00.000Z");
  FUZZ_CHECK(info.is_ok() || !stamped.is_ok());  // stamping also refuses a meta that is no object
  (void)records::patient_compartment(input);
  static const std::map<std::string, std::string> rewrites = {
      {"urn:uuid:00000000-0000-0000-0000-000000000001", "Patient/p1"}};
  (void)records::rewrite_references(input, rewrites);
  if (!stamped) return 0;
  FUZZ_CHECK(stamped->info.type == info->type && stamped->info.id == info->id);
  auto again = records::inspect_resource(stamped->bytes);
  FUZZ_CHECK(again.is_ok() && again->type == info->type && again->id == "fuzz-1");
  FUZZ_CHECK(stamped->compartment == records::patient_compartment(stamped->bytes));
  return 0;
}
