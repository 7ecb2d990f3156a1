#include "witness/witness.h"

#include <span>
#include <utility>

#include "crypto/base64.h"
#include "merkle/hash.h"
#include "merkle/proof.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "note/text.h"

namespace medseal::witness {
namespace {

constexpr std::string_view kOldPrefix = "old ";

Reply text_reply(int status, std::string message) {
  return Reply{status, std::string(kTextContentType), std::move(message) + "\n"};
}

Result<Hash> parse_proof_line(std::string_view line, size_t index) {
  auto bytes = crypto::base64_decode(line);
  std::optional<Hash> hash;
  if (bytes) hash = hash_from(*bytes);
  if (!hash) return Status::invalid("proof line " + std::to_string(index) + " is not a base64 hash");
  return *hash;
}

// 422 unless the proof shows that the checkpoint extends the stored state (none when old is 0).
// 409 for the one case the spec calls a conflict: the same size with another root.
std::optional<Reply> check_consistency(const AddCheckpointRequest& request,
                                       const note::Checkpoint& cp,
                                       const std::optional<LogState>& stored) {
  const uint64_t old = request.old_size;
  if (old == cp.size) {
    if (!request.proof.empty()) return text_reply(422, "a proof between equal sizes must be empty");
    if (stored && stored->root != cp.root) return conflict_reply(stored->size);
    if (cp.size == 0 && cp.root != merkle::empty_root()) {
      return text_reply(422, "a checkpoint of size 0 must have the empty tree's root");
    }
    return std::nullopt;
  }
  if (old == 0) {
    if (!request.proof.empty()) return text_reply(422, "the proof must be empty when old is 0");
    return std::nullopt;
  }
  // old > 0 equals the stored size, so a state is stored.
  Status ok = merkle::verify_consistency(old, cp.size, request.proof, stored->root, cp.root);
  if (!ok) return text_reply(422, "the consistency proof does not verify");
  return std::nullopt;
}

}  // namespace

Reply conflict_reply(uint64_t size) {
  return Reply{409, std::string(kTlogSizeContentType), std::to_string(size) + "\n"};
}

Result<AddCheckpointRequest> parse_add_checkpoint(std::string_view body) {
  if (body.size() > kMaxRequestBytes) return Status::invalid("the request body is too large");
  auto first = note::text::next_line(body);
  if (!first || !first->line.starts_with(kOldPrefix)) {
    return Status::invalid("the body must start with an \"old <size>\" line");
  }
  auto old = note::text::parse_decimal(first->line.substr(kOldPrefix.size()));
  if (!old) return Status::invalid("the old size is not a decimal without leading zeros");
  AddCheckpointRequest request{*old, {}, {}};
  std::string_view rest = first->rest;
  for (;;) {
    auto next = note::text::next_line(rest);
    if (!next) return Status::invalid("the body has no empty line before the checkpoint");
    rest = next->rest;
    if (next->line.empty()) break;
    if (request.proof.size() == kMaxProofLines) {
      return Status::invalid("more than " + std::to_string(kMaxProofLines) + " proof lines");
    }
    auto hash = parse_proof_line(next->line, request.proof.size() + 1);
    if (!hash) return hash.status();
    request.proof.push_back(*hash);
  }
  if (rest.empty()) return Status::invalid("the body has no checkpoint");
  request.checkpoint_note = std::string(rest);
  return request;
}

Status Witness::check_log_keys(const std::vector<note::VerifierKey>& logs) {
  if (logs.empty()) return Status::invalid("a witness needs at least one log key");
  for (const note::VerifierKey& log : logs) {
    if (log.type != note::KeyType::kEd25519) {
      return Status::invalid("log key " + log.name + " is not an Ed25519 (type 0x01) key");
    }
  }
  return Status::ok();
}

Result<Witness> Witness::create(note::SignerKey key, const std::vector<note::VerifierKey>& logs,
                                WitnessStore& store, const Clock& clock) {
  if (key.type != note::KeyType::kCosignatureV1) {
    return Status::invalid("the witness key must be a cosignature (type 0x04) key");
  }
  MEDSEAL_RETURN_IF_ERROR(check_log_keys(logs));
  std::map<std::string, std::vector<note::VerifierKey>, std::less<>> by_origin;
  for (const note::VerifierKey& log : logs) {
    auto& keys = by_origin[log.name];
    bool duplicate = false;
    for (const auto& k : keys) duplicate = duplicate || (k.id == log.id && k.public_key == log.public_key);
    if (!duplicate) keys.push_back(log);
  }
  return Witness(std::move(key), std::move(by_origin), store, clock);
}

Reply Witness::add_checkpoint(std::string_view body) const {
  auto request = parse_add_checkpoint(body);
  if (!request) return text_reply(400, request.status().message());
  return check_and_cosign(*request);
}

Reply Witness::check_and_cosign(const AddCheckpointRequest& request) const {
  auto parsed = note::parse_note(request.checkpoint_note);
  if (!parsed) return text_reply(400, "the checkpoint is not a signed note");
  auto cp = note::parse_checkpoint(parsed->text);
  if (!cp) return text_reply(400, "the note is not a checkpoint");
  auto log = logs_.find(cp->origin);
  if (log == logs_.end()) return text_reply(404, "unknown log origin");
  auto opened = note::open_note(request.checkpoint_note, log->second);
  if (!opened) return text_reply(403, "no valid signature by a trusted key of the log");
  if (request.old_size > cp->size) return text_reply(400, "old size is larger than the checkpoint size");

  auto stored = store_->latest(cp->origin);
  if (!stored) return text_reply(500, "witness store: " + stored.status().message());
  const uint64_t current = *stored ? (*stored)->size : 0;
  if (request.old_size != current) return conflict_reply(current);
  if (auto refused = check_consistency(request, *cp, *stored)) return std::move(*refused);
  return store_and_cosign(request, parsed->text, cp->origin, LogState{cp->size, cp->root});
}

Reply Witness::store_and_cosign(const AddCheckpointRequest& request,
                                std::string_view checkpoint_text, const std::string& origin,
                                const LogState& next) const {
  auto outcome = store_->compare_and_set(origin, request.old_size, next, request.checkpoint_note);
  if (!outcome) return text_reply(500, "witness store: " + outcome.status().message());
  // Another request moved the log on between our read and our write: as if it came first.
  if (!outcome->stored) return conflict_reply(outcome->current ? outcome->current->size : 0);
  auto sig = note::cosign(checkpoint_text, key_, clock_->now_ms() / 1000);
  if (!sig) return text_reply(500, "cosign: " + sig.status().message());
  return Reply{200, std::string(kTextContentType), note::format_signature_line(*sig) + "\n"};
}

}  // namespace medseal::witness
