// Who a request comes from, from what it presents: a bearer token (token_store.h) or a client
// certificate the TLS layer verified, whose person is looked up in the users registry
// (user_registry.h). A bearer token, when present, is what counts; otherwise the certificate.
// Failures are counted per source address and per identity (auth_limiter.h); while either is
// over its limit every attempt is refused without being looked at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "identity/auth_limiter.h"
#include "identity/token_store.h"
#include "identity/user_registry.h"

namespace medseal::identity {

// The token of an HTTP Authorization value "Bearer <token>" (scheme case-insensitive, RFC 7235;
// spaces around the token ignored); "" when there is none or it is longer than any token we issue.
std::string_view bearer_token(std::string_view authorization);

struct Credentials {
  std::string_view bearer_token;        // "" when none
  std::string_view certificate_person;  // of a verified client certificate; "" when none
  std::string_view source;              // the peer's address
};

struct Authentication {
  std::optional<Identity> who;  // set when authenticated
  std::string reason;           // otherwise, one line without secrets: "no credentials", "token expired", ...
  uint32_t retry_after_s = 0;   // > 0: refused for too many failures; try again after this long
};

class Authenticator {
 public:
  // Everything outlives the authenticator; without `users` certificates are not accepted, without
  // `limiter` failures are not limited.
  explicit Authenticator(TokenStore& tokens, UserRegistry* users = nullptr, AuthFailureLimiter* limiter = nullptr)
      : tokens_(tokens), users_(users), limiter_(limiter) {}

  // Thread-safe.
  Authentication authenticate(const Credentials& credentials);

 private:
  TokenStore& tokens_;
  UserRegistry* users_;
  AuthFailureLimiter* limiter_;
};

}  // namespace medseal::identity
