#include "support/fault_store.h"

namespace medseal::testing {

void FaultStore::fail_commits(Status error) {
  std::lock_guard lock(mu_);
  commit_fault_ = std::move(error);
}

void FaultStore::fail_after_commits(Status error) {
  std::lock_guard lock(mu_);
  after_commit_fault_ = std::move(error);
}

void FaultStore::fail_reads(Status error) {
  std::lock_guard lock(mu_);
  read_fault_ = std::move(error);
}

void FaultStore::fail_syncs(Status error) {
  std::lock_guard lock(mu_);
  sync_fault_ = std::move(error);
}

void FaultStore::hold_syncs() {
  std::lock_guard lock(mu_);
  holding_syncs_ = true;
}

void FaultStore::release_syncs() {
  {
    std::lock_guard lock(mu_);
    holding_syncs_ = false;
  }
  released_.notify_all();
}

void FaultStore::clear() {
  std::lock_guard lock(mu_);
  commit_fault_.reset();
  after_commit_fault_.reset();
  read_fault_.reset();
  sync_fault_.reset();
}

size_t FaultStore::commits() const {
  std::lock_guard lock(mu_);
  return committed_.size();
}

size_t FaultStore::failed_commits() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::vector<uint64_t> FaultStore::committed_sizes() const {
  std::lock_guard lock(mu_);
  return committed_;
}

Status FaultStore::commit(const storage::Batch& batch) {
  return commit_with(batch, [&] { return inner_.commit(batch); });
}

Status FaultStore::commit_unsynced(const storage::Batch& batch) {
  return commit_with(batch, [&] { return inner_.commit_unsynced(batch); });
}

Status FaultStore::sync() {
  std::unique_lock lock(mu_);
  released_.wait(lock, [&] { return !holding_syncs_; });
  lock.unlock();
  Status s = inner_.sync();
  lock.lock();
  return s && sync_fault_ ? *sync_fault_ : s;
}

template <typename Commit>
Status FaultStore::commit_with(const storage::Batch& batch, Commit inner_commit) {
  std::unique_lock lock(mu_);
  if (commit_fault_) {
    ++failed_;
    return *commit_fault_;
  }
  lock.unlock();
  Status s = inner_commit();
  lock.lock();
  if (s) committed_.push_back(batch.new_size - batch.old_size);
  if (s && after_commit_fault_) s = *after_commit_fault_;
  if (!s) ++failed_;
  return s;
}

std::optional<Status> FaultStore::read_fault() const {
  std::lock_guard lock(mu_);
  return read_fault_;
}

Result<storage::LogHead> FaultStore::head() {
  if (auto f = read_fault()) return *f;
  return inner_.head();
}

Result<storage::StoredTile> FaultStore::read_tile(bool entries, uint8_t level, uint64_t index) {
  if (auto f = read_fault()) return *f;
  return inner_.read_tile(entries, level, index);
}

Result<std::vector<storage::StoredTile>> FaultStore::read_tiles(
    std::span<const storage::TileRef> refs) {
  if (auto f = read_fault()) return *f;
  return inner_.read_tiles(refs);
}

Result<storage::EntryExtra> FaultStore::read_extra(uint64_t index) {
  if (auto f = read_fault()) return *f;
  return inner_.read_extra(index);
}

Result<storage::RecordVersion> FaultStore::read_record(std::string_view type, std::string_view id,
                                                       uint64_t version) {
  if (auto f = read_fault()) return *f;
  return inner_.read_record(type, id, version);
}

Result<storage::RecordPage> FaultStore::record_history(std::string_view type, std::string_view id,
                                                       uint64_t offset, uint64_t limit) {
  if (auto f = read_fault()) return *f;
  return inner_.record_history(type, id, offset, limit);
}

Result<storage::RecordPage> FaultStore::search_records(const storage::RecordQuery& query) {
  if (auto f = read_fault()) return *f;
  return inner_.search_records(query);
}

Result<std::vector<uint64_t>> FaultStore::entries_with_key(std::string_view key, uint64_t offset,
                                                           uint64_t limit) {
  if (auto f = read_fault()) return *f;
  return inner_.entries_with_key(key, offset, limit);
}

}  // namespace medseal::testing
