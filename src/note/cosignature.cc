#include "note/cosignature.h"

#include <algorithm>
#include <cstdint>

#include "note/checkpoint.h"

namespace medseal::note {
namespace {

constexpr uint64_t kMaxTimestamp = INT64_MAX;  // tlog-cosignature: MUST NOT exceed 2^63 - 1
constexpr size_t kTimestampedSize = 8 + 64;    // struct timestamped_signature

// A v1 cosignature is a statement about a checkpoint; over any other text it means nothing.
Status check_checkpoint(std::string_view checkpoint_text) {
  auto cp = parse_checkpoint(checkpoint_text);
  if (!cp) return Status::invalid("cosignature: " + cp.status().message());
  return Status::ok();
}

}  // namespace

std::string cosignature_message(std::string_view checkpoint_text, uint64_t timestamp) {
  std::string msg = "cosignature/v1\ntime " + std::to_string(timestamp) + "\n";
  msg += checkpoint_text;
  return msg;
}

Result<NoteSignature> cosign(std::string_view checkpoint_text, const SignerKey& witness,
                             uint64_t timestamp) {
  if (witness.type != KeyType::kCosignatureV1) {
    return Status::invalid("cosignature: the witness key is not a cosignature (type 4) key");
  }
  if (!valid_key_name(witness.name)) return Status::invalid("cosignature: invalid witness name");
  if (timestamp > kMaxTimestamp) return Status::invalid("cosignature: timestamp above 2^63-1");
  MEDSEAL_RETURN_IF_ERROR(check_checkpoint(checkpoint_text));
  auto sig = crypto::ed25519_sign(witness.seed, cosignature_message(checkpoint_text, timestamp));
  std::string bytes(kTimestampedSize, '\0');
  put_be64(reinterpret_cast<uint8_t*>(bytes.data()), timestamp);
  std::copy(sig.begin(), sig.end(), bytes.begin() + 8);
  return NoteSignature{witness.name, witness.id, std::move(bytes)};
}

Result<uint64_t> verify_cosignature(std::string_view checkpoint_text, const VerifierKey& witness,
                                    const NoteSignature& sig) {
  if (witness.type != KeyType::kCosignatureV1) {
    return Status::invalid("cosignature: the witness key is not a cosignature (type 4) key");
  }
  if (sig.name != witness.name || sig.id != witness.id) {
    return Status::invalid("cosignature: the signature is not by this witness key");
  }
  MEDSEAL_RETURN_IF_ERROR(check_checkpoint(checkpoint_text));
  if (sig.signature.size() != kTimestampedSize) {
    return Status::verification("cosignature: not 72 bytes (timestamp and Ed25519 signature)");
  }
  const auto* raw = reinterpret_cast<const uint8_t*>(sig.signature.data());
  uint64_t timestamp = get_be64(raw);
  if (timestamp > kMaxTimestamp) return Status::verification("cosignature: timestamp above 2^63-1");
  crypto::Ed25519Signature s;
  std::copy(raw + 8, raw + kTimestampedSize, s.begin());
  std::string message = cosignature_message(checkpoint_text, timestamp);
  if (!crypto::ed25519_verify(witness.public_key, message, s)) {
    return Status::verification("cosignature: bad signature");
  }
  return timestamp;
}

}  // namespace medseal::note
