// Checkpoint bodies (note/checkpoint.h) as a witness, a monitor or a mirror reads them. One that
// parses formats back to the same bytes.
#include "fuzz_input.h"
#include "note/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = medseal::fuzz::as_text(data, size);
  if (auto checkpoint = medseal::note::parse_checkpoint(input)) {
    FUZZ_CHECK(medseal::note::format_checkpoint(*checkpoint) == input);
  }
  return 0;
}
