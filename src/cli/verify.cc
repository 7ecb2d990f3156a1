// medseal verify: a receipt checked offline against the log key and a witness quorum, or against a
// publication code with no key; and optionally the resource it is about. The other modes
// (consistency, the whole log) are dispatched from here.
#include <cstdio>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "ledger/publication.h"
#include "ledger/receipt.h"
#include "note/witness_quorum.h"
#include "records/statement.h"
#include "util/time_format.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kCommand = "verify";
// A receipt is a proof, a checkpoint and one statement; a statement lists at most a page of
// resources, so this is far above any real receipt.
constexpr size_t kMaxReceiptBytes = 32 << 20;

std::string_view kind_name(ledger::EntryKind kind) {
  switch (kind) {
    case ledger::EntryKind::kRecordVersion: return "record version";
    case ledger::EntryKind::kAccess: return "access";
    case ledger::EntryKind::kAccessDenied: return "access denied";
    case ledger::EntryKind::kSystem: return "system";
  }
  return "unknown";
}

// SHA-256 of the file's exact bytes, read in pieces (a resource may be large).
Result<Hash> hash_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid("cannot read " + path);
  crypto::Sha256 hasher;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    hasher.update(std::string_view(buf, static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return Status::invalid("cannot read " + path);
  return hasher.finish();
}

// The statement of a verified record-version entry, checked against the resource's hash.
Result<records::Statement> check_resource(const ledger::VerifiedReceipt& receipt, const Hash& resource) {
  const std::string index = std::to_string(receipt.index);
  if (receipt.entry.kind != ledger::EntryKind::kRecordVersion) {
    return Status::verification("entry " + index + " is not a record version, so no resource belongs to it");
  }
  auto statement = records::parse_statement(receipt.statement);
  if (!statement) return Status::verification("the receipt's statement does not parse: " + statement.status().message());
  if ((statement->op != "create" && statement->op != "update") || statement->sha256.empty()) {
    return Status::verification("the statement of entry " + index + " records no resource bytes (op " +
                                statement->op + ")");
  }
  if (statement->time_ms != receipt.entry.time_ms) {
    return Status::verification("the statement's time is not the entry's");
  }
  if (statement->sha256 != hex_encode(resource)) {
    return Status::verification("the resource's SHA-256 does not match the statement");
  }
  return statement;
}

// How the receipt's checkpoint was trusted, for the end of the "verified" line.
struct Trust {
  std::string how;
};

std::string describe_cosigners(const note::QuorumReport& report, size_t given, size_t quorum) {
  std::string text = "cosigned by " + std::to_string(report.cosigned.size()) + " of " + std::to_string(given) +
                     " witnesses (quorum " + std::to_string(quorum) + "):";
  for (const note::VerifiedSignature& s : report.cosigned) {
    text += " " + s.key.name;
    if (s.key.type == note::KeyType::kCosignatureV1) text += " at " + format_instant(s.timestamp * 1000);
    text += ",";
  }
  text.pop_back();
  return text;
}

void print_verified(const ledger::VerifiedReceipt& r, const std::optional<records::Statement>& statement,
                    const Trust& trust) {
  std::printf("verified: entry %llu (%s), checkpoint size %llu of %s, root %s",
              static_cast<unsigned long long>(r.index), std::string(kind_name(r.entry.kind)).c_str(),
              static_cast<unsigned long long>(r.checkpoint.size), r.checkpoint.origin.c_str(),
              crypto::base64_encode(as_view(r.checkpoint.root)).c_str());
  if (statement) {
    std::string resource = statement->resources.empty() ? "" : " " + statement->resources.front();
    std::printf("; the resource is the one written (%s%s)", statement->op.c_str(), resource.c_str());
  }
  std::printf("; %s\n", trust.how.c_str());
}

// What the receipt is verified against: a publication, or the log key and a witness quorum.
struct Policy {
  std::optional<ledger::Publication> publication;
  note::VerifierKey vkey;
  std::vector<note::VerifierKey> witnesses;
  size_t quorum = 0;
};

Result<Policy> load_policy(const VerifyArgs& args) {
  Policy policy;
  if (!args.publication.empty()) {
    auto publication = ledger::parse_publication_code(args.publication);
    if (!publication) return publication.status();
    policy.publication = std::move(*publication);
    return policy;
  }
  auto vkey = load_vkey(args.vkey);
  if (!vkey) return vkey.status();
  auto witnesses = load_vkeys(args.witnesses);
  if (!witnesses) return witnesses.status();
  policy.vkey = std::move(*vkey);
  policy.witnesses = std::move(*witnesses);
  policy.quorum = args.quorum == 0 ? policy.witnesses.size() : args.quorum;
  return policy;
}

// The receipt verified under `policy`, and how its checkpoint was trusted. Every error is the
// receipt's (kExitFailure) except kInvalidArgument from the witness policy itself.
Result<std::pair<ledger::VerifiedReceipt, Trust>> verify_under(const std::string& receipt, const Policy& policy,
                                                               bool* policy_error) {
  if (policy.publication) {
    auto verified = ledger::verify_receipt_pinned(receipt, ledger::checkpoint_of(*policy.publication));
    if (!verified) return verified.status();
    return std::pair{std::move(*verified),
                     Trust{"matches the publication; no signature was checked, the publication pins the root"}};
  }
  auto verified = ledger::verify_receipt(receipt, policy.vkey);
  if (!verified) return verified.status();
  if (policy.witnesses.empty()) return std::pair{std::move(*verified), Trust{"witness cosignatures not checked"}};
  auto report = note::check_witness_quorum(verified->checkpoint_note, policy.vkey, policy.witnesses, policy.quorum);
  if (!report) {
    *policy_error = report.status().code() == Code::kInvalidArgument;
    return report.status();
  }
  return std::pair{std::move(*verified),
                   Trust{describe_cosigners(*report, policy.witnesses.size(), policy.quorum)}};
}

Status check_receipt_args(const VerifyArgs& args) {
  if (!args.old_checkpoint.empty() || !args.new_checkpoint.empty() || !args.url.empty() || !args.dir.empty()) {
    return Status::invalid("--receipt takes no --old, --new, --url or --dir");
  }
  if (!args.publication.empty()) {
    if (!args.vkey.empty() || !args.witnesses.empty()) {
      return Status::invalid("--publication verifies with no key: give no --vkey or --witness with it");
    }
    return Status::ok();
  }
  if (args.vkey.empty()) return Status::invalid("--receipt needs --vkey (or --publication)");
  if (args.quorum > args.witnesses.size()) {
    return Status::invalid("--quorum " + std::to_string(args.quorum) + " exceeds the " +
                           std::to_string(args.witnesses.size()) + " witness keys given");
  }
  return Status::ok();
}

int verify_receipt_file(const VerifyArgs& args) {
  Status usage = check_receipt_args(args);
  if (!usage) return fail(kCommand, usage.message(), kExitUsage);
  auto receipt = read_input_file(args.receipt, kMaxReceiptBytes);
  if (!receipt) return fail(kCommand, receipt.status().message(), kExitUsage);
  std::optional<Hash> resource;
  if (!args.resource.empty()) {
    auto hash = hash_file(args.resource);
    if (!hash) return fail(kCommand, hash.status().message(), kExitUsage);
    resource = *hash;
  }
  auto policy = load_policy(args);
  if (!policy) return fail(kCommand, policy.status().message(), kExitUsage);
  bool policy_error = false;
  auto verified = verify_under(*receipt, *policy, &policy_error);
  if (!verified) return fail(kCommand, verified.status().message(), policy_error ? kExitUsage : kExitFailure);
  std::optional<records::Statement> statement;
  if (resource) {
    auto checked = check_resource(verified->first, *resource);
    if (!checked) return fail(kCommand, checked.status().message(), kExitFailure);
    statement = std::move(*checked);
  }
  print_verified(verified->first, statement, verified->second);
  return kExitOk;
}

}  // namespace

int run_verify(const VerifyArgs& args) {
  if (!args.receipt.empty()) return verify_receipt_file(args);
  if (!args.resource.empty() || !args.publication.empty()) {
    return fail(kCommand, "--resource and --publication need --receipt", kExitUsage);
  }
  if (!args.old_checkpoint.empty()) return run_verify_consistency(args);
  if (!args.new_checkpoint.empty()) return fail(kCommand, "--new needs --old", kExitUsage);
  if (args.url.empty() && args.dir.empty()) {
    return fail(kCommand, "give --receipt, --old, or --url/--dir for the whole log", kExitUsage);
  }
  if (!args.witnesses.empty()) return fail(kCommand, "the whole-log audit takes no --witness", kExitUsage);
  // The whole log from its tiles: exactly `medseal log verify`.
  return run_log_verify(LogVerifyArgs{args.url, args.dir, "", args.vkey, "", ""});
}

}  // namespace medseal::cli
