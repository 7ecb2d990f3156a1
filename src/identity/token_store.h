// Bearer tokens for identities, kept in one append-only file in the data directory (DATA/tokens,
// mode 0600) so `medseal token issue` can add one while a server runs and the server picks it up
// without a restart.
//
// A token is "mst_" followed by 43 base64url characters (32 random bytes). The file never holds a
// token, only its SHA-256, so reading the file does not let anyone act as anybody. One line per
// token, a JSON object: {"sha256":"<hex>","name":"...","role":"...","patient":"...","created":<ms>,
// "expires":<ms>} ("expires" 0 or absent: never), and one line per revocation:
// {"revoked":"<sha256 of a token above>","at":<ms>}. Lines are only ever appended.
//
// A token's id is the first 12 hex digits of its SHA-256: safe to show and log, and what
// `medseal token revoke --id` takes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <vector>

#include "identity/identity.h"
#include "util/clock.h"
#include "util/status.h"

namespace medseal::identity {

inline constexpr uint64_t kNeverExpires = 0;
inline constexpr size_t kTokenIdChars = 12;

// The id of a token (see above); also of a malformed one, so refusals can name what was tried.
std::string token_id(std::string_view token);

struct TokenInfo {
  std::string id;
  Identity who;
  uint64_t created_ms = 0;
  uint64_t expires_ms = kNeverExpires;
  bool revoked = false;
};

class TokenStore {
 public:
  // Opens the token file at `path`, creating it (mode 0600) if absent. A line that does not parse
  // makes open fail (kInvalidArgument, naming the line number): a damaged file is not guessed at.
  // `clock` (which outlives the store) decides expiry.
  static Result<std::unique_ptr<TokenStore>> open(const std::string& path, const Clock& clock = system_clock());
  virtual ~TokenStore() = default;

  // Creates a token for `who` (check_identity first), appends its line and fsyncs before
  // returning the token. Safe against concurrent issuers in other processes (O_APPEND, flock).
  // The token is valid until `expires_ms` (Unix ms; kNeverExpires: no end).
  virtual Result<std::string> issue(const Identity& who, uint64_t expires_ms = kNeverExpires) = 0;

  // The identity of `token`; kNotFound if unknown or malformed ("unknown token"), expired
  // ("token expired") or revoked ("token revoked"). The file is looked at no more than every
  // 100 ms (so floods of bad tokens stay cheap) and re-read when it has changed: a token issued or
  // revoked by another process is known at most that long after it was written. Thread-safe.
  virtual Result<Identity> authenticate(std::string_view token) = 0;

  // Revokes the one token whose id starts with `id_or_name` (8 to 64 lower-case hex digits), or
  // else every unrevoked token of the identity named `id_or_name`; returns the ids revoked.
  // kNotFound if nothing matches, kInvalidArgument if a prefix matches more than one token.
  virtual Result<std::vector<std::string>> revoke(std::string_view id_or_name) = 0;

  // Every token in the file, in the order issued (re-read first).
  virtual Result<std::vector<TokenInfo>> list() = 0;
};

// On a server's first start: if `token_path` (DATA/admin.token) does not exist, issues an admin
// identity named "admin" that never expires and writes its token there (mode 0600). Revoke it with
// `medseal token revoke admin` once other admins exist; it is not issued again while the file is
// there. Returns the token path's
// content either way, so the caller can say where the admin token is.
Result<std::string> ensure_admin_token(TokenStore& tokens, const std::string& token_path);

}  // namespace medseal::identity
