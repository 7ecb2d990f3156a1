// medseal publish and medseal extend: publications (ledger/publication.h) made from a log's
// verified checkpoint, and receipts re-proven against a published tree size so that the
// publication's code alone verifies them.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "ledger/publication.h"
#include "ledger/receipt.h"
#include "note/note.h"
#include "note/tlog_proof.h"
#include "tlog_client/tile_nodes.h"
#include "util/clock.h"

namespace medseal::cli {
namespace {

constexpr size_t kMaxPublicationsBytes = 64 << 20;  // decades of daily publications
constexpr size_t kMaxReceiptBytes = 32 << 20;       // as medseal verify

// The publications in `path`; none if the file does not exist yet.
Result<std::vector<ledger::PublicationRecord>> read_publications(const std::string& path, bool may_be_absent) {
  struct stat st;
  if (may_be_absent && ::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::vector<ledger::PublicationRecord>{};
  auto text = read_input_file(path, kMaxPublicationsBytes);
  if (!text) return text.status();
  auto records = ledger::parse_publications_file(*text);
  if (!records && records.status().code() == Code::kInvalidArgument) {
    return Status::invalid(path + ": " + records.status().message());
  }
  if (!records) return Status::verification(path + ": " + records.status().message());
  return records;
}

const ledger::PublicationRecord* latest_of(const std::vector<ledger::PublicationRecord>& records,
                                           const std::string& origin) {
  const ledger::PublicationRecord* latest = nullptr;
  for (const auto& r : records) {
    if (r.publication.origin == origin) latest = &r;
  }
  return latest;
}

}  // namespace

int run_publish(const PublishArgs& args) {
  constexpr std::string_view kCommand = "publish";
  if (args.quorum > args.witnesses.size()) return fail(kCommand, "--quorum exceeds the witness keys given", kExitUsage);
  auto vkey = load_vkey(args.vkey);
  if (!vkey) return fail(kCommand, vkey.status());
  auto witnesses = load_vkeys(args.witnesses);
  if (!witnesses) return fail(kCommand, witnesses.status());
  auto source = open_tile_source(args.url, "");
  if (!source) return fail(kCommand, source.status());
  std::vector<ledger::PublicationRecord> published;
  if (!args.append_to.empty()) {
    auto records = read_publications(args.append_to, true);
    if (!records) return fail(kCommand, records.status());
    published = std::move(*records);
  }
  auto note_text = (*source)->read_checkpoint();
  if (!note_text) return fail(kCommand, (*source)->describe() + ": " + note_text.status().message(), kExitFailure);
  auto checkpoint = open_checkpoint_with_quorum(*note_text, *vkey, *witnesses, args.quorum);
  if (!checkpoint) return fail(kCommand, checkpoint.status());
  auto record = ledger::make_publication_record(*note_text, system_clock().now_ms());
  if (!record) return fail(kCommand, record.status().message(), kExitFailure);
  if (!args.append_to.empty()) {
    // Never publish a checkpoint that does not extend what was published before.
    const ledger::PublicationRecord* last = latest_of(published, checkpoint->origin);
    if (last) {
      Status extends = tlog_client::check_extends(**source, ledger::checkpoint_of(last->publication), *checkpoint);
      if (!extends) return fail(kCommand, "against the last publication: " + extends.message(), kExitFailure);
    }
    if (!last || last->publication.size != checkpoint->size) {
      Status appended = write_text_file(args.append_to, ledger::format_publication_record(*record), true);
      if (!appended) return fail(kCommand, appended);
    }
  }
  std::printf("%s\n", record->code.c_str());
  return kExitOk;
}

namespace {

// The publication to extend to, with its signed checkpoint note.
Result<ledger::PublicationRecord> choose_publication(const ExtendArgs& args, tlog_client::TileSource& source,
                                                     const note::Checkpoint& from) {
  std::optional<ledger::Publication> code;
  if (!args.publication.empty()) {
    auto parsed = ledger::parse_publication_code(args.publication);
    if (!parsed) return parsed.status();
    code = std::move(*parsed);
  }
  if (args.publications.empty()) {
    // A code alone names a tree but holds no signed note: take the log's current checkpoint if it
    // is the published one.
    auto current = source.read_checkpoint();
    if (!current) return Status::verification(source.describe() + ": " + current.status().message());
    auto record = ledger::make_publication_record(*current, 0);
    if (!record) return Status::verification("the log's checkpoint: " + record.status().message());
    if (record->publication != *code) {
      return Status::verification("the log's current checkpoint (size " + std::to_string(record->publication.size) +
                                  ") is not the published one; give --publications FILE");
    }
    return record;
  }
  auto records = read_publications(args.publications, false);
  if (!records) return records.status();
  for (const auto& r : *records) {
    if (code ? r.publication == *code : (r.publication.origin == from.origin && r.publication.size >= from.size)) {
      return r;
    }
  }
  if (code) return Status::verification("the publication code is not in " + args.publications);
  return Status::verification("no publication in " + args.publications + " covers size " + std::to_string(from.size) +
                              " of " + from.origin + " yet");
}

// The receipt's own claims: with a key, verify_receipt; without, its proof against its own
// checkpoint's root (its signature is then not checked, and the publication decides).
Result<ledger::VerifiedReceipt> check_old_receipt(const std::string& receipt, const std::string& vkey_text) {
  if (!vkey_text.empty()) {
    auto vkey = load_vkey(vkey_text);
    if (!vkey) return vkey.status();
    return ledger::verify_receipt(receipt, *vkey);
  }
  auto proof = note::parse_tlog_proof(receipt);
  if (!proof) return Status::invalid("receipt is not a tlog-proof: " + proof.status().message());
  auto body = note::parse_note(proof->checkpoint);
  if (!body) return Status::invalid("receipt checkpoint: " + body.status().message());
  auto checkpoint = note::parse_checkpoint(body->text);
  if (!checkpoint) return Status::invalid("receipt checkpoint: " + checkpoint.status().message());
  return ledger::verify_receipt_pinned(receipt, *checkpoint);
}

// The receipt re-proven against `target`: consistency from its checkpoint, inclusion at the
// published size, both checked against the publication's root.
Result<std::string> extend_receipt(tlog_client::TileSource& source, const std::string& receipt,
                                   const ledger::VerifiedReceipt& old, const ledger::PublicationRecord& target) {
  const ledger::Publication& p = target.publication;
  MEDSEAL_RETURN_IF_ERROR(tlog_client::check_extends(source, old.checkpoint, ledger::checkpoint_of(p)));
  auto inclusion = tlog_client::inclusion_proof_from_tiles(source, old.index, p.size);
  if (!inclusion) return Status::verification("no inclusion proof at size " + std::to_string(p.size) + ": " + inclusion.status().message());
  auto proof = note::parse_tlog_proof(receipt);
  if (!proof) return proof.status();
  proof->inclusion = std::move(*inclusion);
  proof->checkpoint = target.checkpoint_note;
  std::string extended = note::format_tlog_proof(*proof);
  auto verified = ledger::verify_receipt_pinned(extended, ledger::checkpoint_of(p));
  if (!verified) return Status::verification("the tiles give no valid proof at the published size: " + verified.status().message());
  return extended;
}

}  // namespace

int run_extend(const ExtendArgs& args) {
  constexpr std::string_view kCommand = "extend";
  if (args.publication.empty() && args.publications.empty()) {
    return fail(kCommand, "give --publication CODE or --publications FILE (or both)", kExitUsage);
  }
  auto receipt = read_input_file(args.receipt, kMaxReceiptBytes);
  if (!receipt) return fail(kCommand, receipt.status());
  auto source = open_tile_source(args.url, "");
  if (!source) return fail(kCommand, source.status());
  auto old = check_old_receipt(*receipt, args.vkey);
  if (!old) return fail(kCommand, old.status());
  auto target = choose_publication(args, **source, old->checkpoint);
  if (!target) return fail(kCommand, target.status());
  auto extended = extend_receipt(**source, *receipt, *old, *target);
  if (!extended) return fail(kCommand, extended.status().message(), kExitFailure);
  Status written = write_text_file(args.out, *extended);
  if (!written) return fail(kCommand, written);
  std::printf("extended: entry %llu from checkpoint size %llu to the publication %s\n",
              static_cast<unsigned long long>(old->index), static_cast<unsigned long long>(old->checkpoint.size),
              target->code.c_str());
  return kExitOk;
}

}  // namespace medseal::cli
