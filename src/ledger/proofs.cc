#include "ledger/proofs.h"

#include "ledger/store_tiles.h"
#include "merkle/proof.h"

namespace medseal::ledger {

Result<std::vector<Hash>> consistency_proof_between(storage::Store& store, uint64_t old_size,
                                                    uint64_t new_size) {
  if (old_size > new_size) {
    return Status::invalid("no consistency proof from size " + std::to_string(old_size) +
                           " down to " + std::to_string(new_size));
  }
  if (old_size == 0 || old_size == new_size) return std::vector<Hash>{};
  StoreNodeReader reader(store, new_size);
  return merkle::consistency_proof(old_size, new_size, reader);
}

Result<Hash> stored_root(storage::Store& store, uint64_t size) {
  StoreNodeReader reader(store, size);
  return merkle::tree_root(size, reader);
}

}  // namespace medseal::ledger
