// A Store wrapper that injects storage faults on demand and counts commits, so tests can prove
// that a failed batch is never acknowledged and that the ledger recovers once the fault clears.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "storage/store.h"

namespace medseal::testing {

class FaultStore : public storage::Store {
 public:
  explicit FaultStore(storage::Store& inner) : inner_(inner) {}

  // Every commit fails with `error` and nothing reaches the inner store, until clear().
  void fail_commits(Status error);
  // Commits reach the inner store and succeed there, but report `error`: the reply was lost
  // (a crash between fsync and answer, a dropped database connection).
  void fail_after_commits(Status error);
  // Every read (head, tiles, extras, records, keys) fails with `error`, until clear().
  void fail_reads(Status error);
  // Every sync() fails with `error` after the inner store's, until clear().
  void fail_syncs(Status error);
  // sync() waits until release_syncs(), as a disk slow to flush would.
  void hold_syncs();
  void release_syncs();
  void clear();

  size_t commits() const;         // commits that reached the inner store and succeeded there
  size_t failed_commits() const;  // commits that reported an error
  std::vector<uint64_t> committed_sizes() const;  // entries per successful commit, in order

  Status commit(const storage::Batch& batch) override;
  Status commit_unsynced(const storage::Batch& batch) override;  // commit()'s faults
  Status sync() override;
  Result<storage::LogHead> head() override;
  Result<storage::StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) override;
  Result<std::vector<storage::StoredTile>> read_tiles(
      std::span<const storage::TileRef> refs) override;
  Result<storage::EntryExtra> read_extra(uint64_t index) override;
  Result<storage::RecordVersion> read_record(std::string_view type, std::string_view id,
                                             uint64_t version) override;
  Result<storage::RecordPage> record_history(std::string_view type, std::string_view id,
                                             uint64_t offset, uint64_t limit) override;
  Result<storage::RecordPage> search_records(const storage::RecordQuery& query) override;
  Result<std::vector<uint64_t>> entries_with_key(std::string_view key, uint64_t offset,
                                                 uint64_t limit) override;

 private:
  std::optional<Status> read_fault() const;
  template <typename Commit>
  Status commit_with(const storage::Batch& batch, Commit inner_commit);

  storage::Store& inner_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  bool holding_syncs_ = false;
  std::optional<Status> commit_fault_, after_commit_fault_, read_fault_, sync_fault_;
  size_t failed_ = 0;
  std::vector<uint64_t> committed_;
};

}  // namespace medseal::testing
