// A Store held in memory: the reference the SQLite (and later PostgreSQL) stores are compared
// with, and a fast store for tests of the ledger's own logic.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace medseal::testing {

class MemoryStore : public storage::Store {
 public:
  Status commit(const storage::Batch& batch) override;
  Result<storage::LogHead> head() override;
  Result<storage::StoredTile> read_tile(bool entries, uint8_t level, uint64_t index) override;
  Result<storage::EntryExtra> read_extra(uint64_t index) override;
  Result<storage::RecordVersion> read_record(std::string_view type, std::string_view id,
                                             uint64_t version) override;
  Result<storage::RecordPage> record_history(std::string_view type, std::string_view id,
                                             uint64_t offset, uint64_t limit) override;
  Result<storage::RecordPage> search_records(const storage::RecordQuery& query) override;
  Result<std::vector<uint64_t>> entries_with_key(std::string_view key, uint64_t offset,
                                                 uint64_t limit) override;

  // Drops every tile's saved nodes, as a store that does not keep them would.
  void forget_nodes();

 private:
  using RecordKey = std::pair<std::string, std::string>;  // (type, id)
  using Versions = std::map<uint64_t, storage::RecordVersion>;

  Status check_new_versions(const storage::Batch& batch) const;
  void erase(const storage::Erasure& erasure);

  std::mutex mu_;
  storage::LogHead head_;
  std::map<std::tuple<bool, uint8_t, uint64_t>, storage::StoredTile> tiles_;
  std::vector<std::optional<storage::EntryExtra>> extras_;  // nullopt: erased
  std::map<RecordKey, Versions> records_;
  std::map<std::string, std::set<uint64_t>, std::less<>> keys_;
};

}  // namespace medseal::testing
