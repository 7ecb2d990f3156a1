#include "mirror/mirror.h"

#include <mutex>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "merkle/hash.h"
#include "merkle/proof.h"
#include "mirror/grow.h"
#include "note/note.h"
#include "server/json_log.h"
#include "tlog_client/verify.h"

namespace medseal::mirror {
namespace {

// Checkpoints quoted in evidence are cut here: a note is small, a hostile server's may not be.
constexpr size_t kMaxEvidenceNote = 16 << 10;

std::string b64(const Hash& h) { return crypto::base64_encode(as_view(h)); }

bool same_key(const note::VerifierKey& a, const note::VerifierKey& b) {
  return a.name == b.name && a.id == b.id && a.type == b.type && a.public_key == b.public_key;
}

// A source whose checkpoint is the one already fetched, so a full audit checks that very note
// even if the log moves on meanwhile.
class PinnedSource : public tlog_client::TileSource {
 public:
  PinnedSource(tlog_client::TileSource& source, std::string checkpoint)
      : source_(source), checkpoint_(std::move(checkpoint)) {}
  Result<std::string> read_checkpoint() override { return checkpoint_; }
  Result<std::string> read_tile(const merkle::TileId& id) override { return source_.read_tile(id); }
  std::string describe() const override { return source_.describe(); }

 private:
  tlog_client::TileSource& source_;
  std::string checkpoint_;
};

class ServingLedger : public ledger::Ledger {
 public:
  explicit ServingLedger(const Mirror& mirror) : mirror_(mirror) {}
  Result<uint64_t> append(ledger::AppendRequest) override { return read_only(); }
  Result<uint64_t> append_all(std::vector<ledger::AppendRequest>) override { return read_only(); }
  storage::LogHead head() const override { return mirror_.head(); }
  Result<std::string> read_tile(const merkle::TileId& id) override { return mirror_.read_tile(id); }
  Result<std::string> receipt(uint64_t) override { return Status::not_found("a mirror serves no receipts"); }

 private:
  static Status read_only() { return Status::precondition("a mirror only serves what it verified"); }
  const Mirror& mirror_;
};

}  // namespace

struct Mirror::Candidate {
  std::string text;
  note::Checkpoint checkpoint;
  size_t cosigners = 0;  // of config.witnesses
};

Mirror::Mirror(MirrorStore store, MirrorConfig config, alerts::AlertSink& sink)
    : store_(std::move(store)), config_(std::move(config)), sink_(sink) {
  checkpoint_.root = merkle::empty_root();  // until restore() finds a stored checkpoint
}

Result<std::unique_ptr<Mirror>> Mirror::open(MirrorStore store, MirrorConfig config,
                                             alerts::AlertSink& sink) {
  if (config.quorum > config.witnesses.size()) {
    return Status::invalid("the quorum is larger than the number of witness keys");
  }
  for (const note::VerifierKey& w : config.witnesses) {
    if (w.type != note::KeyType::kCosignatureV1) {
      return Status::invalid("witness key " + w.name + " is not a cosignature key");
    }
    if (w.name == config.log_key.name && w.id == config.log_key.id) {
      return Status::invalid("witness key " + w.name + " has the log key's name and id");
    }
  }
  std::unique_ptr<Mirror> mirror(new Mirror(std::move(store), std::move(config), sink));
  MEDSEAL_RETURN_IF_ERROR(mirror->restore());
  return mirror;
}

Status Mirror::restore() {
  auto text = store_.read_checkpoint();
  if (!text) return text.status();
  if (!*text) return Status::ok();  // a new mirror: the empty tree
  std::string where = store_.log_dir() + "/checkpoint";
  auto checkpoint = tlog_client::open_checkpoint(**text, config_.log_key);
  if (!checkpoint) return Status::precondition(where + ": " + checkpoint.status().message());
  StoredTiles tiles(store_, checkpoint->size);
  merkle::TileNodeReader nodes(checkpoint->size, tiles);
  auto frontier = nodes.read_nodes(merkle::CompactRange::frontier_ids(checkpoint->size));
  if (!frontier) return Status::precondition(where + ": stored tiles: " + frontier.status().message());
  auto range = merkle::CompactRange::from_frontier(checkpoint->size, std::move(*frontier));
  if (!range) return range.status();
  if (range->root() != checkpoint->root) {
    return Status::precondition(where + ": the stored tiles do not give its root");
  }
  note_ = std::move(**text);
  checkpoint_ = std::move(*checkpoint);
  range_ = std::move(*range);
  return Status::ok();
}

storage::LogHead Mirror::head() const {
  std::shared_lock lock(mu_);
  return storage::LogHead{checkpoint_.size, note_};
}

Result<std::string> Mirror::read_tile(const merkle::TileId& id) const {
  std::shared_lock lock(mu_);
  return store_.read_tile(id, checkpoint_.size);
}

// The log's signature must verify and be the log's; every signature by a given witness key must
// verify too (open_note rejects the note otherwise); other signatures are ignored.
Result<Mirror::Candidate> Mirror::open_candidate(const std::string& text) const {
  std::vector<note::VerifierKey> known = {config_.log_key};
  known.insert(known.end(), config_.witnesses.begin(), config_.witnesses.end());
  auto opened = note::open_note(text, known);
  if (!opened) return Status::verification(opened.status().message());
  Candidate found{text, {}, 0};
  bool by_log = false;
  for (const note::VerifiedSignature& sig : opened->verified) {
    if (same_key(sig.key, config_.log_key)) {
      by_log = true;
    } else {
      ++found.cosigners;
    }
  }
  if (!by_log) return Status::verification("not signed by the log's key " + config_.log_key.name);
  auto checkpoint = note::parse_checkpoint(opened->text);
  if (!checkpoint) return Status::verification("not a checkpoint: " + checkpoint.status().message());
  if (checkpoint->origin != config_.log_key.name) {
    return Status::verification("origin " + checkpoint->origin + " is not the key's name");
  }
  found.checkpoint = std::move(*checkpoint);
  return found;
}

SyncReport Mirror::sync(tlog_client::TileSource& log, std::span<tlog_client::TileSource* const> peers) {
  SyncReport report;
  Status followed = follow(log, report);
  if (!followed) report.errors.push_back(log.describe() + ": " + followed.message());
  for (tlog_client::TileSource* peer : peers) {
    Status checked = check_peer(*peer, report);
    if (!checked) report.errors.push_back(peer->describe() + ": " + checked.message());
  }
  report.size = checkpoint_.size;
  return report;
}

Result<std::optional<Mirror::Candidate>> Mirror::read_candidate(tlog_client::TileSource& source,
                                                                SyncReport& report) {
  auto text = source.read_checkpoint();
  if (!text) return text.status();
  auto found = open_candidate(*text);
  if (found) return std::optional<Candidate>(std::move(*found));
  raise("bad-signature", "a checkpoint that is not validly signed by the log", source, *text, nullptr,
        found.status().message(), report);
  return std::optional<Candidate>();
}

Status Mirror::follow(tlog_client::TileSource& log, SyncReport& report) {
  auto read = read_candidate(log, report);
  if (!read) return read.status();
  if (!*read) return Status::ok();
  const Candidate& found = **read;
  const note::Checkpoint& next = found.checkpoint;
  bool quorum = found.cosigners >= config_.quorum;
  if (next.size < checkpoint_.size) {
    auto prefix = is_prefix(next);
    if (!prefix) return prefix.status();
    if (*prefix) {
      raise("log-rollback", "the log went back to an earlier checkpoint", log, found.text, &found,
            "size " + std::to_string(checkpoint_.size) + " -> " + std::to_string(next.size), report);
    } else {
      raise("fork", "the log went back to a checkpoint that is not a prefix of the verified tree",
            log, found.text, &found, "smaller and inconsistent", report);
    }
    return Status::ok();
  }
  if (next.size == checkpoint_.size) {
    if (next.root != checkpoint_.root) {
      raise("fork", "the log signed two checkpoints of one size with different roots", log, found.text,
            &found, "same size, different roots", report);
    } else if (found.text != note_ && quorum) {
      return adopt(found, {}, range_);  // the same tree, newly (co)signed
    }
    return Status::ok();
  }
  auto growth = grow(log, store_, range_, next);
  if (!growth) {
    store_.discard_staged();
    if (growth.status().code() != Code::kVerificationFailed) return growth.status();
    return confirm_fork(log, found, growth.status(), report);
  }
  report.fetched += growth->fetched;
  if (!quorum) {
    store_.discard_staged();
    report.awaiting_quorum = true;
    return Status::ok();
  }
  MEDSEAL_RETURN_IF_ERROR(adopt(found, std::move(growth->superseded), growth->range));
  report.adopted = true;
  return Status::ok();
}

Status Mirror::adopt(const Candidate& found, std::vector<merkle::TileId> superseded,
                     const merkle::CompactRange& range) {
  MEDSEAL_RETURN_IF_ERROR(store_.commit(found.text));
  std::unique_lock lock(mu_);
  note_ = found.text;
  checkpoint_ = found.checkpoint;
  range_ = range;
  // Under the lock: a reader that saw the old size may still want these files.
  for (const merkle::TileId& id : superseded) store_.remove_tile(id);
  return Status::ok();
}

Status Mirror::check_peer(tlog_client::TileSource& peer, SyncReport& report) {
  auto read = read_candidate(peer, report);
  if (!read) return read.status();
  if (!*read) return Status::ok();
  const Candidate& found = **read;
  const note::Checkpoint& theirs = found.checkpoint;
  if (theirs.size <= checkpoint_.size) {
    auto prefix = is_prefix(theirs);
    if (!prefix) return prefix.status();
    if (!*prefix) {
      raise("fork", "a peer sees a checkpoint inconsistent with the verified one (split view)",
            peer, found.text, &found, "the peer's tree is not a prefix of the verified tree", report);
    }
    return Status::ok();
  }
  auto growth = grow(peer, store_, range_, theirs);
  store_.discard_staged();  // a peer's view is checked, never adopted
  if (growth) {
    report.fetched += growth->fetched;
    return Status::ok();
  }
  if (growth.status().code() != Code::kVerificationFailed) return growth.status();
  return confirm_fork(peer, found, growth.status(), report);
}

// A tree of at most the verified size is consistent with the verified one iff an RFC 9162
// consistency proof built from the verified tiles takes its root to the verified root.
Result<bool> Mirror::is_prefix(const note::Checkpoint& smaller) const {
  if (smaller.size == checkpoint_.size) return smaller.root == checkpoint_.root;
  if (smaller.size == 0) return smaller.root == merkle::empty_root();
  StoredTiles tiles(store_, checkpoint_.size);
  merkle::TileNodeReader nodes(checkpoint_.size, tiles);
  auto proof = merkle::consistency_proof(smaller.size, checkpoint_.size, nodes);
  if (!proof) return proof.status();
  return merkle::verify_consistency(smaller.size, checkpoint_.size, *proof, smaller.root,
                                    checkpoint_.root)
      .is_ok();
}

// The incremental check failed. Only a full audit tells a fork (the larger tree is sound but does
// not contain the verified one) from tiles that do not match their own checkpoint.
Status Mirror::confirm_fork(tlog_client::TileSource& source, const Candidate& found,
                            const Status& why, SyncReport& report) {
  PinnedSource pinned(source, found.text);
  tlog_client::VerifyOptions with_old;
  if (!note_.empty()) with_old.old_checkpoint = note_;
  auto extends = tlog_client::verify_log(pinned, config_.log_key, with_old);
  if (extends) return Status::internal("a full audit passed where the incremental check failed: " + why.message());
  if (extends.status().code() != Code::kVerificationFailed || !with_old.old_checkpoint) {
    return extends.status();
  }
  auto sound = tlog_client::verify_log(pinned, config_.log_key);
  if (!sound) return Status::verification("the tiles do not match the checkpoint: " + sound.status().message());
  raise("fork", "a larger checkpoint signed by the log does not extend the verified tree", source,
        found.text, &found, extends.status().message(), report);
  return Status::ok();
}

void Mirror::raise(std::string kind, const std::string& summary, const tlog_client::TileSource& source,
                   const std::string& found_text, const Candidate* found, const std::string& detail,
                   SyncReport& report) {
  std::string digest = hex_encode(as_view(crypto::sha256(kind + "\n" + source.describe() + "\n" + found_text)));
  if (!raised_.insert(digest).second) return;
  alerts::Alert alert = alerts::make_alert(alerts::Severity::kCritical, std::move(kind), summary);
  alert.resources = {source.describe()};
  nlohmann::json seen = {{"checkpoint", found_text.substr(0, kMaxEvidenceNote)}};
  if (found) {
    seen["size"] = found->checkpoint.size;
    seen["root"] = b64(found->checkpoint.root);
  }
  alert.evidence = {{"source", source.describe()},
                    {"verified", {{"size", checkpoint_.size}, {"root", b64(checkpoint_.root)}, {"checkpoint", note_}}},
                    {"found", seen},
                    {"detail", detail}};
  sink_.raise(alert);
  ++report.alerts;
}

std::unique_ptr<ledger::Ledger> serving_ledger(const Mirror& mirror) {
  return std::make_unique<ServingLedger>(mirror);
}

}  // namespace medseal::mirror
