// Signed notes (note/note.h) and verifier keys (note/keys.h) as a client or a witness receives
// them. A note that parses formats back to the same bytes (the format is strict, so it has one
// spelling); opening it with the test keys must not crash whatever it holds.
#include "fuzz_input.h"
#include "note/keys.h"
#include "note/note.h"
#include "test_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  auto parsed = note::parse_note(input);
  if (parsed) FUZZ_CHECK(note::format_note(*parsed) == input);
  (void)note::open_note(input, fuzz::test_keys());
  if (auto line = note::parse_signature_line(input)) {
    FUZZ_CHECK(note::format_signature_line(*line) == input);
  }
  if (auto key = note::parse_verifier_key(input)) {
    FUZZ_CHECK(note::format_verifier_key(*key) == input);
  }
  return 0;
}
