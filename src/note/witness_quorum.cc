#include "note/witness_quorum.h"

#include <algorithm>
#include <string>

namespace medseal::note {
namespace {

bool same_key_id(const VerifierKey& a, const VerifierKey& b) { return a.name == b.name && a.id == b.id; }

Status check_policy(const VerifierKey& log_key, std::span<const VerifierKey> witnesses, size_t quorum) {
  if (quorum == 0 || quorum > witnesses.size()) {
    return Status::invalid("the quorum must be 1.." + std::to_string(witnesses.size()) + " (witnesses given), not " +
                           std::to_string(quorum));
  }
  for (size_t i = 0; i < witnesses.size(); ++i) {
    if (same_key_id(witnesses[i], log_key)) return Status::invalid("witness " + witnesses[i].name + " is the log's key");
    for (size_t j = 0; j < i; ++j) {
      if (same_key_id(witnesses[i], witnesses[j])) {
        return Status::invalid("witness " + witnesses[i].name + " is given twice");
      }
    }
  }
  return Status::ok();
}

std::string names(const std::vector<VerifiedSignature>& sigs) {
  std::string out;
  for (const VerifiedSignature& s : sigs) out += (out.empty() ? "" : ", ") + s.key.name;
  return out.empty() ? "none" : out;
}

}  // namespace

Result<QuorumReport> open_cosigned_checkpoint(std::string_view checkpoint_note, const VerifierKey& log_key,
                                              std::span<const VerifierKey> witnesses) {
  std::vector<VerifierKey> known{log_key};
  known.insert(known.end(), witnesses.begin(), witnesses.end());
  auto opened = open_note(checkpoint_note, known);
  if (!opened) return Status::verification("checkpoint signatures: " + opened.status().message());
  auto by_log = [&](const VerifiedSignature& s) { return same_key_id(s.key, log_key); };
  if (std::none_of(opened->verified.begin(), opened->verified.end(), by_log)) {
    return Status::verification("checkpoint is not signed by the log key " + log_key.name);
  }
  auto checkpoint = parse_checkpoint(opened->text);
  if (!checkpoint) return Status::verification("checkpoint: " + checkpoint.status().message());
  if (checkpoint->origin != log_key.name) {
    return Status::verification("checkpoint origin " + checkpoint->origin + " is not the log key's name " + log_key.name);
  }
  QuorumReport report{std::move(*checkpoint), {}};
  for (VerifiedSignature& s : opened->verified) {
    if (!by_log(s)) report.cosigned.push_back(std::move(s));
  }
  return report;
}

Result<QuorumReport> check_witness_quorum(std::string_view checkpoint_note, const VerifierKey& log_key,
                                          std::span<const VerifierKey> witnesses, size_t quorum) {
  MEDSEAL_RETURN_IF_ERROR(check_policy(log_key, witnesses, quorum));
  auto report = open_cosigned_checkpoint(checkpoint_note, log_key, witnesses);
  if (!report) return report.status();
  if (report->cosigned.size() < quorum) {
    return Status::verification(std::to_string(report->cosigned.size()) + " of " + std::to_string(witnesses.size()) +
                                " witnesses cosigned, the quorum is " + std::to_string(quorum) +
                                " (cosigned: " + names(report->cosigned) + ")");
  }
  return report;
}

}  // namespace medseal::note
