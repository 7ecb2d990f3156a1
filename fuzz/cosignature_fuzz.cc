// Cosignatures (note/cosignature.h) and a witness's replies as the log reads them
// (witness/witness_client.h): "<checkpoint text>\n--\n<reply body>". Every cosignature line of a
// 200 body is verified against the checkpoint with the test cosigner key, as the cosigner does.
#include "fuzz_input.h"
#include "note/cosignature.h"
#include "test_keys.h"
#include "witness/witness_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const auto [checkpoint_text, body] = fuzz::split_once(fuzz::as_text(data, size), "\n--\n");
  (void)witness::parse_tlog_size(body);
  auto lines = witness::parse_cosignature_lines(body);
  if (!lines) return 0;
  static const note::VerifierKey cosigner = fuzz::test_key(fuzz::kCosignerVectorKey);
  for (const note::NoteSignature& sig : *lines) {
    (void)note::verify_cosignature(checkpoint_text, cosigner, sig);
  }
  return 0;
}
