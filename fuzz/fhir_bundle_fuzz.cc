// Transaction Bundles as a client POSTs them to /fhir (records/resource.h parse_transaction), and
// what the service does with each entry: urn:uuid references rewritten and the resource stamped in
// one pass, which must agree with rewriting and then stamping.
#include <map>
#include <string>

#include "fuzz_input.h"
#include "records/resource.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  auto entries = records::parse_transaction(fuzz::as_text(data, size), 1000);
  if (!entries) return 0;
  std::map<std::string, std::string> rewrites;
  for (size_t i = 0; i < entries->size(); ++i) {
    const records::BundleEntry& entry = (*entries)[i];
    if (!entry.full_url.empty()) rewrites[entry.full_url] = "Patient/r" + std::to_string(i);
  }
  for (const records::BundleEntry& entry : *entries) {
    if (entry.resource.empty()) continue;
    const std::string rewritten = records::rewrite_uuid_references(entry, rewrites);
    FUZZ_CHECK(rewritten.size() == records::rewritten_size(entry, rewrites));
    auto one_pass = records::rewrite_and_stamp(entry, rewrites, "f1", "1", "2024-01-01T00:00:00Z");
    auto two_pass = records::stamp_and_inspect(rewritten, "f1", "1", "2024-01-01T00:00:00Z");
    FUZZ_CHECK(one_pass.is_ok() == two_pass.is_ok());
    if (one_pass) {
      FUZZ_CHECK(one_pass->bytes == two_pass->bytes);
      FUZZ_CHECK(one_pass->compartment == two_pass->compartment);
    }
  }
  return 0;
}
