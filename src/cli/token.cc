// medseal token issue.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "identity/token_store.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kCommand = "token issue";

Result<identity::Identity> identity_of(const TokenIssueArgs& args) {
  auto role = identity::parse_role(args.role);
  if (!role) return Status::invalid("--role must be admin, clinician, auditor or patient");
  if (*role == identity::Role::kPatient && args.patient.empty()) {
    return Status::invalid("--role patient needs --patient Patient/<id>");
  }
  identity::Identity who{args.name, *role, args.patient};
  MEDSEAL_RETURN_IF_ERROR(identity::check_identity(who));
  return who;
}

}  // namespace

int run_token_issue(const TokenIssueArgs& args) {
  auto who = identity_of(args);
  if (!who) return fail(kCommand, who.status());
  std::error_code ec;
  if (!std::filesystem::is_directory(args.data_dir, ec)) {
    return fail(kCommand, args.data_dir + " is not a data directory", kExitUsage);
  }
  // Not DataDir::open: a running server holds that lock, and the token file has its own.
  auto tokens = identity::TokenStore::open((std::filesystem::path(args.data_dir) / kTokensFile).string());
  if (!tokens) return fail(kCommand, tokens.status());
  auto token = (*tokens)->issue(*who);
  if (!token) return fail(kCommand, token.status());
  std::printf("%s\n", token->c_str());
  return kExitOk;
}

}  // namespace medseal::cli
