// medseal token issue|revoke.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "cli/identity_flags.h"
#include "identity/token_store.h"
#include "util/clock.h"

namespace medseal::cli {
namespace {

// Not DataDir::open: a running server holds that lock, and the token file has its own.
Result<std::unique_ptr<identity::TokenStore>> open_tokens(const std::string& data_dir) {
  auto path = data_file(data_dir, kTokensFile);
  if (!path) return path.status();
  return identity::TokenStore::open(*path);
}

}  // namespace

bool parse_duration_ms(const std::string& text, uint64_t* ms) {
  if (text == "never") {
    *ms = 0;
    return true;
  }
  if (text.size() < 2 || text.size() > 8) return false;
  uint64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60'000; break;
    case 'h': unit = 3'600'000; break;
    case 'd': unit = 86'400'000; break;
    default: return false;
  }
  uint64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0) return false;
  *ms = value * unit;
  return true;
}

int run_token_issue(const TokenIssueArgs& args) {
  constexpr std::string_view kCommand = "token issue";
  auto who = identity_from_flags(args.role, args.name, args.patient);
  if (!who) return fail(kCommand, who.status());
  uint64_t lifetime_ms = 0;
  if (!parse_duration_ms(args.expires_in, &lifetime_ms)) {
    return fail(kCommand, "--expires-in must be N followed by s, m, h or d (N >= 1), or never", kExitUsage);
  }
  const uint64_t expires = lifetime_ms == 0 ? identity::kNeverExpires : system_clock().now_ms() + lifetime_ms;
  auto tokens = open_tokens(args.data_dir);
  if (!tokens) return fail(kCommand, tokens.status());
  auto token = (*tokens)->issue(*who, expires);
  if (!token) return fail(kCommand, token.status());
  std::printf("%s\n", token->c_str());
  std::fprintf(stderr, "token id %s for %s (%s), %s\n", identity::token_id(*token).c_str(), who->name.c_str(),
               std::string(identity::role_name(who->role)).c_str(),
               lifetime_ms == 0 ? "never expires" : ("expires in " + args.expires_in).c_str());
  return kExitOk;
}

int run_token_revoke(const TokenRevokeArgs& args) {
  constexpr std::string_view kCommand = "token revoke";
  auto tokens = open_tokens(args.data_dir);
  if (!tokens) return fail(kCommand, tokens.status());
  auto revoked = (*tokens)->revoke(args.id_or_name);
  if (!revoked) return fail(kCommand, revoked.status());
  for (const std::string& id : *revoked) std::printf("revoked %s\n", id.c_str());
  return kExitOk;
}

}  // namespace medseal::cli
