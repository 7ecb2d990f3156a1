#include "support/memory_store.h"

#include <algorithm>

#include "storage/record_rows.h"

namespace medseal::testing {
namespace {

using storage::RecordPage;
using storage::RecordVersion;

// Sorts newest first and keeps the page [offset, offset + limit), with the total before paging.
RecordPage page_of(std::vector<RecordVersion> all, uint64_t offset, uint64_t limit) {
  std::sort(all.begin(), all.end(), storage::newer_first);
  RecordPage page{{}, all.size()};
  const uint64_t first = std::min<uint64_t>(offset, all.size());
  const uint64_t n = std::min({limit, storage::kMaxPageRows, all.size() - first});
  page.records.assign(std::make_move_iterator(all.begin() + first),
                      std::make_move_iterator(all.begin() + first + n));
  return page;
}

bool matches(const storage::RecordQuery& q, const RecordVersion& r) {
  if (!q.ids.empty() && std::find(q.ids.begin(), q.ids.end(), r.id) == q.ids.end()) return false;
  if (!q.compartment.empty() && r.compartment != q.compartment) return false;
  if (r.updated_ms < q.updated_from_ms || r.updated_ms >= q.updated_to_ms) return false;
  return q.include_deleted || !r.deleted;
}

}  // namespace

Status MemoryStore::commit(const storage::Batch& batch) {
  std::lock_guard lock(mu_);
  if (batch.old_size != head_.size) return Status::precondition("stored size differs");
  if (batch.new_size != batch.old_size + batch.extras.size()) return Status::invalid("sizes");
  MEDSEAL_RETURN_IF_ERROR(storage::check_record_rows(batch));
  MEDSEAL_RETURN_IF_ERROR(check_new_versions(batch));
  for (const storage::TileBlob& t : batch.tiles) {
    tiles_[{t.id.entries, t.id.level, t.id.index}] = {t.id.width, t.bytes, t.nodes};
  }
  extras_.insert(extras_.end(), batch.extras.begin(), batch.extras.end());
  for (const RecordVersion& r : batch.records) records_[{r.type, r.id}][r.version] = r;
  for (const storage::EntryKey& k : batch.keys) keys_[k.key].insert(k.index);
  for (const storage::Erasure& e : batch.erasures) erase(e);
  head_ = {batch.new_size, batch.checkpoint};
  return Status::ok();
}

// kConflict if a version of the batch is stored already or is in the batch twice.
Status MemoryStore::check_new_versions(const storage::Batch& batch) const {
  std::set<std::tuple<std::string_view, std::string_view, uint64_t>> seen;
  for (const RecordVersion& r : batch.records) {
    auto it = records_.find(RecordKey{r.type, r.id});
    const bool stored = it != records_.end() && it->second.contains(r.version);
    if (stored || !seen.emplace(r.type, r.id, r.version).second) {
      return Status::conflict("record version already stored");
    }
  }
  return Status::ok();
}

void MemoryStore::erase(const storage::Erasure& e) {
  records_.erase(RecordKey{e.type, e.id});
  for (uint64_t index : e.indexes) {
    extras_[index].reset();
    for (auto& [key, indexes] : keys_) indexes.erase(index);
  }
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
  if (index >= extras_.size() || !extras_[index]) return Status::not_found("no such entry");
  return *extras_[index];
}

Result<RecordVersion> MemoryStore::read_record(std::string_view type, std::string_view id,
                                               uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = records_.find(RecordKey{type, id});
  if (it == records_.end()) return Status::not_found("no such record");
  const Versions& versions = it->second;
  if (version == 0) return versions.rbegin()->second;
  auto v = versions.find(version);
  if (v == versions.end()) return Status::not_found("no such version");
  return v->second;
}

Result<RecordPage> MemoryStore::record_history(std::string_view type, std::string_view id,
                                               uint64_t offset, uint64_t limit) {
  MEDSEAL_RETURN_IF_ERROR(storage::check_history_args(type, id));
  std::lock_guard lock(mu_);
  std::vector<RecordVersion> all;
  for (const auto& [key, versions] : records_) {
    if ((!type.empty() && key.first != type) || (!id.empty() && key.second != id)) continue;
    for (const auto& [number, r] : versions) all.push_back(r);
  }
  return page_of(std::move(all), offset, limit);
}

Result<RecordPage> MemoryStore::search_records(const storage::RecordQuery& query) {
  MEDSEAL_RETURN_IF_ERROR(storage::check_record_query(query));
  std::lock_guard lock(mu_);
  std::vector<RecordVersion> all;
  for (const auto& [key, versions] : records_) {
    const RecordVersion& latest = versions.rbegin()->second;
    if (key.first == query.type && matches(query, latest)) all.push_back(latest);
  }
  return page_of(std::move(all), query.offset, query.limit);
}

Result<std::vector<uint64_t>> MemoryStore::entries_with_key(std::string_view key, uint64_t offset,
                                                            uint64_t limit) {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  auto it = keys_.find(key);
  if (it == keys_.end()) return out;
  const std::set<uint64_t>& indexes = it->second;
  limit = std::min(limit, storage::kMaxPageRows);
  for (auto i = indexes.rbegin(); i != indexes.rend() && out.size() < limit; ++i) {
    if (offset > 0) {
      --offset;
      continue;
    }
    out.push_back(*i);
  }
  return out;
}

void MemoryStore::forget_nodes() {
  std::lock_guard lock(mu_);
  for (auto& [id, tile] : tiles_) tile.nodes.clear();
}

}  // namespace medseal::testing
