// Publication codes typed in from print and publications files (ledger/publication.h), as
// `medseal verify --publication` and `medseal extend` read them. A code that parses formats to
// a code that parses to the same publication.
#include "fuzz_input.h"
#include "ledger/publication.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  if (auto publication = ledger::parse_publication_code(input)) {
    auto code = ledger::format_publication_code(*publication);
    FUZZ_CHECK(code.is_ok());
    auto again = ledger::parse_publication_code(*code);
    FUZZ_CHECK(again.is_ok() && *again == *publication);
  }
  if (auto records = ledger::parse_publications_file(input)) {
    for (const ledger::PublicationRecord& record : *records) {
      FUZZ_CHECK(ledger::parse_publication_code(record.code).is_ok());
    }
  }
  return 0;
}
