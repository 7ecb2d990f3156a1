#include "storage/sqlite/record_sql.h"

#include <algorithm>
#include <string>
#include <utility>

#include "storage/record_rows.h"

namespace medseal::storage::sqlite {
namespace {

// Every statement that returns records selects these columns in this order (record_of reads them).
#define MEDSEAL_RECORD_COLUMNS "type, id, version, ledger_idx, updated_ms, deleted, compartment"

constexpr char kSelectLatest[] =
    "SELECT " MEDSEAL_RECORD_COLUMNS ", bytes FROM record_versions "
    "WHERE type = ?1 AND id = ?2 ORDER BY version DESC LIMIT 1";
constexpr char kSelectExact[] =
    "SELECT " MEDSEAL_RECORD_COLUMNS ", bytes FROM record_versions "
    "WHERE type = ?1 AND id = ?2 AND version = ?3";
constexpr char kSelectKeys[] =
    "SELECT idx FROM entry_keys WHERE key = ?1 ORDER BY idx DESC LIMIT ?2 OFFSET ?3";

// History of one record, of one type, of everything: ?1 type, ?2 id, ?3 limit, ?4 offset.
// The order is newer_first (storage/record_rows.h).
constexpr const char* kHistory[] = {
    // "+ledger_idx": sort the record's few versions found by their index rather than walk every
    // version of the type in ledger order (which the planner would otherwise pick). ledger_idx is
    // unique (check_record_rows allows one record per entry), so it alone orders.
    "SELECT " MEDSEAL_RECORD_COLUMNS ", bytes FROM record_versions WHERE type = ?1 AND id = ?2 "
    "ORDER BY +ledger_idx DESC LIMIT ?3 OFFSET ?4",
    "SELECT " MEDSEAL_RECORD_COLUMNS ", bytes FROM record_versions WHERE type = ?1 "
    "ORDER BY ledger_idx DESC LIMIT ?3 OFFSET ?4",
    "SELECT " MEDSEAL_RECORD_COLUMNS ", bytes FROM record_versions "
    "ORDER BY ledger_idx DESC LIMIT ?3 OFFSET ?4",
};
constexpr const char* kHistoryCount[] = {
    "SELECT count(*) FROM record_versions WHERE type = ?1 AND id = ?2",
    "SELECT count(*) FROM record_versions WHERE type = ?1",
    "SELECT count(*) FROM record_versions",
};

constexpr char kNewestVersion[] =
    "SELECT max(version) FROM record_versions WHERE type = ?1 AND id = ?2";
constexpr char kInsertVersion[] =
    "INSERT INTO record_versions (" MEDSEAL_RECORD_COLUMNS ", latest, bytes) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr char kSupersede[] =
    "UPDATE record_versions SET latest = 0 WHERE type = ?1 AND id = ?2 AND version = ?3";
// One entry may carry the same key twice; it is found once.
constexpr char kInsertKey[] =
    "INSERT INTO entry_keys (key, idx) VALUES (?1, ?2) ON CONFLICT (key, idx) DO NOTHING";
constexpr char kDeleteVersions[] = "DELETE FROM record_versions WHERE type = ?1 AND id = ?2";
constexpr char kDeleteKeys[] = "DELETE FROM entry_keys WHERE idx = ?1";

enum SearchFilter : unsigned { kByCompartment = 1, kByUpdated = 2 };

// A search over the latest versions (h) with the filters of `variant`. Parameters: ?1 type,
// ?2 compartment, ?3 updated from, ?4 updated to, ?5 include deleted, ?6 id, ?7 limit, ?8 offset.
// Variants rather than "(?2 = '' OR ...)" so the planner can pick the index each filter needs.
std::string search_sql(std::string_view select_from, size_t variant, std::string_view tail) {
  std::string sql = "SELECT ";
  sql += select_from;
  sql += " WHERE h.type = ?1 AND h.latest = 1 AND (?5 = 1 OR h.deleted = 0)";
  if (variant & kByCompartment) sql += " AND h.compartment = ?2";
  if (variant & kByUpdated) sql += " AND h.updated_ms >= ?3 AND h.updated_ms < ?4";
  sql += tail;
  return sql;
}

constexpr char kHeadsWithBytes[] = MEDSEAL_RECORD_COLUMNS ", bytes FROM record_versions h";
constexpr char kHeads[] = MEDSEAL_RECORD_COLUMNS " FROM record_versions h";

size_t search_variant(const RecordQuery& q) {
  size_t v = 0;
  if (!q.compartment.empty()) v |= kByCompartment;
  if (q.updated_from_ms > 0 || q.updated_to_ms != UINT64_MAX) v |= kByUpdated;
  return v;
}

// SQL integers are signed: larger values are cut to the largest (no stored value exceeds it).
int64_t sql_int(uint64_t v) { return static_cast<int64_t>(std::min(v, kMaxStoredInt)); }

Status prepare_all(Db& db, std::span<const std::pair<Stmt*, std::string>> all) {
  for (const auto& [stmt, sql] : all) {
    Result<Stmt> prepared = Stmt::prepare(db, sql.c_str());
    if (!prepared) return prepared.status();
    *stmt = std::move(*prepared);
  }
  return Status::ok();
}

// The record at the statement's current row (bytes when the statement selects them).
RecordVersion record_of(const Stmt& q, bool with_bytes) {
  RecordVersion r;
  r.type = std::string(q.column_text(0));
  r.id = std::string(q.column_text(1));
  r.version = static_cast<uint64_t>(q.column_int(2));
  r.ledger_index = static_cast<uint64_t>(q.column_int(3));
  r.updated_ms = static_cast<uint64_t>(q.column_int(4));
  r.deleted = q.column_int(5) != 0;
  r.compartment = std::string(q.column_text(6));
  if (with_bytes) r.bytes = std::string(q.column_blob(7));
  return r;
}

// Every row of a started statement, as records.
Result<std::vector<RecordVersion>> records_of(Stmt& q, bool with_bytes, std::string_view what) {
  std::vector<RecordVersion> out;
  for (;;) {
    Result<bool> row = q.step(what);
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(record_of(q, with_bytes));
  }
  q.start();  // release the statement before the read transaction ends
  return out;
}

// The integer in the first row of a started statement (0 for no row or NULL).
Result<uint64_t> count_of(Stmt& q, std::string_view what) {
  Result<bool> row = q.step(what);
  if (!row) return row.status();
  const uint64_t n = *row ? static_cast<uint64_t>(q.column_int(0)) : 0;
  q.start();
  return n;
}

Stmt& bind_record_key(Stmt& q, std::string_view type, std::string_view id) {
  return q.start().bind_text(1, type).bind_text(2, id);
}

Stmt& bind_search_filters(Stmt& q, const RecordQuery& query) {
  q.start().bind_text(1, query.type).bind_text(2, query.compartment);
  q.bind(3, sql_int(query.updated_from_ms)).bind(4, sql_int(query.updated_to_ms));
  return q.bind(5, query.include_deleted ? 1 : 0);
}

}  // namespace

Status RecordReader::prepare(Db& db) {
  std::vector<std::pair<Stmt*, std::string>> all = {
      {&latest_, kSelectLatest}, {&exact_, kSelectExact}, {&keys_, kSelectKeys}};
  for (size_t i = 0; i < history_.size(); ++i) {
    all.emplace_back(&history_[i], kHistory[i]);
    all.emplace_back(&history_count_[i], kHistoryCount[i]);
  }
  for (size_t v = 0; v < kSearchVariants; ++v) {
    all.emplace_back(&search_[v], search_sql(kHeadsWithBytes, v,
                                             " ORDER BY h.ledger_idx DESC LIMIT ?7 OFFSET ?8"));
    all.emplace_back(&search_count_[v], search_sql("count(*) FROM record_versions h", v, ""));
    // The version equality lets the planner see one row by record_versions_by_record, rather
    // than walk a filter's index.
    all.emplace_back(&search_id_[v],
                     search_sql(kHeads, v,
                                " AND h.id = ?6 AND h.version = (SELECT max(version) "
                                "FROM record_versions WHERE type = ?1 AND id = ?6)"));
  }
  return prepare_all(db, all);
}

Result<RecordVersion> RecordReader::read(std::string_view type, std::string_view id,
                                         uint64_t version) {
  Stmt& q = version == 0 ? bind_record_key(latest_, type, id)
                         : bind_record_key(exact_, type, id).bind(3, sql_int(version));
  Result<std::vector<RecordVersion>> found = records_of(q, true, "read record");
  if (!found) return found.status();
  if (found->empty()) return Status::not_found("no such record version");
  return std::move(found->front());
}

Result<RecordPage> RecordReader::history(std::string_view type, std::string_view id,
                                         uint64_t offset, uint64_t limit) {
  MEDSEAL_RETURN_IF_ERROR(check_history_args(type, id));
  const size_t scope = !id.empty() ? 0 : !type.empty() ? 1 : 2;
  Stmt& count = history_count_[scope].start();
  Stmt& page = history_[scope].start();
  if (scope <= 1) {
    count.bind_text(1, type);
    page.bind_text(1, type);
  }
  if (scope == 0) {
    count.bind_text(2, id);
    page.bind_text(2, id);
  }
  page.bind(3, sql_int(std::min(limit, kMaxPageRows))).bind(4, sql_int(offset));
  Result<uint64_t> total = count_of(count, "count record history");
  if (!total) return total.status();
  Result<std::vector<RecordVersion>> records = records_of(page, true, "read record history");
  if (!records) return records.status();
  return RecordPage{std::move(*records), *total};
}

Result<RecordPage> RecordReader::search(const RecordQuery& query) {
  MEDSEAL_RETURN_IF_ERROR(check_record_query(query));
  const size_t variant = search_variant(query);
  if (!query.ids.empty()) return search_by_ids(query, variant);
  Result<uint64_t> total = count_of(bind_search_filters(search_count_[variant], query),
                                    "count search");
  if (!total) return total.status();
  Stmt& page = bind_search_filters(search_[variant], query);
  page.bind(7, sql_int(std::min(query.limit, kMaxPageRows))).bind(8, sql_int(query.offset));
  Result<std::vector<RecordVersion>> records = records_of(page, true, "search records");
  if (!records) return records.status();
  return RecordPage{std::move(*records), *total};
}

// Each id has at most one head, so a lookup per id, ordered and paged here, then bytes for the
// page only.
Result<RecordPage> RecordReader::search_by_ids(const RecordQuery& query, size_t variant) {
  std::vector<std::string_view> ids(query.ids.begin(), query.ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<RecordVersion> heads;
  for (std::string_view id : ids) {
    Stmt& q = bind_search_filters(search_id_[variant], query).bind_text(6, id);
    Result<std::vector<RecordVersion>> found = records_of(q, false, "search records");
    if (!found) return found.status();
    for (RecordVersion& r : *found) heads.push_back(std::move(r));
  }
  std::sort(heads.begin(), heads.end(), newer_first);
  RecordPage page{{}, heads.size()};
  const uint64_t first = std::min<uint64_t>(query.offset, heads.size());
  const uint64_t end = first + std::min({query.limit, kMaxPageRows, heads.size() - first});
  for (uint64_t i = first; i < end; ++i) {
    Result<RecordVersion> r = read(heads[i].type, heads[i].id, heads[i].version);
    if (!r) return r.status();
    page.records.push_back(std::move(*r));
  }
  return page;
}

Result<std::vector<uint64_t>> RecordReader::entries_with_key(std::string_view key, uint64_t offset,
                                                             uint64_t limit) {
  Stmt& q = keys_.start().bind_text(1, key);
  q.bind(2, sql_int(std::min(limit, kMaxPageRows))).bind(3, sql_int(offset));
  std::vector<uint64_t> out;
  for (;;) {
    Result<bool> row = q.step("read entry keys");
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(static_cast<uint64_t>(q.column_int(0)));
  }
  q.start();
  return out;
}

Status RecordWriter::prepare(Db& db) {
  const std::pair<Stmt*, std::string> all[] = {
      {&newest_version_, kNewestVersion}, {&insert_version_, kInsertVersion},
      {&supersede_, kSupersede},
      {&insert_key_, kInsertKey},         {&delete_versions_, kDeleteVersions},
      {&delete_keys_, kDeleteKeys}};
  return prepare_all(db, all);
}

Status RecordWriter::write(const Batch& batch) {
  for (const RecordVersion& r : batch.records) MEDSEAL_RETURN_IF_ERROR(write_version(r));
  for (const EntryKey& k : batch.keys) {
    Stmt& q = insert_key_.start().bind_text(1, k.key).bind(2, sql_int(k.index));
    MEDSEAL_RETURN_IF_ERROR(q.run("write entry key"));
  }
  return Status::ok();
}

// The latest version only moves forward: a version older than a stored one is not the latest.
Status RecordWriter::write_version(const RecordVersion& r) {
  Result<uint64_t> newest =
      count_of(bind_record_key(newest_version_, r.type, r.id), "read newest version");  // 0: none
  if (!newest) return newest.status();
  const bool latest = r.version > *newest;
  Stmt& q = bind_record_key(insert_version_, r.type, r.id).bind(3, sql_int(r.version));
  q.bind(4, sql_int(r.ledger_index)).bind(5, sql_int(r.updated_ms)).bind(6, r.deleted ? 1 : 0);
  q.bind_text(7, r.compartment).bind(8, latest ? 1 : 0).bind_blob(9, r.bytes);
  Status s = q.run("write record version");
  if (s.code() == Code::kConflict) {
    return Status::conflict(r.type + "/" + r.id + " version " + std::to_string(r.version) +
                            " is already stored");
  }
  if (!s || !latest || *newest == 0) return s;
  Stmt& older = bind_record_key(supersede_, r.type, r.id).bind(3, sql_int(*newest));
  return older.run("supersede record version");
}

Status RecordWriter::erase(const Erasure& e) {
  MEDSEAL_RETURN_IF_ERROR(bind_record_key(delete_versions_, e.type, e.id).run("erase record"));
  for (uint64_t index : e.indexes) {
    MEDSEAL_RETURN_IF_ERROR(delete_keys_.start().bind(1, sql_int(index)).run("erase entry keys"));
  }
  return Status::ok();
}

}  // namespace medseal::storage::sqlite
