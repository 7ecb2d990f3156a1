#include "ledger/receipt.h"

#include <optional>
#include <span>
#include <vector>

#include "ledger/store_tiles.h"
#include "merkle/hash.h"
#include "merkle/proof.h"
#include "merkle/tile.h"
#include "note/note.h"
#include "note/tlog_proof.h"

namespace medseal::ledger {
namespace {

// The extra of a receipt, split into its parts (views into the decoded extra).
struct ExtraParts {
  std::string_view leaf, salt, statement;
};

Result<ExtraParts> split_extra(const std::optional<std::string>& extra) {
  if (!extra) return Status::invalid("receipt has no extra line (entry, salt and statement)");
  std::string_view e = *extra;
  if (e.size() < kEntrySize + kSaltSize) {
    return Status::invalid("receipt extra is shorter than an entry and its salt");
  }
  return ExtraParts{e.substr(0, kEntrySize), e.substr(kEntrySize, kSaltSize),
                    e.substr(kEntrySize + kSaltSize)};
}

// The checkpoint, once its signature by the log key has been verified.
Result<note::Checkpoint> open_checkpoint(std::string_view signed_note,
                                         const note::VerifierKey& log_key) {
  Result<note::OpenedNote> opened = note::open_note(signed_note, std::span(&log_key, 1));
  if (!opened) {
    return Status::verification("receipt checkpoint is not signed by the log key " + log_key.name +
                                ": " + opened.status().message());
  }
  Result<note::Checkpoint> cp = note::parse_checkpoint(opened->text);
  if (!cp) return Status::invalid("receipt checkpoint is malformed: " + cp.status().message());
  if (cp->origin != log_key.name) {
    return Status::verification("receipt checkpoint origin \"" + cp->origin +
                                "\" is not the log key's name \"" + log_key.name + "\"");
  }
  return cp;
}

// Entry `index` as stored in its entry bundle (which may have grown since: it is only appended to).
Result<std::string> read_leaf(storage::Store& store, uint64_t index) {
  Result<storage::StoredTile> bundle = store.read_tile(true, 0, index / merkle::kTileWidth);
  if (!bundle) return bundle.status();
  Result<std::vector<std::string_view>> entries = merkle::parse_entry_bundle(bundle->bytes);
  if (!entries) return Status::internal("stored entry bundle: " + entries.status().message());
  const uint64_t offset = index % merkle::kTileWidth;
  if (offset >= entries->size()) return Status::internal("stored entry bundle is too short");
  return std::string((*entries)[offset]);
}

}  // namespace

namespace {

// Everything but the checkpoint's signatures: the extra, the commitment, the inclusion proof.
// `open` turns the receipt's checkpoint note into the checkpoint it trusts.
template <typename OpenCheckpoint>
Result<VerifiedReceipt> verify_receipt_with(std::string_view receipt, OpenCheckpoint open) {
  Result<note::TlogProof> proof = note::parse_tlog_proof(receipt);
  if (!proof) return Status::invalid("receipt is not a tlog-proof: " + proof.status().message());
  Result<ExtraParts> parts = split_extra(proof->extra);
  if (!parts) return parts.status();
  Result<Entry> entry = parse_entry(parts->leaf);
  if (!entry) return Status::invalid("receipt entry: " + entry.status().message());
  if (commitment(parts->salt, parts->statement) != entry->commitment) {
    return Status::verification("receipt salt and statement do not match the entry's commitment");
  }
  Result<note::Checkpoint> cp = open(proof->checkpoint);
  if (!cp) return cp.status();
  if (proof->index >= cp->size) {
    return Status::verification("receipt index " + std::to_string(proof->index) +
                                " is beyond the checkpoint's size " + std::to_string(cp->size));
  }
  const Hash leaf = merkle::leaf_hash(parts->leaf);
  if (!merkle::verify_inclusion(leaf, proof->index, cp->size, proof->inclusion, cp->root)) {
    return Status::verification("receipt inclusion proof does not lead to the checkpoint's root");
  }
  return VerifiedReceipt{proof->index,
                         *entry,
                         std::string(parts->salt),
                         std::string(parts->statement),
                         std::move(*cp),
                         std::move(proof->checkpoint)};
}

// The receipt's checkpoint if its body is `pinned` (origin, size, root); signatures unchecked.
Result<note::Checkpoint> match_pinned(std::string_view signed_note, const note::Checkpoint& pinned) {
  Result<note::Note> parsed = note::parse_note(signed_note);
  if (!parsed) return Status::invalid("receipt checkpoint is malformed: " + parsed.status().message());
  Result<note::Checkpoint> cp = note::parse_checkpoint(parsed->text);
  if (!cp) return Status::invalid("receipt checkpoint is malformed: " + cp.status().message());
  if (cp->origin != pinned.origin || cp->size != pinned.size || cp->root != pinned.root) {
    return Status::verification("receipt checkpoint (" + cp->origin + ", size " + std::to_string(cp->size) +
                                ") is not the pinned one (" + pinned.origin + ", size " +
                                std::to_string(pinned.size) + ") with the same root");
  }
  return cp;
}

}  // namespace

Result<VerifiedReceipt> verify_receipt(std::string_view receipt, const note::VerifierKey& log_key) {
  return verify_receipt_with(receipt, [&](std::string_view cp) { return open_checkpoint(cp, log_key); });
}

Result<VerifiedReceipt> verify_receipt_pinned(std::string_view receipt, const note::Checkpoint& pinned) {
  return verify_receipt_with(receipt, [&](std::string_view cp) { return match_pinned(cp, pinned); });
}

Result<std::string> build_receipt(storage::Store& store, const storage::LogHead& head,
                                  uint64_t index) {
  if (index >= head.size) {
    return Status::not_found("entry " + std::to_string(index) + " is beyond the log's size " +
                             std::to_string(head.size));
  }
  StoreNodeReader nodes(store, head.size);
  Result<std::vector<Hash>> path = merkle::inclusion_proof(index, head.size, nodes);
  if (!path) return path.status();
  Result<std::string> leaf = read_leaf(store, index);
  if (!leaf) return leaf.status();
  Result<storage::EntryExtra> extra = store.read_extra(index);
  if (!extra) return extra.status();
  note::TlogProof proof;
  proof.extra = *leaf + extra->salt + extra->statement;
  proof.index = index;
  proof.inclusion = std::move(*path);
  proof.checkpoint = head.checkpoint;
  return note::format_tlog_proof(proof);
}

}  // namespace medseal::ledger
