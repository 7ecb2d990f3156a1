#include "storage/record_rows.h"

#include <algorithm>
#include <string>
#include <vector>

namespace medseal::storage {
namespace {

bool valid_name(std::string_view name) { return !name.empty() && name.size() <= kMaxNameBytes; }

bool in_batch(const Batch& batch, uint64_t index) {
  return index >= batch.old_size && index < batch.new_size;
}

Status check_record(const Batch& batch, const RecordVersion& r) {
  if (!valid_name(r.type) || !valid_name(r.id) || r.compartment.size() > kMaxNameBytes) {
    return Status::invalid("a record's type, id or compartment is empty or too long");
  }
  if (r.version == 0 || r.version > kMaxStoredInt || r.updated_ms > kMaxStoredInt) {
    return Status::invalid("a record's version or time is out of range");
  }
  if (!in_batch(batch, r.ledger_index)) {
    return Status::invalid("record ledger index " + std::to_string(r.ledger_index) +
                           " is not in the batch");
  }
  if (r.deleted && !r.bytes.empty()) return Status::invalid("a deleted version has bytes");
  return Status::ok();
}

Status check_erasure(const Batch& batch, const Erasure& e) {
  if (!valid_name(e.type) || !valid_name(e.id)) {
    return Status::invalid("an erasure's type or id is empty or too long");
  }
  for (uint64_t index : e.indexes) {
    if (index >= batch.new_size) {
      return Status::invalid("erased index " + std::to_string(index) + " is beyond the log");
    }
  }
  return Status::ok();
}

// An entry commits to at most one record version, so stores may key versions by entry.
Status check_one_record_per_entry(const Batch& batch) {
  std::vector<uint64_t> indexes;
  indexes.reserve(batch.records.size());
  for (const RecordVersion& r : batch.records) indexes.push_back(r.ledger_index);
  std::sort(indexes.begin(), indexes.end());
  auto twice = std::adjacent_find(indexes.begin(), indexes.end());
  if (twice == indexes.end()) return Status::ok();
  return Status::invalid("ledger index " + std::to_string(*twice) + " has two records");
}

}  // namespace

Status check_record_rows(const Batch& batch) {
  for (const RecordVersion& r : batch.records) MEDSEAL_RETURN_IF_ERROR(check_record(batch, r));
  if (batch.records.size() > 1) MEDSEAL_RETURN_IF_ERROR(check_one_record_per_entry(batch));
  for (const EntryKey& k : batch.keys) {
    if (!valid_name(k.key)) return Status::invalid("an entry key is empty or too long");
    if (!in_batch(batch, k.index)) {
      return Status::invalid("key index " + std::to_string(k.index) + " is not in the batch");
    }
  }
  for (const Erasure& e : batch.erasures) MEDSEAL_RETURN_IF_ERROR(check_erasure(batch, e));
  return Status::ok();
}

Result<std::vector<ExtrasRun>> check_batch(const Batch& batch) {
  if (batch.new_size != batch.old_size + batch.extras.size()) {
    return Status::invalid("batch sizes do not match its extras");
  }
  MEDSEAL_RETURN_IF_ERROR(check_record_rows(batch));
  return encode_extras_runs(batch.old_size, batch.extras);
}

Status check_tile(const TileBlob& t) {
  if (t.id.width == 0 || t.id.width > merkle::kTileWidth ||
      (!t.id.entries && t.bytes.size() != size_t{t.id.width} * 32)) {
    return Status::invalid("a tile's width does not match its bytes");
  }
  return Status::ok();
}

Status check_record_query(const RecordQuery& query) {
  if (!valid_name(query.type)) return Status::invalid("a search needs a record type");
  if (query.ids.size() > kMaxQueryIds) return Status::invalid("a search lists too many ids");
  return Status::ok();
}

Status check_history_args(std::string_view type, std::string_view id) {
  if (!id.empty() && type.empty()) return Status::invalid("a record history needs its type");
  return Status::ok();
}

bool newer_first(const RecordVersion& a, const RecordVersion& b) {
  return a.ledger_index > b.ledger_index;
}

}  // namespace medseal::storage
