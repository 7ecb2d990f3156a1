#include "note/note.h"

#include <algorithm>
#include <cstdio>

#include "crypto/base64.h"
#include "note/cosignature.h"
#include "note/text.h"

namespace medseal::note {
namespace {

constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // em dash U+2014, space

std::string key_label(std::string_view name, uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return std::string(name) + "+" + buf;
}

uint32_t get_be32(std::string_view s) {
  auto b = [&](size_t i) { return uint32_t{static_cast<uint8_t>(s[i])}; };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::string put_be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Checks one known key's signature over `text`; the cosignature timestamp, or 0 for Ed25519.
Result<uint64_t> verify_known(std::string_view text, const VerifierKey& key,
                              const NoteSignature& sig) {
  if (key.type == KeyType::kCosignatureV1) return verify_cosignature(text, key, sig);
  crypto::Ed25519Signature s;
  if (sig.signature.size() != s.size()) return Status::verification("wrong signature length");
  std::copy(sig.signature.begin(), sig.signature.end(), reinterpret_cast<char*>(s.data()));
  if (!crypto::ed25519_verify(key.public_key, text, s)) {
    return Status::verification("bad signature");
  }
  return uint64_t{0};
}

const VerifierKey* find_key(std::span<const VerifierKey> known, const NoteSignature& sig) {
  for (const auto& k : known) {
    if (k.name == sig.name && k.id == sig.id) return &k;
  }
  return nullptr;
}

// Two different keys under one (name, id) make the lookup ambiguous; a caller's configuration
// error, not something to resolve by guessing.
Status check_known(std::span<const VerifierKey> known) {
  for (size_t i = 0; i < known.size(); ++i) {
    for (size_t j = i + 1; j < known.size(); ++j) {
      const auto& a = known[i];
      const auto& b = known[j];
      if (a.name == b.name && a.id == b.id && (a.type != b.type || a.public_key != b.public_key)) {
        return Status::invalid("note: two known keys share the name and id " +
                               key_label(a.name, a.id));
      }
    }
  }
  return Status::ok();
}

}  // namespace

Result<NoteSignature> parse_signature_line(std::string_view line) {
  if (!line.starts_with(kSigPrefix)) {
    return Status::invalid("note: signature line does not start with an em dash and a space");
  }
  line.remove_prefix(kSigPrefix.size());
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return Status::invalid("note: signature line has no space");
  std::string_view name = line.substr(0, space);
  if (!valid_key_name(name)) return Status::invalid("note: invalid key name in signature line");
  auto raw = crypto::base64_decode(line.substr(space + 1));
  if (!raw) return Status::invalid("note: signature is not canonical base64");
  // At least one byte after the key id: no signature algorithm produces an empty signature.
  if (raw->size() < 5) return Status::invalid("note: signature shorter than a key id");
  return NoteSignature{std::string(name), get_be32(*raw), raw->substr(4)};
}

std::string format_signature_line(const NoteSignature& sig) {
  return std::string(kSigPrefix) + sig.name + " " +
         crypto::base64_encode(put_be32(sig.id) + sig.signature);
}

Status check_note_text(std::string_view text) {
  if (text.size() > kMaxNoteSize) {
    return Status::invalid("note: text larger than " + std::to_string(kMaxNoteSize) + " bytes");
  }
  if (text.empty() || text.back() != '\n') {
    return Status::invalid("note: text does not end in a newline");
  }
  size_t bad_at;
  if (!text::clean_utf8(text, &bad_at)) {
    return Status::invalid("note: invalid UTF-8 or control character at byte " +
                           std::to_string(bad_at));
  }
  return Status::ok();
}

Result<Note> parse_note(std::string_view message) {
  if (message.size() > kMaxNoteSize) {
    return Status::invalid("note: larger than " + std::to_string(kMaxNoteSize) + " bytes");
  }
  size_t bad_at;
  if (!text::clean_utf8(message, &bad_at)) {
    return Status::invalid("note: invalid UTF-8 or control character at byte " +
                           std::to_string(bad_at));
  }
  // Signature lines are never empty, so the last blank line is the separator.
  size_t split = message.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::invalid("note: no blank line before the signatures");
  }
  std::string_view sigs = message.substr(split + 2);
  if (sigs.empty()) return Status::invalid("note: no signatures");
  if (sigs.back() != '\n') return Status::invalid("note: does not end in a newline");
  Note note{std::string(message.substr(0, split + 1)), {}};
  while (auto cut = text::next_line(sigs)) {
    if (note.signatures.size() == kMaxSignatures) {
      return Status::invalid("note: more than " + std::to_string(kMaxSignatures) + " signatures");
    }
    auto sig = parse_signature_line(cut->line);
    MEDSEAL_RETURN_IF_ERROR(sig);
    note.signatures.push_back(std::move(sig).value());
    sigs = cut->rest;
  }
  return note;
}

std::string format_note(const Note& note) {
  std::string out = note.text;
  out.push_back('\n');
  for (const auto& sig : note.signatures) {
    out += format_signature_line(sig);
    out.push_back('\n');
  }
  return out;
}

Result<NoteSignature> sign_text(std::string_view text, const SignerKey& signer) {
  if (signer.type != KeyType::kEd25519) {
    return Status::invalid(
        "note: only Ed25519 (type 1) keys sign notes; cosign checkpoints instead");
  }
  if (!valid_key_name(signer.name)) return Status::invalid("note: invalid signer key name");
  MEDSEAL_RETURN_IF_ERROR(check_note_text(text));
  auto sig = crypto::ed25519_sign(signer.seed, text);
  return NoteSignature{signer.name, signer.id,
                       std::string(reinterpret_cast<const char*>(sig.data()), sig.size())};
}

Result<std::string> sign_note(std::string_view text, std::span<const SignerKey> signers) {
  if (signers.empty()) return Status::invalid("note: no signers");
  if (signers.size() > kMaxSignatures) {
    return Status::invalid("note: more than " + std::to_string(kMaxSignatures) + " signers");
  }
  Note note{std::string(text), {}};
  for (const auto& signer : signers) {
    auto sig = sign_text(text, signer);
    MEDSEAL_RETURN_IF_ERROR(sig);
    note.signatures.push_back(std::move(sig).value());
  }
  std::string out = format_note(note);
  // Never produce a note that open_note would refuse.
  if (out.size() > kMaxNoteSize) {
    return Status::invalid("note: signed note larger than " + std::to_string(kMaxNoteSize) +
                           " bytes");
  }
  return out;
}

Result<OpenedNote> open_note(std::string_view message, std::span<const VerifierKey> known) {
  MEDSEAL_RETURN_IF_ERROR(check_known(known));
  auto note = parse_note(message);
  MEDSEAL_RETURN_IF_ERROR(note);
  OpenedNote opened{std::move(note->text), {}, {}};
  for (auto& sig : note->signatures) {
    const VerifierKey* key = find_key(known, sig);
    if (key == nullptr) {
      // Unknown keys are ignored (the spec says MUST), but kept for callers that count them;
      // an identical repeated line is kept once.
      auto same = [&](const NoteSignature& u) {
        return u.name == sig.name && u.id == sig.id && u.signature == sig.signature;
      };
      if (std::none_of(opened.unknown.begin(), opened.unknown.end(), same)) {
        opened.unknown.push_back(std::move(sig));
      }
      continue;
    }
    // Every signature by a known key is checked, repeated ones too: one bad signature from a
    // trusted key means someone is tampering, and the whole note is refused.
    auto ts = verify_known(opened.text, *key, sig);
    if (!ts) {
      return Status::verification("note: invalid signature by " + key_label(key->name, key->id) +
                                  ": " + ts.status().message());
    }
    // A key counts once, so a k-of-n policy cannot be met by repeating one signature.
    auto same_key = [&](const VerifiedSignature& v) {
      return v.key.name == key->name && v.key.id == key->id;
    };
    if (std::none_of(opened.verified.begin(), opened.verified.end(), same_key)) {
      opened.verified.push_back(VerifiedSignature{*key, *ts});
    }
  }
  if (opened.verified.empty()) return Status::verification("note: no signature by a known key");
  return opened;
}

}  // namespace medseal::note
