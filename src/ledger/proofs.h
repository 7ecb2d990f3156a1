// Proofs between two sizes of the log held in a Store, for callers outside the sequencer (the
// witness cosigner asks for consistency proofs from the size a witness last cosigned).
#pragma once

#include <cstdint>
#include <vector>

#include "storage/store.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::ledger {

// The RFC 9162 consistency proof from the tree of `old_size` leaves to the tree of `new_size`
// leaves, both prefixes of the tree `store` holds. Empty when old_size is 0 (tlog-witness: "the
// proof MUST be empty if the old size is zero") or equal to new_size. kInvalidArgument if
// old_size > new_size; store errors are passed on (a size beyond the stored tree is one).
Result<std::vector<Hash>> consistency_proof_between(storage::Store& store, uint64_t old_size,
                                                    uint64_t new_size);

// The root of the tree of the first `size` leaves held in `store`.
Result<Hash> stored_root(storage::Store& store, uint64_t size);

}  // namespace medseal::ledger
