#include "ledger/ledger.h"

#include <mutex>
#include <span>
#include <thread>
#include <utility>

#include "crypto/random.h"
#include "ledger/receipt.h"
#include "ledger/request_queue.h"
#include "ledger/store_tiles.h"
#include "ledger/tree_writer.h"
#include "merkle/hash.h"
#include "note/checkpoint.h"
#include "note/note.h"

namespace medseal::ledger {
namespace {

bool known_kind(EntryKind kind) {
  const auto k = static_cast<uint8_t>(kind);
  return k >= 0x01 && k <= 0x04;
}

size_t entry_count(const std::vector<Pending*>& batch) {
  size_t n = 0;
  for (const Pending* p : batch) n += p->entries.size();
  return n;
}

// Everything about an entry that does not depend on its position, done in the appending thread so
// that concurrent callers hash in parallel with the sequencer's commit.
Result<std::vector<PreparedEntry>> prepare_entries(std::vector<AppendRequest>& requests,
                                                   uint64_t now_ms) {
  std::string salts(requests.size() * kSaltSize, '\0');
  crypto::random_bytes(reinterpret_cast<uint8_t*>(salts.data()), salts.size());
  std::vector<PreparedEntry> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    AppendRequest& r = requests[i];
    if (!known_kind(r.kind)) return Status::invalid("unknown ledger entry kind");
    PreparedEntry& e = out[i];
    e.extra.salt = salts.substr(i * kSaltSize, kSaltSize);
    const uint64_t time = r.time_ms != 0 ? r.time_ms : now_ms;
    e.leaf = encode_entry(Entry{r.kind, time, commitment(e.extra.salt, r.statement)});
    e.leaf_hash = merkle::leaf_hash(e.leaf);
    e.extra.statement = std::move(r.statement);
    e.time_ms = time;
    e.record = std::move(r.record);
    e.keys = std::move(r.keys);
    e.erasure = std::move(r.erasure);
  }
  return out;
}

class LedgerImpl final : public Ledger {
 public:
  LedgerImpl(storage::Store& store, note::SignerKey key, const LedgerOptions& options)
      : store_(store),
        key_(std::move(key)),
        options_(options),
        queue_(options.batch_window, options.max_batch_entries) {}

  ~LedgerImpl() override {
    queue_.close();  // the sequencer commits what is queued, then stops; then the syncer
    if (sequencer_.joinable()) sequencer_.join();
    if (syncer_.joinable()) syncer_.join();
  }

  Status start() {
    MEDSEAL_RETURN_IF_ERROR(load_state());
    sequencer_ = std::thread([this] { run_sequencer(); });
    syncer_ = std::thread([this] { run_syncer(); });
    return Status::ok();
  }

  Result<uint64_t> append(AppendRequest request) override {
    std::vector<AppendRequest> one;
    one.push_back(std::move(request));
    return append_all(std::move(one));
  }

  Result<uint64_t> append_all(std::vector<AppendRequest> requests) override {
    if (requests.empty()) return Status::invalid("append_all needs at least one entry");
    Result<std::vector<PreparedEntry>> entries =
        prepare_entries(requests, options_.clock->now_ms());
    if (!entries) return entries.status();
    Pending p;
    p.entries = std::move(*entries);
    if (!queue_.push(&p)) return Status::precondition("the ledger is shutting down");
    return p.wait();
  }

  storage::LogHead head() const override {
    std::lock_guard lock(head_mu_);
    return head_;
  }

  Result<std::string> read_tile(const merkle::TileId& id) override {
    return read_tree_tile(store_, id, head().size);
  }

  Result<std::string> receipt(uint64_t index) override {
    return build_receipt(store_, head(), index);
  }

 private:
  // Loads head and tree from the store and publishes the head, trusting nothing it has not checked
  // against the log key. The store must hold no batch still waiting for its flush.
  Status load_state() {
    Result<storage::LogHead> stored = store_.head();
    if (!stored) return stored.status();
    if (stored->checkpoint.empty()) {
      if (stored->size != 0) return Status::internal("the store has entries but no checkpoint");
      // A log never written: serve a signed checkpoint of the empty tree, but store nothing.
      Result<std::string> cp = sign_checkpoint(0, merkle::CompactRange().root());
      if (!cp) return cp.status();
      tree_ = TreeWriter();
      publish({0, std::move(*cp)});
      return Status::ok();
    }
    Result<note::Checkpoint> cp = open_checkpoint(stored->checkpoint, stored->size);
    if (!cp) return cp.status();
    Result<TreeWriter> tree = TreeWriter::load(store_, stored->size);
    if (!tree) return tree.status();
    if (tree->root() != cp->root) {
      return Status::verification("the stored tiles do not match the signed checkpoint");
    }
    tree_ = std::move(*tree);
    publish(std::move(*stored));
    return Status::ok();
  }

  Result<note::Checkpoint> open_checkpoint(std::string_view signed_note, uint64_t size) const {
    const note::VerifierKey verifier = note::verifier_of(key_);
    Result<note::OpenedNote> opened = note::open_note(signed_note, std::span(&verifier, 1));
    if (!opened) {
      return Status::verification("the stored checkpoint is not signed by the log key: " +
                                  opened.status().message());
    }
    Result<note::Checkpoint> cp = note::parse_checkpoint(opened->text);
    if (!cp) return cp.status();
    if (cp->origin != key_.name || cp->size != size) {
      return Status::verification("the stored checkpoint is for another log or size");
    }
    return cp;
  }

  Result<std::string> sign_checkpoint(uint64_t size, const Hash& root) const {
    const std::string text = note::format_checkpoint(note::Checkpoint{key_.name, size, root, {}});
    return note::sign_note(text, std::span(&key_, 1));
  }

  void publish(storage::LogHead head) {
    std::lock_guard lock(head_mu_);
    head_ = std::move(head);
  }

  // Commits batch after batch without waiting for the disk: each committed batch goes to the
  // syncer, which acknowledges it after the next flush. A failed commit is answered at once.
  // A batch is taken only once the syncer has taken the previous one, so while one flush runs
  // the next batch gathers every request that arrives meanwhile: group commit paced by the
  // disk, with one batch written ahead of it.
  void run_sequencer() {
    for (;;) {
      committed_.wait_until_taken();
      std::vector<Pending*> batch = queue_.next_batch();
      if (batch.empty()) break;  // closed and drained
      Result<storage::LogHead> head = commit_batch(batch);
      if (!head) {
        acknowledge(batch, head.status());
        continue;
      }
      committed_.push({std::move(batch), std::move(*head)});
    }
    committed_.close();
  }

  // One flush for every batch committed since the last: while it runs, the sequencer commits the
  // next batch, so the disk's latency is paid once per flush instead of once per batch.
  void run_syncer() {
    for (;;) {
      std::vector<Committed> committed = committed_.take_all();
      if (committed.empty()) return;  // the sequencer is done and everything is answered
      Status flushed = sync_failure();
      if (flushed) flushed = store_.sync();
      if (!flushed) fail_syncs(flushed);
      if (flushed) publish(committed.back().head);
      for (Committed& c : committed) {
        const uint64_t first = c.head.size - entry_count(c.batch);
        acknowledge(c.batch, flushed ? Result<uint64_t>(first) : Result<uint64_t>(flushed));
      }
      committed_.finished(committed.size());
    }
  }

  // After a failed flush the kernel may have dropped the unwritten pages: whether the batches
  // since the last good flush are on disk is unknown, so no further write is acknowledged
  // until the ledger is opened again (PostgreSQL stops for the same reason).
  void fail_syncs(const Status& cause) {
    std::lock_guard lock(sync_failure_mu_);
    if (sync_failure_.is_ok()) {
      sync_failure_ = Status::io("the store could not flush its writes (" + cause.message() +
                                 "); restart to continue");
    }
  }
  Status sync_failure() const {
    std::lock_guard lock(sync_failure_mu_);
    return sync_failure_;
  }

  // Integrates and commits one batch, not yet durable; returns the head it makes.
  Result<storage::LogHead> commit_batch(std::vector<Pending*>& batch) {
    MEDSEAL_RETURN_IF_ERROR(sync_failure());
    // After a failed commit the in-memory tree may hold entries the store does not: start over
    // from what the store holds, and fail this batch too if the store cannot be read yet.
    if (needs_reload_) {
      // What the store holds may be served once the batches before the failure are flushed. (If
      // someone truncated the store, the smaller head is served: monitors see the rollback.)
      committed_.wait_until_idle();
      MEDSEAL_RETURN_IF_ERROR(load_state());
      needs_reload_ = false;
    }
    needs_reload_ = true;  // until the commit below has succeeded
    Result<storage::Batch> b = integrate(batch);
    if (!b) return b.status();
    MEDSEAL_RETURN_IF_ERROR(store_.commit_unsynced(*b));
    needs_reload_ = false;
    return storage::LogHead{b->new_size, std::move(b->checkpoint)};
  }

  // Appends the batch's entries to the tree and returns everything the store must write.
  Result<storage::Batch> integrate(std::vector<Pending*>& batch) {
    storage::Batch b;
    b.old_size = tree_.size();
    b.extras.reserve(entry_count(batch));
    for (Pending* p : batch) {
      for (PreparedEntry& e : p->entries) {
        const uint64_t index = tree_.size();
        tree_.append(e.leaf, e.leaf_hash);
        b.extras.push_back(std::move(e.extra));
        add_rows(index, e, b);
      }
    }
    b.new_size = tree_.size();
    b.tiles = tree_.take_changes();
    Result<std::string> cp = sign_checkpoint(b.new_size, tree_.root());
    if (!cp) return cp.status();
    b.checkpoint = std::move(*cp);
    return b;
  }

  // The entry's optional rows, now that its index is known. Moved: a batch is never retried.
  static void add_rows(uint64_t index, PreparedEntry& e, storage::Batch& b) {
    if (e.record) {
      storage::RecordVersion& r = b.records.emplace_back(std::move(*e.record));
      r.ledger_index = index;
      r.updated_ms = e.time_ms;
    }
    for (std::string& key : e.keys) b.keys.push_back({std::move(key), index});
    if (e.erasure) b.erasures.push_back(std::move(*e.erasure));
  }

  static void acknowledge(std::vector<Pending*>& batch, const Result<uint64_t>& first) {
    uint64_t next = first ? *first : 0;
    for (Pending* p : batch) {
      const size_t n = p->entries.size();  // read before finish: p may be gone after it
      p->finish(first ? Result<uint64_t>(next) : Result<uint64_t>(first.status()));
      next += n;
    }
  }

  storage::Store& store_;
  const note::SignerKey key_;
  const LedgerOptions options_;

  TreeWriter tree_;            // the sequencer's alone once it runs
  bool needs_reload_ = false;  // the sequencer's alone

  mutable std::mutex head_mu_;
  storage::LogHead head_;  // the latest durable head, for readers

  RequestQueue queue_;
  CommittedQueue committed_;
  mutable std::mutex sync_failure_mu_;
  Status sync_failure_ = Status::ok();
  std::thread sequencer_, syncer_;
};

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::open(storage::Store& store, note::SignerKey log_key,
                                             LedgerOptions options) {
  if (options.clock == nullptr) return Status::invalid("LedgerOptions.clock is null");
  auto ledger = std::make_unique<LedgerImpl>(store, std::move(log_key), options);
  MEDSEAL_RETURN_IF_ERROR(ledger->start());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace medseal::ledger
