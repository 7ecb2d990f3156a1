// Receipts (DESIGN.md 4.4): a c2sp.org/tlog-proof@v1 whose extra is leaf[42] || salt[32] ||
// statement. Building one reads the store; verifying one is pure and needs only the log's key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/entry.h"
#include "note/checkpoint.h"
#include "note/keys.h"
#include "storage/store.h"
#include "util/status.h"

namespace medseal::ledger {

struct VerifiedReceipt {
  uint64_t index = 0;
  Entry entry;
  std::string salt;
  std::string statement;
  note::Checkpoint checkpoint;  // the checkpoint the entry is proven against
  std::string checkpoint_note;  // verbatim; witness cosignatures in it are not verified here
};

// Verifies a receipt offline: the extra decodes into entry, salt and statement; the entry commits
// to salt and statement; the checkpoint is signed by `log_key` and its origin is the key's name;
// the inclusion proof leads from the entry's leaf hash to the checkpoint's root. Every failure
// has its own one-line reason (kInvalidArgument for malformed input, kVerificationFailed for
// well-formed input that does not check out). Witness policy is the caller's.
Result<VerifiedReceipt> verify_receipt(std::string_view receipt, const note::VerifierKey& log_key);

// Verifies a receipt against a checkpoint the caller already trusts instead of a key (a
// publication pins origin, size and root): the same checks as verify_receipt, except that the
// receipt's checkpoint must have exactly `pinned`'s origin, size and root and its signatures are not
// verified at all (the returned checkpoint_note is as received).
Result<VerifiedReceipt> verify_receipt_pinned(std::string_view receipt, const note::Checkpoint& pinned);

// The receipt for entry `index` against `head` (a committed head of `store`): the inclusion proof
// from the store's tiles, the leaf from its entry bundle, salt and statement from its extras.
// kNotFound if index >= head.size or the entry's extras were erased.
Result<std::string> build_receipt(storage::Store& store, const storage::LogHead& head,
                                  uint64_t index);

}  // namespace medseal::ledger
