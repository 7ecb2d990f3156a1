#include "support/memory_store.h"

namespace medseal::testing {

Status MemoryStore::commit(const storage::Batch& batch) {
  std::lock_guard lock(mu_);
  if (batch.old_size != head_.size) return Status::precondition("stored size differs");
  if (batch.new_size != batch.old_size + batch.extras.size()) return Status::invalid("sizes");
  for (const storage::TileBlob& t : batch.tiles) {
    tiles_[{t.id.entries, t.id.level, t.id.index}] = {t.id.width, t.bytes, t.nodes};
  }
  extras_.insert(extras_.end(), batch.extras.begin(), batch.extras.end());
  head_ = {batch.new_size, batch.checkpoint};
  return Status::ok();
}

Result<storage::LogHead> MemoryStore::head() {
  std::lock_guard lock(mu_);
  return head_;
}

Result<storage::StoredTile> MemoryStore::read_tile(bool entries, uint8_t level, uint64_t index) {
  std::lock_guard lock(mu_);
  auto it = tiles_.find({entries, level, index});
  if (it == tiles_.end()) return Status::not_found("no such tile");
  return it->second;
}

Result<storage::EntryExtra> MemoryStore::read_extra(uint64_t index) {
  std::lock_guard lock(mu_);
  if (index >= extras_.size()) return Status::not_found("no such entry");
  return extras_[index];
}

void MemoryStore::forget_nodes() {
  std::lock_guard lock(mu_);
  for (auto& [id, tile] : tiles_) tile.nodes.clear();
}

}  // namespace medseal::testing
