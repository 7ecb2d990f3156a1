// Placeholder batches for the store tests: the store does not interpret tile bytes or
// checkpoints, so these are recognisable strings rather than a real tree.
#pragma once

#include <cstdint>
#include <string>

#include "storage/store.h"

namespace medseal::testing {

// `width` hashes of 32 bytes `fill`.
std::string hashes(uint32_t width, char fill);
// Entry `index`'s salt (32 bytes `index`) and statement ("statement INDEX").
storage::EntryExtra extra_for(uint64_t index);
// A batch from `old_size` adding `n` entries (extra_for each), with every level-0 tile and bundle
// it touches: hash tiles of 'h' with 960 bytes of 'n' nodes, bundles "bundle@END" (END the index
// after the bundle's last entry), checkpoint "checkpoint@NEW_SIZE".
storage::Batch make_batch(uint64_t old_size, uint64_t n);

}  // namespace medseal::testing
