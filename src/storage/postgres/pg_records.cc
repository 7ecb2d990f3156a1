#include "storage/postgres/pg_records.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "storage/record_rows.h"

namespace medseal::storage::postgres {
namespace {

// Every statement that returns records selects these columns in this order (records_of reads them).
#define MEDSEAL_PG_RECORD_COLUMNS "type, id, version, ledger_idx, updated_ms, deleted, compartment"

constexpr char kSelectLatest[] =
    "SELECT " MEDSEAL_PG_RECORD_COLUMNS ", bytes FROM record_versions "
    "WHERE type = $1 AND id = $2 ORDER BY version DESC LIMIT 1";
constexpr char kSelectExact[] =
    "SELECT " MEDSEAL_PG_RECORD_COLUMNS ", bytes FROM record_versions "
    "WHERE type = $1 AND id = $2 AND version = $3";
constexpr char kSelectKeys[] =
    "SELECT idx FROM entry_keys WHERE key = $1 ORDER BY idx DESC LIMIT $2 OFFSET $3";

// History of one record, of one type, of everything; all take $1 type, $2 id, $3 limit,
// $4 offset (typed when prepared, so a statement need not use them all). Order: newer_first.
constexpr const char* kHistory[] = {
    "SELECT " MEDSEAL_PG_RECORD_COLUMNS ", bytes FROM record_versions WHERE type = $1 AND id = $2 "
    "ORDER BY ledger_idx DESC LIMIT $3 OFFSET $4",
    "SELECT " MEDSEAL_PG_RECORD_COLUMNS ", bytes FROM record_versions WHERE type = $1 "
    "ORDER BY ledger_idx DESC LIMIT $3 OFFSET $4",
    "SELECT " MEDSEAL_PG_RECORD_COLUMNS ", bytes FROM record_versions "
    "ORDER BY ledger_idx DESC LIMIT $3 OFFSET $4",
};
constexpr const char* kHistoryCount[] = {
    "SELECT count(*) FROM record_versions WHERE type = $1 AND id = $2",
    "SELECT count(*) FROM record_versions WHERE type = $1",
    "SELECT count(*) FROM record_versions",
};

constexpr char kNewestVersion[] =
    "SELECT max(version) FROM record_versions WHERE type = $1 AND id = $2";
constexpr char kInsertVersion[] =
    "INSERT INTO record_versions (" MEDSEAL_PG_RECORD_COLUMNS ", latest, bytes) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
constexpr char kSupersede[] =
    "UPDATE record_versions SET latest = 0 WHERE type = $1 AND id = $2 AND version = $3";
constexpr char kInsertKey[] =
    "INSERT INTO entry_keys (key, idx) VALUES ($1, $2) ON CONFLICT (key, idx) DO NOTHING";
constexpr char kDeleteVersions[] = "DELETE FROM record_versions WHERE type = $1 AND id = $2";
constexpr char kDeleteKeys[] = "DELETE FROM entry_keys WHERE idx = $1";

// Searches over the latest versions (h), one statement per filter set so the planner can use
// the index each filter needs. $1 type, $2 compartment, $3 updated from, $4 updated to,
// $5 include deleted, then $6 limit and $7 offset (pages) or $6 id (lookups by id).
enum SearchFilter : unsigned { kByCompartment = 1, kByUpdated = 2 };
constexpr size_t kSearchVariants = 4;
enum SearchKind : size_t { kPage, kCount, kById };

std::string search_sql(SearchKind kind, size_t variant) {
  std::string sql = kind == kCount ? "SELECT count(*)"
                                   : "SELECT " MEDSEAL_PG_RECORD_COLUMNS ", bytes";
  sql += " FROM record_versions h WHERE h.type = $1 AND h.latest = 1 AND ($5 = 1 OR h.deleted = 0)";
  if (variant & kByCompartment) sql += " AND h.compartment = $2";
  if (variant & kByUpdated) sql += " AND h.updated_ms >= $3 AND h.updated_ms < $4";
  if (kind == kPage) sql += " ORDER BY h.ledger_idx DESC LIMIT $6 OFFSET $7";
  if (kind == kById) sql += " AND h.id = $6";
  return sql;
}

// The search statements, built once: [kind][variant].
const std::string& search_statement(SearchKind kind, size_t variant) {
  static const auto* all = [] {
    auto* s = new std::array<std::array<std::string, kSearchVariants>, 3>;
    for (size_t k = 0; k < 3; ++k) {
      for (size_t v = 0; v < kSearchVariants; ++v) (*s)[k][v] = search_sql(SearchKind(k), v);
    }
    return s;
  }();
  return (*all)[kind][variant];
}

size_t search_variant(const RecordQuery& q) {
  size_t v = 0;
  if (!q.compartment.empty()) v |= kByCompartment;
  if (q.updated_from_ms > 0 || q.updated_to_ms != UINT64_MAX) v |= kByUpdated;
  return v;
}

// SQL integers are signed: larger values are cut to the largest (no stored value exceeds it).
int64_t sql_int(uint64_t v) { return static_cast<int64_t>(std::min(v, kMaxStoredInt)); }

std::vector<RecordVersion> records_of(const Rows& rows) {
  std::vector<RecordVersion> out;
  out.reserve(static_cast<size_t>(rows.count()));
  for (int i = 0; i < rows.count(); ++i) {
    RecordVersion r;
    r.type = std::string(rows.bytes(i, 0));
    r.id = std::string(rows.bytes(i, 1));
    r.version = static_cast<uint64_t>(rows.integer(i, 2));
    r.ledger_index = static_cast<uint64_t>(rows.integer(i, 3));
    r.updated_ms = static_cast<uint64_t>(rows.integer(i, 4));
    r.deleted = rows.integer(i, 5) != 0;
    r.compartment = std::string(rows.bytes(i, 6));
    r.bytes = std::string(rows.bytes(i, 7));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<RecordVersion>> query_records(Conn& c, const char* sql, const Params& p,
                                                 std::string_view what) {
  Result<Rows> rows = c.query(sql, p, what);
  if (!rows) return rows.status();
  return records_of(*rows);
}

// The integer in the first row (0 for no row or NULL).
Result<uint64_t> query_count(Conn& c, const char* sql, const Params& p, std::string_view what) {
  Result<Rows> rows = c.query(sql, p, what);
  if (!rows) return rows.status();
  return rows->count() == 0 ? 0 : static_cast<uint64_t>(rows->integer(0, 0));
}

Params search_filters(const RecordQuery& q) {
  Params p;
  p.text(q.type).text(q.compartment).i64(sql_int(q.updated_from_ms));
  return std::move(p.i64(sql_int(q.updated_to_ms)).i64(q.include_deleted ? 1 : 0));
}

// Each id has at most one head: a lookup per id, ordered and paged here.
Result<RecordPage> search_by_ids(Conn& c, const RecordQuery& query, size_t variant) {
  std::vector<std::string_view> ids(query.ids.begin(), query.ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<RecordVersion> heads;
  for (std::string_view id : ids) {
    Params p = search_filters(query);
    Result<std::vector<RecordVersion>> found =
        query_records(c, search_statement(kById, variant).c_str(), p.text(id), "search records");
    if (!found) return found.status();
    for (RecordVersion& r : *found) heads.push_back(std::move(r));
  }
  std::sort(heads.begin(), heads.end(), newer_first);
  const uint64_t first = std::min<uint64_t>(query.offset, heads.size());
  const uint64_t end = first + std::min({query.limit, kMaxPageRows, heads.size() - first});
  RecordPage page{{}, heads.size()};
  for (uint64_t i = first; i < end; ++i) page.records.push_back(std::move(heads[i]));
  return page;
}

}  // namespace

Result<RecordVersion> read_record(Conn& c, std::string_view type, std::string_view id,
                                  uint64_t version) {
  Params p;
  p.text(type).text(id);
  if (version != 0) p.i64(sql_int(version));
  Result<std::vector<RecordVersion>> found =
      query_records(c, version == 0 ? kSelectLatest : kSelectExact, p, "read record");
  if (!found) return found.status();
  if (found->empty()) return Status::not_found("no such record version");
  return std::move(found->front());
}

Result<RecordPage> record_history(Conn& c, std::string_view type, std::string_view id,
                                  uint64_t offset, uint64_t limit) {
  MEDSEAL_RETURN_IF_ERROR(check_history_args(type, id));
  const size_t scope = !id.empty() ? 0 : !type.empty() ? 1 : 2;
  Params p;
  p.text(type).text(id).i64(sql_int(std::min(limit, kMaxPageRows))).i64(sql_int(offset));
  Result<uint64_t> total = query_count(c, kHistoryCount[scope], p, "count record history");
  if (!total) return total.status();
  Result<std::vector<RecordVersion>> records =
      query_records(c, kHistory[scope], p, "read record history");
  if (!records) return records.status();
  return RecordPage{std::move(*records), *total};
}

Result<RecordPage> search_records(Conn& c, const RecordQuery& query) {
  MEDSEAL_RETURN_IF_ERROR(check_record_query(query));
  const size_t variant = search_variant(query);
  if (!query.ids.empty()) return search_by_ids(c, query, variant);
  Params p = search_filters(query);
  Result<uint64_t> total =
      query_count(c, search_statement(kCount, variant).c_str(), p, "count search");
  if (!total) return total.status();
  p.i64(sql_int(std::min(query.limit, kMaxPageRows))).i64(sql_int(query.offset));
  Result<std::vector<RecordVersion>> records =
      query_records(c, search_statement(kPage, variant).c_str(), p, "search records");
  if (!records) return records.status();
  return RecordPage{std::move(*records), *total};
}

Result<std::vector<uint64_t>> entries_with_key(Conn& c, std::string_view key, uint64_t offset,
                                               uint64_t limit) {
  Params p;
  p.text(key).i64(sql_int(std::min(limit, kMaxPageRows))).i64(sql_int(offset));
  Result<Rows> rows = c.query(kSelectKeys, p, "read entry keys");
  if (!rows) return rows.status();
  std::vector<uint64_t> out;
  for (int i = 0; i < rows->count(); ++i) out.push_back(static_cast<uint64_t>(rows->integer(i, 0)));
  return out;
}

namespace {

// The latest version only moves forward: a version older than a stored one is not the latest.
Status write_version(Conn& c, const RecordVersion& r) {
  Params key;
  key.text(r.type).text(r.id);
  Result<uint64_t> newest = query_count(c, kNewestVersion, key, "read newest version");
  if (!newest) return newest.status();
  const bool latest = r.version > *newest;
  Params p = key;
  p.i64(sql_int(r.version)).i64(sql_int(r.ledger_index)).i64(sql_int(r.updated_ms));
  p.i64(r.deleted ? 1 : 0).text(r.compartment).i64(latest ? 1 : 0).bytea(r.bytes);
  Status s = c.run(kInsertVersion, p, "write record version");
  if (s.code() == Code::kConflict) {
    return Status::conflict(r.type + "/" + r.id + " version " + std::to_string(r.version) +
                            " is already stored");
  }
  if (!s || !latest || *newest == 0) return s;
  return c.run(kSupersede, key.i64(sql_int(*newest)), "supersede record version");
}

}  // namespace

Status write_records(Conn& c, const Batch& batch) {
  for (const RecordVersion& r : batch.records) MEDSEAL_RETURN_IF_ERROR(write_version(c, r));
  for (const EntryKey& k : batch.keys) {
    Params p;
    MEDSEAL_RETURN_IF_ERROR(c.run(kInsertKey, p.text(k.key).i64(sql_int(k.index)),
                                  "write entry key"));
  }
  return Status::ok();
}

Status erase_record(Conn& c, const Erasure& e) {
  Params key;
  MEDSEAL_RETURN_IF_ERROR(c.run(kDeleteVersions, key.text(e.type).text(e.id), "erase record"));
  for (uint64_t index : e.indexes) {
    Params p;
    MEDSEAL_RETURN_IF_ERROR(c.run(kDeleteKeys, p.i64(sql_int(index)), "erase entry keys"));
  }
  return Status::ok();
}

}  // namespace medseal::storage::postgres
