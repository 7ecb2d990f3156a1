#include "sentinel/checks.h"

#include <algorithm>
#include <map>
#include <utility>

#include "ledger/entry.h"
#include "ledger/store_tiles.h"
#include "merkle/hash.h"
#include "merkle/tile.h"
#include "records/statement.h"
#include "storage/extras_codec.h"
#include "util/bytes.h"

namespace medseal::sentinel {

using alerts::Alert;
using alerts::Severity;

// The rows of one checked range, each marked once a statement accounts for it.
struct EntryChecker::Rows {
  std::vector<ExtrasRow> extras;
  std::map<uint64_t, RecordRow> records;
  std::map<std::pair<uint64_t, std::string>, bool> keys;  // (index, key) -> accounted for

  const ExtrasRow* run_holding(uint64_t index) const {
    for (const ExtrasRow& r : extras) {
      if (r.first_index <= index && index - r.first_index < r.count) return &r;
    }
    return nullptr;
  }
};

namespace {

std::string tile_name(bool entries, uint8_t level, uint64_t index) {
  merkle::TileId id{entries, level, index, merkle::kTileWidth};
  return merkle::tile_path(id);
}

std::string hex_at(const std::string& hashes, size_t position) {
  return hex_encode(std::string_view(hashes).substr(position * 32, 32));
}

}  // namespace

std::string versioned_name(const RecordRow& row) {
  return row.type + "/" + row.id + "/_history/" + std::to_string(row.version);
}

void EntryChecker::add(std::string kind, std::string summary, std::vector<std::string> resources,
                       std::vector<uint64_t> indexes, nlohmann::json evidence) {
  Alert a = alerts::make_alert(Severity::kCritical, std::move(kind), std::move(summary));
  a.resources = std::move(resources);
  a.indexes = std::move(indexes);
  a.evidence = std::move(evidence);
  alerts_.push_back(std::move(a));
}

Status EntryChecker::check(uint64_t from, uint64_t to, uint64_t size,
                           merkle::CompactRange* range) {
  if (from >= to) return Status::ok();
  Rows rows;
  Result<std::vector<ExtrasRow>> extras = view_.extras(from, to);
  if (!extras) return extras.status();
  rows.extras = std::move(*extras);
  Result<std::vector<RecordRow>> records = view_.records(from, to);
  if (!records) return records.status();
  for (RecordRow& r : *records) rows.records.emplace(r.ledger_index, std::move(r));
  Result<std::vector<KeyRow>> keys = view_.keys(from, to);
  if (!keys) return keys.status();
  for (KeyRow& k : *keys) rows.keys.emplace(std::make_pair(k.index, std::move(k.key)), false);

  for (uint64_t b = from / merkle::kTileWidth; b <= (to - 1) / merkle::kTileWidth; ++b) {
    MEDSEAL_RETURN_IF_ERROR(check_bundle(b, from, to, size, rows, range));
  }
  report_leftovers(rows);
  return Status::ok();
}

Status EntryChecker::check_bundle(uint64_t bundle, uint64_t from, uint64_t to, uint64_t size,
                                  Rows& rows, merkle::CompactRange* range) {
  const uint64_t first = bundle * merkle::kTileWidth;
  const uint32_t width = merkle::tile_width(0, bundle, size);
  const uint64_t lo = std::max(from, first), hi = std::min(to, first + width);
  std::vector<uint64_t> affected;
  for (uint64_t i = lo; i < hi; ++i) affected.push_back(i);
  const std::vector<std::string> names = {tile_name(true, 0, bundle), tile_name(false, 0, bundle)};

  Result<std::optional<storage::StoredTile>> stored_bundle = view_.tile(true, 0, bundle);
  if (!stored_bundle) return stored_bundle.status();
  Result<std::optional<storage::StoredTile>> stored_tile = view_.tile(false, 0, bundle);
  if (!stored_tile) return stored_tile.status();
  if (!*stored_bundle || !*stored_tile) {
    broken_ = true;
    add("missing-entry", "an entry bundle or level-0 tile is missing", names, affected,
        {{"bundle_present", stored_bundle->has_value()}, {"tile_present", stored_tile->has_value()}});
    return Status::ok();
  }
  Result<std::string> entries = ledger::cut_tile({true, 0, bundle, width}, (*stored_bundle)->bytes);
  Result<std::string> hashes = ledger::cut_tile({false, 0, bundle, width}, (*stored_tile)->bytes);
  Result<std::vector<std::string_view>> leaves = Status::internal("unread");
  if (entries) leaves = merkle::parse_entry_bundle(*entries);
  if (!hashes || !leaves || leaves->size() != width) {
    broken_ = true;
    add("content-mismatch", "an entry bundle or level-0 tile is truncated or malformed", names,
        affected, {{"width", width}});
    return Status::ok();
  }
  for (uint64_t i = lo; i < hi; ++i) {
    const std::string_view leaf = (*leaves)[i - first];
    const Hash leaf_hash = merkle::leaf_hash(leaf);
    // Compared as bytes; hex only for the alert.
    if (std::string_view(*hashes).substr((i - first) * 32, 32) != as_view(leaf_hash)) {
      add("content-mismatch", "an entry's leaf hash differs from its level-0 tile", names, {i},
          {{"expected", hex_at(*hashes, i - first)}, {"found", hex_encode(leaf_hash)}});
    }
    if (range != nullptr) range->append(leaf_hash, [](merkle::NodeId, const Hash&) {});
    check_entry(i, leaf, rows);
    ++entries_checked_;
  }
  // The tile's root must be in the tile above once the tile is full and the whole of it checked.
  if (width == merkle::kTileWidth && hi == first + width) {
    return check_parent(0, bundle, size, *hashes);
  }
  return Status::ok();
}

Status EntryChecker::check_parent(uint8_t level, uint64_t index, uint64_t size,
                                  const std::string& hashes) {
  const uint8_t up = level + 1;
  const uint64_t parent = index / merkle::kTileWidth;
  const uint64_t position = index % merkle::kTileWidth;
  const uint32_t width = merkle::tile_width(up, parent, size);
  Result<Hash> root = merkle::tile_root(hashes);
  if (!root) return root.status();
  Result<std::optional<storage::StoredTile>> stored = view_.tile(false, up, parent);
  if (!stored) return stored.status();
  Result<std::string> cut = Status::not_found("missing");
  if (*stored) cut = ledger::cut_tile({false, up, parent, width}, (*stored)->bytes);
  const std::vector<std::string> names = {tile_name(false, level, index), tile_name(false, up, parent)};
  if (!cut || cut->size() <= position * 32) {
    add("content-mismatch", "a hash tile is missing or truncated", names, {},
        {{"level", up}, {"index", parent}});
    return Status::ok();
  }
  if (hex_at(*cut, position) != hex_encode(*root)) {
    add("content-mismatch", "a hash tile disagrees with the tile below it", names, {},
        {{"expected", hex_encode(*root)}, {"found", hex_at(*cut, position)}});
  }
  if (width == merkle::kTileWidth && position == merkle::kTileWidth - 1) {
    return check_parent(up, parent, size, *cut);
  }
  return Status::ok();
}

void EntryChecker::check_entry(uint64_t index, std::string_view leaf, Rows& rows) {
  Result<ledger::Entry> entry = ledger::parse_entry(leaf);
  if (!entry) {
    add("content-mismatch", "a ledger entry is malformed", {}, {index}, {{"detail", "leaf"}});
    return;
  }
  const ExtrasRow* run = rows.run_holding(index);
  Result<storage::EntryExtra> extra = Status::not_found("no run");
  if (run != nullptr) extra = storage::decode_extra_at(run->data, index - run->first_index);
  if (!extra) {
    if (extra.status().code() == Code::kNotFound) {
      gaps_.push_back(index);
    } else {
      add("content-mismatch", "an extras row is malformed", {}, {index},
          {{"first_index", run->first_index}});
    }
    // Rows at a gap cannot be checked; finish() names the gap.
    rows.records.erase(index);
    for (auto& [k, used] : rows.keys) used = used || k.first == index;
    return;
  }
  const Hash found = ledger::commitment(extra->salt, extra->statement);
  Result<records::Statement> st = records::parse_statement(extra->statement);
  // System entries carry statements of other shapes too (alerts, `medseal log append` lines):
  // for them the commitment is what the ledger vouches for. Record statements must parse.
  const bool system = entry->kind == ledger::EntryKind::kSystem;
  if (found != entry->commitment || (!system && (!st || st->time_ms != entry->time_ms))) {
    std::vector<std::string> named = st ? st->resources : std::vector<std::string>{};
    // Name the record the entry wrote even when its statement no longer says which.
    auto row = rows.records.find(index);
    if (row != rows.records.end() && named.empty()) named.push_back(versioned_name(row->second));
    add("content-mismatch", "an entry's statement or salt changed", named, {index},
        {{"expected", hex_encode(entry->commitment)}, {"found", hex_encode(found)}});
    if (row != rows.records.end()) rows.records.erase(row);
    for (auto& [k, used] : rows.keys) used = used || k.first == index;
    return;
  }
  if (!st) return;  // a system entry of another shape, its commitment verified
  const bool access = entry->kind == ledger::EntryKind::kAccess ||
                      entry->kind == ledger::EntryKind::kAccessDenied;
  if (access && observer_) observer_(index, entry->time_ms, *st);
  if (st->op == "erase" && !st->denied) erased_.insert(st->erased.begin(), st->erased.end());
  for (const std::string& patient : st->patients) {
    auto it = rows.keys.find({index, patient});
    if (it == rows.keys.end()) {
      add("missing-row", "an access-trail key row was deleted", {patient}, {index},
          {{"table", "entry_keys"}});
    } else {
      it->second = true;
    }
  }
  if (entry->kind == ledger::EntryKind::kRecordVersion && !st->denied && !st->resources.empty()) {
    check_record(index, entry->time_ms, st->op, st->resources.front(), st->sha256, rows);
  }
}

void EntryChecker::check_record(uint64_t index, uint64_t time_ms, const std::string& op,
                                const std::string& resource, const std::string& sha256,
                                Rows& rows) {
  auto it = rows.records.find(index);
  if (it == rows.records.end()) {
    if (erased_.count(index) == 0) {
      add("missing-row", "a record version was deleted", {resource}, {index},
          {{"table", "record_versions"}});
    }
    return;
  }
  const RecordRow row = std::move(it->second);
  rows.records.erase(it);
  const std::string found_name = versioned_name(row);
  const bool deleted = op == "delete";
  if (found_name != resource || row.updated_ms != time_ms || row.deleted != deleted) {
    add("content-mismatch", "a record version's id, order or time changed",
        found_name == resource ? std::vector<std::string>{resource}
                               : std::vector<std::string>{resource, found_name},
        {index},
        {{"expected", {{"resource", resource}, {"updated_ms", time_ms}, {"deleted", deleted}}},
         {"found", {{"resource", found_name}, {"updated_ms", row.updated_ms},
                    {"deleted", row.deleted}}}});
    return;
  }
  const std::string bytes_hash = hex_encode(row.bytes_sha256);
  if (!deleted && bytes_hash != sha256) {
    add("content-mismatch", "a record version's bytes changed", {resource}, {index},
        {{"expected", sha256}, {"found", bytes_hash}});
  } else if (deleted && row.bytes_size != 0) {
    add("content-mismatch", "a deleted record version has bytes", {resource}, {index},
        {{"found", bytes_hash}});
  }
}

void EntryChecker::report_leftovers(Rows& rows) {
  for (const auto& [index, row] : rows.records) {
    add("unexpected-row", "a record version has no ledger entry that commits to it",
        {versioned_name(row)}, {index}, {{"table", "record_versions"}});
  }
  for (const auto& [k, used] : rows.keys) {
    if (used) continue;
    add("unexpected-row", "an access-trail key row has no ledger entry naming it", {k.second},
        {k.first}, {{"table", "entry_keys"}});
  }
}

std::vector<Alert> coalesce(std::vector<Alert> found) {
  constexpr size_t kMaxNamed = 1000, kMaxEvidence = 10;
  std::vector<Alert> out;
  std::map<std::pair<std::string, std::string>, size_t> group;  // (kind, summary) -> out index
  for (Alert& a : found) {
    auto [it, fresh] = group.try_emplace({a.kind, a.summary}, out.size());
    if (fresh) {
      a.evidence = {{"count", 1}, {"findings", nlohmann::json::array({std::move(a.evidence)})}};
      out.push_back(std::move(a));
      continue;
    }
    Alert& merged = out[it->second];
    nlohmann::json& findings = merged.evidence["findings"];
    merged.evidence["count"] = merged.evidence["count"].get<size_t>() + 1;
    if (findings.size() < kMaxEvidence) findings.push_back(std::move(a.evidence));
    for (uint64_t i : a.indexes) {
      if (merged.indexes.size() < kMaxNamed) merged.indexes.push_back(i);
    }
    for (std::string& r : a.resources) {
      if (merged.resources.size() < kMaxNamed &&
          std::find(merged.resources.begin(), merged.resources.end(), r) == merged.resources.end()) {
        merged.resources.push_back(std::move(r));
      }
    }
  }
  for (Alert& a : out) {
    // A single finding keeps its evidence as it was.
    if (a.evidence["count"] == 1) a.evidence = std::move(a.evidence["findings"][0]);
  }
  return out;
}

void EntryChecker::finish() {
  std::vector<uint64_t> lost;
  for (uint64_t index : gaps_) {
    if (erased_.count(index) == 0) lost.push_back(index);
  }
  gaps_.clear();
  if (lost.empty()) return;
  add("missing-entry", "entries lost their salt and statement with no erasure entry naming them",
      {}, lost, {{"table", "entry_extras"}, {"count", lost.size()}});
}

}  // namespace medseal::sentinel
