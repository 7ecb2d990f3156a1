// medseal mirror: follows a log over tlog-tiles, verifies every new checkpoint and its consistency
// with the last verified one, keeps the tiles and bundles it verified (store.h) and serves them
// like the log does. It alerts (DESIGN.md 7) instead of adopting when the log misbehaves:
//
//   bad-signature  a checkpoint (from the log or a peer) that is not validly signed by the log's
//                  key for its origin, or whose cosignature by a given witness key fails
//   log-rollback   the log serves a smaller checkpoint whose tree is a prefix of the verified one
//   fork           a checkpoint signed by the log that the verified one cannot be consistent with:
//                  same size and another root, a smaller one whose root is not the root of the
//                  verified tree's first leaves, or a larger one whose tree does not contain the
//                  verified tree (proved by a full audit of its tiles)
//
// Evidence names the source and holds both checkpoints (notes, sizes, roots). After an alert the
// mirror keeps its last verified state; the same alert is raised once per process.
//
// Peers (another mirror, another vantage point) are only checked, never adopted: a split view,
// where the log shows the peer a checkpoint that contradicts ours, is a fork.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "ledger/ledger.h"
#include "merkle/compact_range.h"
#include "mirror/store.h"
#include "note/checkpoint.h"
#include "note/keys.h"
#include "storage/store.h"
#include "tlog_client/tile_source.h"
#include "util/status.h"

namespace medseal::mirror {

struct MirrorConfig {
  note::VerifierKey log_key;                 // the log's key; its name is the origin
  std::vector<note::VerifierKey> witnesses;  // witness cosignature keys (type 0x04)
  size_t quorum = 0;                         // how many of `witnesses` must cosign to adopt
};

struct SyncReport {
  uint64_t size = 0;                // the verified size after the round
  bool adopted = false;             // a new checkpoint from the log was verified and stored
  bool awaiting_quorum = false;     // the log's newer checkpoint verified but lacks cosignatures
  size_t alerts = 0;                // alerts raised in this round
  uint64_t fetched = 0;             // tiles and bundles fetched in this round (log and peers)
  std::vector<std::string> errors;  // one line per source that could not be checked
};

class Mirror {
 public:
  // Resumes from what `store` holds: its checkpoint must be signed by config.log_key and match the
  // stored tiles. kInvalidArgument for a config whose keys collide or a quorum above the witnesses.
  static Result<std::unique_ptr<Mirror>> open(MirrorStore store, MirrorConfig config,
                                              alerts::AlertSink& sink);

  // One round: the log's checkpoint (verified, then adopted or alerted on), then each peer's.
  // Fetch failures and a log whose tiles disagree with its own checkpoint are errors, not alerts:
  // they contradict nothing the log signed.
  SyncReport sync(tlog_client::TileSource& log, std::span<tlog_client::TileSource* const> peers = {});

  // The last verified checkpoint (empty note before the first) and its size. Thread-safe.
  storage::LogHead head() const;
  // A tile or bundle of the last verified tree, exactly id.width wide; kNotFound outside it.
  // Thread-safe, also during sync().
  Result<std::string> read_tile(const merkle::TileId& id) const;

 private:
  struct Candidate;
  Mirror(MirrorStore store, MirrorConfig config, alerts::AlertSink& sink);
  Status restore();
  Result<Candidate> open_candidate(const std::string& text) const;
  // The source's checkpoint, opened; nullopt once a bad-signature alert was raised for it.
  Result<std::optional<Candidate>> read_candidate(tlog_client::TileSource& source, SyncReport& report);
  Status follow(tlog_client::TileSource& log, SyncReport& report);
  Status check_peer(tlog_client::TileSource& peer, SyncReport& report);
  Result<bool> is_prefix(const note::Checkpoint& smaller) const;
  Status adopt(const Candidate& found, std::vector<merkle::TileId> superseded,
               const merkle::CompactRange& range);
  Status confirm_fork(tlog_client::TileSource& source, const Candidate& found, const Status& why,
                      SyncReport& report);
  void raise(std::string kind, const std::string& summary, const tlog_client::TileSource& source,
             const std::string& found_text, const Candidate* found, const std::string& detail,
             SyncReport& report);

  MirrorStore store_;
  MirrorConfig config_;
  alerts::AlertSink& sink_;
  std::set<std::string> raised_;  // digests of alerts already raised

  // The verified state. Written by sync() under an exclusive lock; readers take a shared one.
  mutable std::shared_mutex mu_;
  std::string note_;
  note::Checkpoint checkpoint_;
  merkle::CompactRange range_;
};

// A read-only ledger::Ledger over a mirror, so server::HttpServer serves the mirror's checkpoint
// and tiles at the log's paths with the log's headers. Appends are kFailedPrecondition and there
// are no receipts (kNotFound). `mirror` must outlive it.
std::unique_ptr<ledger::Ledger> serving_ledger(const Mirror& mirror);

}  // namespace medseal::mirror
