#include "identity/authenticator.h"

#include <cctype>

namespace medseal::identity {
namespace {

// What failures are counted against besides the source: the token's id or the person; never the
// token itself.
std::string identity_key(const Credentials& c) {
  if (!c.bearer_token.empty()) return "token:" + token_id(c.bearer_token);
  if (!c.certificate_person.empty()) return "person:" + std::string(c.certificate_person);
  return "";
}

}  // namespace

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  constexpr size_t kMaxTokenBytes = 256;
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!authorization.empty() && is_space(authorization.front())) authorization.remove_prefix(1);
  if (authorization.size() < kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return "";
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && is_space(token.front())) token.remove_prefix(1);
  while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
  return token.size() <= kMaxTokenBytes ? token : "";
}

Authentication Authenticator::authenticate(const Credentials& c) {
  const std::string key = identity_key(c);
  if (limiter_) {
    if (uint32_t wait = limiter_->retry_after(c.source, key); wait > 0) {
      return Authentication{std::nullopt, "too many failed authentications", wait};
    }
  }
  Result<Identity> who = Status::not_found("no credentials");
  if (!c.bearer_token.empty()) {
    who = tokens_.authenticate(c.bearer_token);
  } else if (!c.certificate_person.empty() && users_) {
    who = users_->find(c.certificate_person);
  }
  if (who) return Authentication{std::move(*who), "", 0};
  // A request without credentials tried nothing: only wrong credentials count as failures.
  if (limiter_ && !key.empty()) limiter_->record_failure(c.source, key);
  return Authentication{std::nullopt, who.status().message(), 0};
}

}  // namespace medseal::identity
