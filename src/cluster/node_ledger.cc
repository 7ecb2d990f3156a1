#include "cluster/node_ledger.h"

#include <span>
#include <utility>

#include "ledger/receipt.h"
#include "ledger/store_tiles.h"
#include "merkle/compact_range.h"
#include "note/checkpoint.h"
#include "note/note.h"

namespace medseal::cluster {

NodeLedger::NodeLedger(storage::Store& store, note::SignerKey log_key, std::unique_ptr<AlertIntake> intake)
    : store_(store), key_(std::move(log_key)), intake_(std::move(intake)) {}

NodeLedger::~NodeLedger() {
  std::lock_guard lock(mu_);
  leader_.reset();  // drains its sequencer before its store goes
  leader_store_.reset();
}

void NodeLedger::promote(std::unique_ptr<storage::Store> leader_store,
                         std::unique_ptr<ledger::Ledger> leader) {
  std::lock_guard lock(mu_);
  leader_store_ = std::move(leader_store);
  leader_ = std::move(leader);
}

ledger::Ledger* NodeLedger::leader() const {
  std::lock_guard lock(mu_);
  return leader_.get();  // never reset before destruction, so the pointer stays valid
}

bool NodeLedger::leads() const { return leader() != nullptr; }

Result<uint64_t> NodeLedger::append(ledger::AppendRequest request) {
  if (ledger::Ledger* l = leader()) return l->append(std::move(request));
  if (intake_ && is_alert_entry(request)) {
    MEDSEAL_RETURN_IF_ERROR(intake_->put(request));
    return kHandedOver;
  }
  return Status::precondition("this node does not sequence; the leader appends");
}

Result<uint64_t> NodeLedger::append_all(std::vector<ledger::AppendRequest> requests) {
  if (ledger::Ledger* l = leader()) return l->append_all(std::move(requests));
  return Status::precondition("this node does not sequence; the leader appends");
}

storage::LogHead NodeLedger::head() const {
  if (ledger::Ledger* l = leader()) return l->head();
  Result<storage::LogHead> stored = store_.head();
  std::lock_guard lock(mu_);
  // A store that cannot be read just now: the last head seen, never an older or empty one.
  if (!stored) return last_head_;
  if (stored->checkpoint.empty()) {
    // A log never written: the empty tree's checkpoint, the bytes a leader serves (Ed25519
    // signatures are deterministic).
    const std::string text =
        note::format_checkpoint(note::Checkpoint{key_.name, 0, merkle::CompactRange().root(), {}});
    Result<std::string> signed_note = note::sign_note(text, std::span(&key_, 1));
    if (!signed_note) return last_head_;
    stored->checkpoint = std::move(*signed_note);
  }
  if (stored->size >= last_head_.size) last_head_ = std::move(*stored);
  return last_head_;
}

Result<std::string> NodeLedger::read_tile(const merkle::TileId& id) {
  if (ledger::Ledger* l = leader()) return l->read_tile(id);
  return ledger::read_tree_tile(store_, id, head().size);
}

Result<std::string> NodeLedger::receipt(uint64_t index) {
  if (ledger::Ledger* l = leader()) return l->receipt(index);
  return ledger::build_receipt(store_, head(), index);
}

}  // namespace medseal::cluster
