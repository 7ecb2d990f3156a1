// Ledger statements (records/statement.h) as a receipt's holder or an auditor's tools read them
// back, and the strict JSON parser under them (util/strict_json.h). A statement that parses
// formats back to the same bytes: it has one spelling.
#include "fuzz_input.h"
#include "records/statement.h"
#include "util/strict_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  (void)parse_strict_json(input);
  if (auto statement = records::parse_statement(input)) {
    FUZZ_CHECK(records::format_statement(*statement) == input);
  }
  return 0;
}
