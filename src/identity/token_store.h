// Bearer tokens for identities, kept in one append-only file in the data directory (DATA/tokens,
// mode 0600) so `medseal token issue` can add one while a server runs and the server picks it up
// without a restart.
//
// A token is "mst_" followed by 43 base64url characters (32 random bytes). The file never holds a
// token, only its SHA-256, so reading the file does not let anyone act as anybody. One line per
// token, a JSON object: {"sha256":"<hex>","name":"...","role":"...","patient":"...","created":<ms>}.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "identity/identity.h"
#include "util/status.h"

namespace medseal::identity {

class TokenStore {
 public:
  // Opens the token file at `path`, creating it (mode 0600) if absent. A line that does not parse
  // makes open fail (kInvalidArgument, naming the line number): a damaged file is not guessed at.
  static Result<std::unique_ptr<TokenStore>> open(const std::string& path);
  virtual ~TokenStore() = default;

  // Creates a token for `who` (check_identity first), appends its line and fsyncs before
  // returning the token. Safe against concurrent issuers in other processes (O_APPEND, flock).
  virtual Result<std::string> issue(const Identity& who) = 0;

  // The identity of `token`; kNotFound if unknown or malformed. A token issued by another process
  // since the file was last read is found: an unknown token makes the store re-read the file when
  // it has changed (looked at no more than every 100 ms, so floods of bad tokens stay cheap; a new
  // token is found at most that long after it was issued). Thread-safe.
  virtual Result<Identity> authenticate(std::string_view token) = 0;
};

// On a server's first start: if `token_path` (DATA/admin.token) does not exist, issues an admin
// identity named "admin" and writes its token there (mode 0600). Returns the token path's
// content either way, so the caller can say where the admin token is.
Result<std::string> ensure_admin_token(TokenStore& tokens, const std::string& token_path);

}  // namespace medseal::identity
