#include "witness/cosigned_checkpoint.h"

#include "note/witness_quorum.h"

namespace medseal::witness {

Result<std::string> add_cosignatures(std::string_view log_note,
                                     std::span<const note::NoteSignature> cosignatures) {
  auto parsed = note::parse_note(log_note);
  if (!parsed) return parsed.status();
  if (parsed->signatures.size() + cosignatures.size() > note::kMaxSignatures) {
    return Status::invalid("too many signatures for one note");
  }
  parsed->signatures.insert(parsed->signatures.end(), cosignatures.begin(), cosignatures.end());
  return note::format_note(*parsed);
}

Result<CosignedCheckpoint> open_cosigned(std::string_view cosigned_note,
                                         const note::VerifierKey& log_key,
                                         std::span<const note::VerifierKey> witnesses,
                                         size_t quorum) {
  auto report = note::open_cosigned_checkpoint(cosigned_note, log_key, witnesses);
  if (!report) return Status::verification("cosigned checkpoint: " + report.status().message());
  const size_t count = report->cosigned.size();
  if (count < quorum) {
    return Status::verification("cosigned checkpoint has " + std::to_string(count) +
                                " witness cosignatures, fewer than the quorum of " +
                                std::to_string(quorum));
  }
  return CosignedCheckpoint{std::move(report->checkpoint), std::string(cosigned_note), count};
}

}  // namespace medseal::witness
