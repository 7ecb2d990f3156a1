// FHIR search and paging parameters as a client sends them (server/fhir_query.h): the raw query
// string for every kind of interaction. A query string that parses formats to one that parses to
// the same pairs.
#include "fuzz_input.h"
#include "server/fhir_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal::server::fhir;
  const std::string_view raw = medseal::fuzz::as_text(data, size);
  for (Accepts accepts : {Accepts::kNothing, Accepts::kPaging, Accepts::kSearch, Accepts::kTrail}) {
    if (auto parsed = parse_parameters(raw, accepts)) {
      (void)with_paging(parsed->params, parsed->paging);
    }
  }
  (void)parse_last_updated(raw);
  if (auto params = parse_query_string(raw)) {
    auto again = parse_query_string(format_query_string(*params));
    FUZZ_CHECK(again.is_ok() && again->size() == params->size());
    for (size_t i = 0; i < params->size(); ++i) {
      FUZZ_CHECK((*again)[i].name == (*params)[i].name && (*again)[i].value == (*params)[i].value);
    }
  }
  return 0;
}
