// Failed authentications, counted per source address and per identity (a token's id, a
// certificate's person) in fixed windows. A key that reaches the limit is refused (429 with
// Retry-After) until its window ends, even with good credentials, and raises one
// auth-failure-burst alert per window. Alerts carry the key (an address, a token id or a person
// id), never a secret.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "alerts/alert.h"
#include "util/clock.h"

namespace medseal::identity {

struct AuthLimits {
  uint32_t max_failures = 20;  // per key and window; 0: no limit (and no alerts)
  uint32_t window_s = 60;
};

class AuthFailureLimiter {
 public:
  // `alerts` and `clock` outlive the limiter.
  explicit AuthFailureLimiter(alerts::AlertSink& alerts, AuthLimits limits = {}, const Clock& clock = system_clock());

  // Seconds until `source` and `identity_key` ("" when none) may try again; 0: now. Thread-safe.
  uint32_t retry_after(std::string_view source, std::string_view identity_key);
  // Counts one failure against both keys. Thread-safe.
  void record_failure(std::string_view source, std::string_view identity_key);

 private:
  struct Window {
    uint64_t start_ms = 0;
    uint32_t failures = 0;
  };
  uint32_t seconds_left(const std::string& key, uint64_t now_ms) const;
  void count(const std::string& key, uint64_t now_ms);
  void forget_ended_windows(uint64_t now_ms);

  alerts::AlertSink& alerts_;
  const AuthLimits limits_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // "source:<addr>", "identity:<key>"
};

}  // namespace medseal::identity
