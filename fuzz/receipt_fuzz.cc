// tlog-proof receipts (note/tlog_proof.h, ledger/receipt.h) as `medseal verify` and the portal
// read them from anyone. A proof that parses formats back to the same bytes; verifying it with the
// test log's key, and pinned to its own checkpoint (which skips the signatures, so the fuzzer gets
// through to the leaf, commitment and inclusion checks), must not crash.
#include "fuzz_input.h"
#include "ledger/receipt.h"
#include "note/checkpoint.h"
#include "note/note.h"
#include "note/tlog_proof.h"
#include "test_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medseal;
  const std::string_view input = fuzz::as_text(data, size);
  auto proof = note::parse_tlog_proof(input);
  if (!proof) return 0;
  FUZZ_CHECK(note::format_tlog_proof(*proof) == input);
  static const note::VerifierKey log_key = fuzz::test_key(fuzz::kTesseraLogKey);
  (void)ledger::verify_receipt(input, log_key);
  auto signed_note = note::parse_note(proof->checkpoint);
  FUZZ_CHECK(signed_note.is_ok());  // parse_tlog_proof checked it
  if (auto pinned = note::parse_checkpoint(signed_note->text)) {
    if (auto verified = ledger::verify_receipt_pinned(input, *pinned)) {
      FUZZ_CHECK(verified->index == proof->index);
    }
  }
  return 0;
}
