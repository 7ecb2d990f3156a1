// Ledger statements (records/statement.h) as a receipt's holder or an auditor's tools read them
// back, and the strict JSON parser under them (util/strict_json.h). A statement that parses
// formats to a statement that parses and formats to the same bytes (the parser accepts any key
// order and whitespace; the leaf commits to the bytes, so that is harmless).
#include <string>

#include "fuzz_input.h"
#include "records/statement.h"
#include "util/strict_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  (void)parse_strict_json(input);
  if (auto statement = records::parse_statement(input)) {
    const std::string formatted = records::format_statement(*statement);
    auto again = records::parse_statement(formatted);
    FUZZ_CHECK(again.is_ok() && records::format_statement(*again) == formatted);
  }
  return 0;
}
