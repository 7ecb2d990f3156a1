// A Store held in memory: the reference the SQLite (and later PostgreSQL) stores are compared
// with, and a fast store for tests of the ledger's own logic.
#pragma once

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "storage/store.h"

namespace medseal::testing {

class MemoryStore : public storage::Store {
 public:
  Status commit(const storage::Batch& batch) override;
  Result<storage::LogHead> head() override;
  Result<storage::StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) override;
  Result<storage::EntryExtra> read_extra(uint64_t index) override;
  // TODO(records): replaced by the records tables (issue 3, in progress).
  Result<storage::RecordVersion> read_record(std::string_view, std::string_view, uint64_t) override {
    return Status::internal("records not implemented yet");
  }
  Result<storage::RecordPage> record_history(std::string_view, std::string_view, uint64_t, uint64_t) override {
    return Status::internal("records not implemented yet");
  }
  Result<storage::RecordPage> search_records(const storage::RecordQuery&) override {
    return Status::internal("records not implemented yet");
  }
  Result<std::vector<uint64_t>> entries_with_key(std::string_view, uint64_t, uint64_t) override {
    return Status::internal("records not implemented yet");
  }


  // Drops every tile's saved nodes, as a store that does not keep them would.
  void forget_nodes();

 private:
  std::mutex mu_;
  storage::LogHead head_;
  std::map<std::tuple<bool, uint8_t, uint64_t>, storage::StoredTile> tiles_;
  std::vector<storage::EntryExtra> extras_;
};

}  // namespace medseal::testing
