// The sentinel at a distance (`medseal monitor --url`): it follows the public log like a mirror
// (mirror/mirror.h: every checkpoint verified, consistency proved, log-rollback / fork /
// bad-signature alerts) and checks what the store holds now through the statements pages of an
// auditor account (integrity_page.h), with the local sentinel's per-entry rules (checks.h):
//
//   content-mismatch  an entry's statement or salt no longer matches the leaf's commitment; a
//                     record version's bytes, id, order or time differ from what its statement
//                     committed to;
//   missing-entry     a salt and statement are gone and no erasure entry names the index;
//   missing-row       a record version or an access-trail key row was deleted;
//   unexpected-row    a record or key row in a checked range that no statement accounts for;
//   log-rollback      the store's head is below the size the monitor verified (truncated, or an
//                     older copy restored), or the log serves a shorter tree (mirror);
//   fork, bad-signature  from the mirror, and for the store's head a page reports.
// Alerts name resources, indexes, expected and found hashes, and carry
// evidence.verified_checkpoint: the newest checkpoint the monitor verified.
//
// Each poll: sync the mirror; page through the new verified entries; settle pages whose gaps
// may still be explained by an erasure entry; re-check one older page every `recheck`
// (rolling), so a record changed long after it was first checked is found within one round.
// Every page is one access entry on the server: when the only new entries are the monitor's
// own previous ones (it learns their indexes from X-Medseal-Ledger-Index) it fetches nothing,
// and they are checked with the next real change, or once a page of them has gathered.
//
// Not detected from a distance: rows inserted beyond the log's head or outside the pages
// checked so far (until the rolling re-check reaches them), foreign writes that change nothing
// a statement commits to (flags, indexes), direct reads of the store, and anything a server
// process under an attacker's control chooses to report falsely about its own store (the
// public log itself stays verified: a rewritten history is still a fork or rollback).
//
// State (DIR): the mirror's verified tiles and checkpoint (DIR/log, mirror/store.h) and
// DIR/monitor.json {"checked", "recheck", "erased"}, so a restart resumes where it stopped and
// a rollback made while it was stopped is caught by the mirror. One thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "mirror/mirror.h"
#include "note/keys.h"
#include "sentinel/checks.h"
#include "sentinel/integrity_page.h"
#include "tlog_client/tile_source.h"
#include "util/status.h"

namespace medseal::sentinel {

// Where statements pages come from: the server's /ledger/statements, or a test's fake.
class StatementsSource {
 public:
  struct Fetched {
    std::string body;                  // the page (integrity_page.h)
    std::optional<uint64_t> own_index; // the access entry the server recorded for the request
  };
  virtual ~StatementsSource() = default;
  // kPermissionDenied for a 401/403 (a wrong or revoked token), kIoError for anything else.
  virtual Result<Fetched> fetch(uint64_t from, uint64_t count) = 0;
};

// GET base_url/ledger/statements with `Authorization: Bearer token`.
Result<std::unique_ptr<StatementsSource>> open_http_statements(std::string_view base_url,
                                                               std::string token);

struct RemoteMonitorOptions {
  mirror::MirrorConfig log;              // the log's key, witness keys and quorum
  std::string state_dir;                 // created if absent
  std::chrono::milliseconds recheck{1000};  // one older page per interval; 0: never
  uint64_t page_entries = kMaxPageEntries;
};

struct PollReport {
  uint64_t verified_size = 0;  // the mirror's
  uint64_t checked = 0;        // entries below this were checked through pages
  size_t pages = 0;            // fetched in this poll
  size_t alerts = 0;           // raised in this poll (the mirror's included)
  std::vector<std::string> errors;  // what could not be fetched or checked
};

class RemoteMonitor {
 public:
  static Result<std::unique_ptr<RemoteMonitor>> open(RemoteMonitorOptions options,
                                                     alerts::AlertSink& sink);
  ~RemoteMonitor();
  PollReport poll(tlog_client::TileSource& log, StatementsSource& statements);

 private:
  struct Pending;
  class CountingSink;
  RemoteMonitor(RemoteMonitorOptions options, std::unique_ptr<CountingSink> counter);
  Status load_state();
  Status save_state();
  bool only_own_entries(uint64_t from, uint64_t to) const;
  Result<uint64_t> check_page(StatementsSource& statements, uint64_t from, uint64_t to);
  void check_head(const IntegrityPage& page);
  void settle_pending();
  void raise(alerts::Alert alert);
  void raise_all(std::vector<alerts::Alert> found);

  RemoteMonitorOptions options_;
  std::unique_ptr<CountingSink> counter_;
  std::unique_ptr<mirror::Mirror> mirror_;
  ErasedSet erased_;
  std::set<uint64_t> own_;  // our access entries at or beyond checked_
  std::set<std::string> raised_;
  std::vector<std::unique_ptr<Pending>> pending_;
  uint64_t checked_ = 0;
  uint64_t recheck_ = 0;      // the rolling re-check's next entry ...
  uint64_t recheck_end_ = 0;  // ... and where its round ends
  std::chrono::steady_clock::time_point next_recheck_{};
  std::string saved_;  // the state file's text as last written
};

}  // namespace medseal::sentinel
