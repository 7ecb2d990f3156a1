// The sentinel: real-time tamper detection on the store (DESIGN.md 2, 7; issues 6 and 7).
//
// It runs on its own thread with its own read-only use of its own connection to the store
// (SentinelView: StoreView for SQLite, described below; PgStoreView for PostgreSQL, whose change
// signal and attribution pg_store_view.h describes — the head rule, checks and passes are shared),
// inside `medseal serve` (on by default) or in another process (`medseal monitor --data DIR`).
//
// How it notices a change at once, without rescanning:
//  - every `poll` (50 ms) it reads PRAGMA data_version, which changes whenever any other
//    connection commits, and the file's inode (a copy moved over the store);
//  - on a change it reads the head, and data_version again, in one snapshot (what the next poll
//    compares with: commits that snapshot took in are not a change). Every commit of the server's
//    writer signs a new checkpoint, so: a larger head is verified incrementally (the new entries
//    as in checks.h, the compact range's root against the signed checkpoint, rows beyond the
//    head); a smaller head is log-rollback (truncation, or an older copy restored); the same size
//    with another root is fork; a checkpoint that does not verify under the log key is
//    bad-signature;
//  - a change with the head unchanged was not made by the server's writer: foreign-write, followed
//    at once by a sweep (a whole pass, below) that names what the write changed. This holds for a
//    monitor in another process as well, with no cooperation from the server. (A WAL restart at
//    the start of a write transaction also changes data_version before anything is committed;
//    the WAL index, DATA/medseal.db-shm, tells it apart: no frames yet.)
//  - a rolling full pass re-verifies the whole store in chunks between polls, using at most
//    `full_duty` of one core, so old rows changed in the same poll interval as a server commit
//    (which the head rule cannot tell apart) are still found within one pass.
//
// State kept outside the store (`state_path`, JSON {"size","checkpoint"}, replaced durably at most
// once a second): the newest checkpoint it verified. At start the whole store is verified; a head
// below the saved size is log-rollback, and a tree whose first `size` leaves do not have the saved
// root is fork, so a rollback made while the sentinel was not running is caught too.
//
// Every alert names resources (Type/id/_history/N, tiles, access-trail keys), ledger indexes and
// expected versus found hashes, and carries evidence.verified_checkpoint: the newest checkpoint
// note the sentinel verified, which still verifies (its signature; and its tree, unless the alert
// is about tiles or bundles). Each distinct finding is raised once.
//
// With options.access_rules, the access entries verified as they arrive also feed the
// access-anomaly rules (access_rules.h).
//
// Not detected: a foreign write that coincides with a server commit and changes nothing the
// ledger commits to (e.g. the `latest` flag, a search index) — only the head rule could see it;
// reads made directly on the file; changes to files other than the store (keys, tokens).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "alerts/alert.h"
#include "note/keys.h"
#include "sentinel/access_rules.h"
#include "util/status.h"

namespace medseal::sentinel {

struct SentinelOptions {
  std::string db_path;     // DATA/medseal.db, or a postgresql:// URL (pg_store_view.h)
  std::string state_path;  // e.g. DATA/sentinel.state; one per sentinel process
  note::VerifierKey vkey;  // the log's key
  std::chrono::milliseconds poll{50};
  double full_duty = 0.1;            // share of one core the rolling full pass may use
  uint64_t full_chunk_entries = 4096;  // entries per chunk of the rolling pass
  // Inside the server: asks the store's writer whether another connection committed since the
  // last call (storage::SqliteStore::foreign_commits), which is exact even when the server commits
  // in the same poll interval. Empty in a separate process: there a change that moves no head is
  // what marks a commit foreign, so a foreign write next to a server commit is left to the rolling
  // pass (it is still found if it changed anything the ledger commits to).
  std::function<Result<bool>()> foreign_commits;
  // Set: access anomalies (access_rules.h) over the access entries verified as they arrive, and
  // at start over those beyond the saved state (a restart raises nothing it raised before, as far
  // as the saved state reaches: it is saved at most once a second and only while the store
  // verifies). Sentinel::start only: verify_store never raises them.
  std::optional<AccessRuleOptions> access_rules;
  // verify_store: false leaves the state file untouched (forensics only reads).
  bool save_state = true;
  // false: one alert per finding instead of one per kind and summary (forensics lists each).
  bool coalesce = true;
};

struct FullPassReport {
  uint64_t entries = 0;
  uint64_t bytes = 0;      // bytes read from the store
  double seconds = 0;      // wall time
  double cpu_seconds = 0;  // this thread's CPU time (the machine may be shared)
  size_t findings = 0;     // alerts raised (new ones)
};

class Sentinel {
 public:
  // Verifies the whole store once (alerts go to `sink`), then starts the polling thread. Fails if
  // the store cannot be opened or read (a finding is not a failure).
  static Result<std::unique_ptr<Sentinel>> start(SentinelOptions options, alerts::AlertSink& sink);
  ~Sentinel();  // stops the thread
  Sentinel(const Sentinel&) = delete;
  Sentinel& operator=(const Sentinel&) = delete;

  // Alerts raised so far, and full passes completed (the start one included).
  uint64_t alerts_raised() const;
  uint64_t full_passes() const;

  class Impl;

 private:
  explicit Sentinel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

// One whole pass over the store, as the sentinel's start does, with `progress(done, total)`
// after each chunk; for `medseal monitor --full`, forensics and the benchmark. Alerts go to
// `sink`; the state file is checked and, when the pass finds nothing and options.save_state,
// updated.
Result<FullPassReport> verify_store(const SentinelOptions& options, alerts::AlertSink& sink,
                                    const std::function<void(uint64_t, uint64_t)>& progress);

}  // namespace medseal::sentinel
