// medseal verify: a receipt checked offline, and optionally the resource it is about.
#include <cstdio>
#include <fstream>
#include <optional>

#include "cli/commands.h"
#include "cli/common.h"
#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "ledger/receipt.h"
#include "records/statement.h"

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

void print_verified(const ledger::VerifiedReceipt& r, const std::optional<records::Statement>& statement) {
  std::printf("verified: entry %llu (%s), checkpoint size %llu of %s, root %s",
              static_cast<unsigned long long>(r.index), std::string(kind_name(r.entry.kind)).c_str(),
              static_cast<unsigned long long>(r.checkpoint.size), r.checkpoint.origin.c_str(),
              crypto::base64_encode(as_view(r.checkpoint.root)).c_str());
  if (statement) {
    std::string resource = statement->resources.empty() ? "" : " " + statement->resources.front();
    std::printf("; the resource is the one written (%s%s)", statement->op.c_str(), resource.c_str());
  }
  std::printf("; witness cosignatures not checked\n");
}

}  // namespace

int run_verify(const VerifyArgs& args) {
  auto vkey = load_vkey(args.vkey);
  if (!vkey) return fail(kCommand, vkey.status().message(), kExitUsage);
  auto receipt = read_input_file(args.receipt, kMaxReceiptBytes);
  if (!receipt) return fail(kCommand, receipt.status().message(), kExitUsage);
  std::optional<Hash> resource;
  if (!args.resource.empty()) {
    auto hash = hash_file(args.resource);
    if (!hash) return fail(kCommand, hash.status().message(), kExitUsage);
    resource = *hash;
  }
  // From here on every problem is the receipt's (or the resource's): it does not verify.
  auto verified = ledger::verify_receipt(*receipt, *vkey);
  if (!verified) return fail(kCommand, verified.status().message(), kExitFailure);
  std::optional<records::Statement> statement;
  if (resource) {
    auto checked = check_resource(*verified, *resource);
    if (!checked) return fail(kCommand, checked.status().message(), kExitFailure);
    statement = std::move(*checked);
  }
  print_verified(*verified, statement);
  return kExitOk;
}

}  // namespace medseal::cli
