// The ledger's tables, as numbered migrations that both store drivers run (storage/sqlite and, in
// its dialect, storage/postgres), so both hold the same schema at the same version number.
#pragma once

#include <cstdint>
#include <iterator>

namespace medseal::storage {

// kMigrations[i] brings the schema from version i to i + 1; the last one gives kSchemaVersion.
// Only plain tables and (partial) indexes, BIGINT/SMALLINT/INTEGER, TEXT and BLOB, so PostgreSQL can
// run the same statements with BLOB spelled BYTEA and "INTEGER PRIMARY KEY" spelled "BIGINT PRIMARY
// KEY" (in SQLite only the former makes the column the rowid). A released migration is never edited.
//
// Records (v2): one row per version, keyed by its ledger entry so rows append at the end of the
// table; ids are random, so each index keyed by id costs a random page per new version, and there
// is one (record_versions_by_record). The latest version of each record has latest = 1 (an
// update clears it on the previous version), which the partial indexes search on; `deleted` and
// `latest` end them so a search's total is counted from the index alone (SQLite 3.40 does not
// take a column of a partial index's WHERE as covered).
inline constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE schema_version (version BIGINT NOT NULL);
INSERT INTO schema_version (version) VALUES (0);
CREATE TABLE log_head (
  id BIGINT NOT NULL PRIMARY KEY,
  size BIGINT NOT NULL,
  checkpoint BLOB NOT NULL
);
CREATE TABLE tiles (
  entries SMALLINT NOT NULL,
  level SMALLINT NOT NULL,
  idx BIGINT NOT NULL,
  width INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  nodes BLOB,
  PRIMARY KEY (entries, level, idx)
);
CREATE TABLE entry_extras (
  first_idx BIGINT NOT NULL PRIMARY KEY,
  count INTEGER NOT NULL,
  data BLOB NOT NULL
);
)sql",
    R"sql(
CREATE TABLE record_versions (
  ledger_idx INTEGER PRIMARY KEY NOT NULL,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  deleted SMALLINT NOT NULL,
  compartment TEXT NOT NULL,
  latest SMALLINT NOT NULL,
  bytes BLOB NOT NULL
);
CREATE UNIQUE INDEX record_versions_by_record ON record_versions (type, id, version);
CREATE INDEX record_versions_by_type ON record_versions (type, ledger_idx, latest, deleted);
CREATE INDEX record_latest_by_compartment
  ON record_versions (compartment, type, ledger_idx, deleted, latest) WHERE latest = 1;
CREATE INDEX record_latest_by_updated
  ON record_versions (type, updated_ms, deleted, latest) WHERE latest = 1;
CREATE TABLE entry_keys (
  key TEXT NOT NULL,
  idx BIGINT NOT NULL,
  PRIMARY KEY (key, idx)
);
CREATE INDEX entry_keys_by_entry ON entry_keys (idx);
)sql",
};
inline constexpr int64_t kSchemaVersion = std::size(kMigrations);

}  // namespace medseal::storage
