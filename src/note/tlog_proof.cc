#include "note/tlog_proof.h"

#include "crypto/base64.h"
#include "note/checkpoint.h"
#include "note/note.h"
#include "note/text.h"

namespace medseal::note {
namespace {

constexpr std::string_view kHeader = "c2sp.org/tlog-proof@v1";
constexpr std::string_view kExtra = "extra ";
constexpr std::string_view kIndex = "index ";

Status bad(std::string_view why) { return Status::invalid("tlog-proof: " + std::string(why)); }

// The trailing checkpoint must be a well-formed note carrying a well-formed checkpoint; who signed
// it is the verifier's business, with its own keys and policy.
Status check_checkpoint_note(std::string_view signed_note) {
  auto note = parse_note(signed_note);
  if (!note) return bad(note.status().message());
  auto cp = parse_checkpoint(note->text);
  if (!cp) return bad(cp.status().message());
  return Status::ok();
}

}  // namespace

Result<TlogProof> parse_tlog_proof(std::string_view text) {
  auto line = text::next_line(text);
  if (!line || line->line != kHeader) return bad("first line is not c2sp.org/tlog-proof@v1");
  TlogProof proof;
  line = text::next_line(line->rest);
  if (line && line->line.starts_with(kExtra)) {
    auto extra = crypto::base64_decode(line->line.substr(kExtra.size()));
    if (!extra) return bad("extra is not canonical base64");
    // Absent extra data means no extra line, so an empty one would be a second spelling.
    if (extra->empty()) return bad("empty extra line");
    proof.extra = std::move(extra);
    line = text::next_line(line->rest);
  }
  if (!line || !line->line.starts_with(kIndex)) return bad("want an index line");
  auto index = text::parse_decimal(line->line.substr(kIndex.size()));
  if (!index) return bad("index is not a decimal without sign or leading zero");
  proof.index = *index;
  while (true) {
    line = text::next_line(line->rest);
    if (!line) return bad("no blank line before the checkpoint");
    if (line->line.empty()) break;
    if (proof.inclusion.size() == kMaxProofHashes) {
      return bad("more than " + std::to_string(kMaxProofHashes) + " inclusion proof hashes");
    }
    auto raw = crypto::base64_decode(line->line);
    auto hash = raw ? hash_from(*raw) : std::nullopt;
    if (!hash) return bad("inclusion proof hash is not 32 bytes of canonical base64");
    proof.inclusion.push_back(*hash);
  }
  MEDSEAL_RETURN_IF_ERROR(check_checkpoint_note(line->rest));
  proof.checkpoint = std::string(line->rest);
  return proof;
}

std::string format_tlog_proof(const TlogProof& proof) {
  std::string out(kHeader);
  out.push_back('\n');
  if (proof.extra) out += std::string(kExtra) + crypto::base64_encode(*proof.extra) + "\n";
  out += std::string(kIndex) + std::to_string(proof.index) + "\n";
  for (const auto& h : proof.inclusion) out += crypto::base64_encode(as_view(h)) + "\n";
  out.push_back('\n');
  out += proof.checkpoint;
  return out;
}

}  // namespace medseal::note
