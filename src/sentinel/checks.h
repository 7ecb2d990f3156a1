// What the sentinel checks, entry by entry, against the rows of the embedded store, and the alerts
// it names (DESIGN.md 7). One EntryChecker checks ledger indexes [from, to) of a tree of `size`
// leaves, reading through EntryRows (store_view.h) inside one snapshot:
//
//  - each entry of the entry bundle: its RFC 6962 leaf hash equals the level-0 hash tile's hash at
//    its position (else content-mismatch naming both tiles), and it is appended to a compact range
//    whose root the caller compares with the signed checkpoint;
//  - every full tile's root equals its hash in the tile above (recursively): a tile rewritten
//    above level 0 is content-mismatch;
//  - the salt and statement: SHA-256(salt || statement) equals the entry's commitment (else
//    content-mismatch: "statement or salt changed"); missing ones are missing-entry unless an
//    erasure entry names the index (DESIGN.md 4.3; gaps are resolved by finish(), since the
//    erasure entry comes after the entries it erases);
//  - a record-version entry: the record row at its ledger index exists (else missing-row, unless
//    erased) and has the statement's type, id, version, time (the entry's), deletion flag and
//    SHA-256 of its bytes (else content-mismatch naming Type/id/_history/N);
//  - each patient of the statement has its access-trail key row (entry_keys); a missing one is
//    missing-row (someone hiding their trail);
//  - record and key rows in the range that no statement accounts for are unexpected-row.
//
// Alert kinds: content-mismatch, missing-entry, missing-row, unexpected-row (here); log-rollback,
// fork, bad-signature, foreign-write (sentinel.h). Evidence carries indexes, ids and hashes only.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "merkle/compact_range.h"
#include "records/statement.h"
#include "sentinel/store_view.h"
#include "util/status.h"

namespace medseal::sentinel {

// Ledger indexes whose salt and statement an erasure entry deleted: gaps the sentinel accepts.
using ErasedSet = std::set<uint64_t>;

class EntryChecker {
 public:
  // `erased` is shared and grows with every erasure entry checked; `range` (may be null) must be
  // at `from` when check() is called and is extended by the leaf hashes of [from, to).
  EntryChecker(EntryRows& view, ErasedSet& erased) : view_(view), erased_(erased) {}

  // Checks [from, to) of a tree of `size` leaves; findings accumulate in alerts(). An error
  // means the store could not be read (not a finding).
  Status check(uint64_t from, uint64_t to, uint64_t size, merkle::CompactRange* range);
  // Turns the gaps that no erasure names into missing-entry alerts. Call after the last check().
  void finish();

  // Called with every access and access-denied entry whose commitment and statement verified
  // (access_rules.h feeds on it): ledger index, the leaf's time, the statement.
  using AccessObserver = std::function<void(uint64_t, uint64_t, const records::Statement&)>;
  void observe_accesses(AccessObserver observer) { observer_ = std::move(observer); }

  // Bytes hashed or parsed: the work done, for throughput figures.
  uint64_t entries_checked() const { return entries_checked_; }
  // True when a leaf could not be read at all: the compact range is then incomplete.
  bool broken() const { return broken_; }
  std::vector<alerts::Alert>& alerts() { return alerts_; }

 private:
  struct Rows;
  Status check_bundle(uint64_t bundle, uint64_t from, uint64_t to, uint64_t size, Rows& rows,
                      merkle::CompactRange* range);
  Status check_parent(uint8_t level, uint64_t index, uint64_t size, const std::string& hashes);
  void check_entry(uint64_t index, std::string_view leaf, Rows& rows);
  void check_record(uint64_t index, uint64_t time_ms, const std::string& op,
                    const std::string& resource, const std::string& sha256, Rows& rows);
  void report_leftovers(Rows& rows);
  void add(std::string kind, std::string summary, std::vector<std::string> resources,
           std::vector<uint64_t> indexes, nlohmann::json evidence);

  EntryRows& view_;
  ErasedSet& erased_;
  AccessObserver observer_;
  std::vector<uint64_t> gaps_;
  std::vector<alerts::Alert> alerts_;
  uint64_t entries_checked_ = 0;
  bool broken_ = false;
};

// One alert per kind and summary for the findings of one check: deleting a patient's trail is one
// event for an auditor, not one per entry, and every alert is fsynced, appended to the ledger and
// sent on (alerts/pipeline.h), so thousands of them would delay the next detection by seconds.
// The merged alert names up to kMaxNamed indexes and resources and keeps the first findings'
// evidence; "count" says how many there were.
std::vector<alerts::Alert> coalesce(std::vector<alerts::Alert> found);

// "Type/id/_history/N" for a record row.
std::string versioned_name(const RecordRow& row);

}  // namespace medseal::sentinel
