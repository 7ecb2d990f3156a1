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

  // Drops every tile's saved nodes, as a store that does not keep them would.
  void forget_nodes();

 private:
  std::mutex mu_;
  storage::LogHead head_;
  std::map<std::tuple<bool, uint8_t, uint64_t>, storage::StoredTile> tiles_;
  std::vector<storage::EntryExtra> extras_;
};

}  // namespace medseal::testing
