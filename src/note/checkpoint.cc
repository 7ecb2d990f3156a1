#include "note/checkpoint.h"

#include "crypto/base64.h"
#include "note/note.h"
#include "note/text.h"

namespace medseal::note {
namespace {

// The body must be something a note could carry, or it could never be signed or opened.
Status check_body(std::string_view text) {
  if (text.size() > kMaxNoteSize) return Status::invalid("checkpoint: larger than a note may be");
  if (text.empty() || text.back() != '\n') {
    return Status::invalid("checkpoint: does not end in a newline");
  }
  size_t bad_at;
  if (!text::clean_utf8(text, &bad_at)) {
    return Status::invalid("checkpoint: invalid UTF-8 or control character at byte " +
                           std::to_string(bad_at));
  }
  return Status::ok();
}

}  // namespace

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  MEDSEAL_RETURN_IF_ERROR(check_body(text));
  auto origin = text::next_line(text);
  auto size = origin ? text::next_line(origin->rest) : std::nullopt;
  auto root = size ? text::next_line(size->rest) : std::nullopt;
  if (!root) return Status::invalid("checkpoint: want origin, size and root hash lines");
  Checkpoint cp;
  if (origin->line.empty()) return Status::invalid("checkpoint: empty origin line");
  cp.origin = std::string(origin->line);
  auto n = text::parse_decimal(size->line);
  if (!n) return Status::invalid("checkpoint: size is not a decimal without sign or leading zero");
  cp.size = *n;
  auto raw = crypto::base64_decode(root->line);
  auto hash = raw ? hash_from(*raw) : std::nullopt;
  if (!hash) return Status::invalid("checkpoint: root hash is not 32 bytes of canonical base64");
  cp.root = *hash;
  for (auto rest = root->rest; !rest.empty();) {
    auto ext = text::next_line(rest);  // found: the text ends in '\n'
    if (ext->line.empty()) return Status::invalid("checkpoint: empty extension line");
    cp.extensions.emplace_back(ext->line);
    rest = ext->rest;
  }
  return cp;
}

std::string format_checkpoint(const Checkpoint& checkpoint) {
  std::string out = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                    crypto::base64_encode(as_view(checkpoint.root)) + "\n";
  for (const auto& ext : checkpoint.extensions) out += ext + "\n";
  return out;
}

}  // namespace medseal::note
