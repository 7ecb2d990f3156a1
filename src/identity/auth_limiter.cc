#include "identity/auth_limiter.h"

namespace medseal::identity {
namespace {

// Bounds the memory a flood from many addresses can take; ended windows are dropped first.
constexpr size_t kMaxKeys = 100'000;

std::string source_key(std::string_view source) { return "source:" + std::string(source); }
std::string identity_key_of(std::string_view identity) { return "identity:" + std::string(identity); }

}  // namespace

AuthFailureLimiter::AuthFailureLimiter(alerts::AlertSink& alerts, AuthLimits limits, const Clock& clock)
    : alerts_(alerts), limits_(limits), clock_(clock) {}

uint32_t AuthFailureLimiter::retry_after(std::string_view source, std::string_view identity_key) {
  if (limits_.max_failures == 0) return 0;
  const uint64_t now = clock_.now_ms();
  std::lock_guard lock(mu_);
  uint32_t wait = seconds_left(source_key(source), now);
  if (!identity_key.empty()) wait = std::max(wait, seconds_left(identity_key_of(identity_key), now));
  return wait;
}

void AuthFailureLimiter::record_failure(std::string_view source, std::string_view identity_key) {
  if (limits_.max_failures == 0) return;
  const uint64_t now = clock_.now_ms();
  std::lock_guard lock(mu_);
  if (windows_.size() >= kMaxKeys) forget_ended_windows(now);
  count(source_key(source), now);
  if (!identity_key.empty()) count(identity_key_of(identity_key), now);
}

uint32_t AuthFailureLimiter::seconds_left(const std::string& key, uint64_t now_ms) const {
  auto it = windows_.find(key);
  const uint64_t window_ms = uint64_t{limits_.window_s} * 1000;
  if (it == windows_.end() || it->second.failures < limits_.max_failures) return 0;
  const uint64_t end = it->second.start_ms + window_ms;
  if (now_ms >= end) return 0;
  return static_cast<uint32_t>((end - now_ms + 999) / 1000);
}

void AuthFailureLimiter::count(const std::string& key, uint64_t now_ms) {
  const uint64_t window_ms = uint64_t{limits_.window_s} * 1000;
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxKeys) return;
    it = windows_.emplace(key, Window{now_ms, 0}).first;
  }
  Window& w = it->second;
  if (now_ms >= w.start_ms + window_ms) w = Window{now_ms, 0};
  if (++w.failures != limits_.max_failures) return;
  alerts::Alert alert = alerts::make_alert(alerts::Severity::kWarning, "auth-failure-burst",
                                           std::to_string(w.failures) + " failed authentications from " + key +
                                               " within " + std::to_string(limits_.window_s) + " s");
  alert.resources.push_back(key);
  alert.evidence = {{"key", key}, {"failures", w.failures}, {"window_s", limits_.window_s}};
  alerts_.raise(alert);
}

void AuthFailureLimiter::forget_ended_windows(uint64_t now_ms) {
  const uint64_t window_ms = uint64_t{limits_.window_s} * 1000;
  std::erase_if(windows_, [&](const auto& entry) { return now_ms >= entry.second.start_ms + window_ms; });
}

}  // namespace medseal::identity
