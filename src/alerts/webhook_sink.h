// Alerts POSTed to a webhook: the body is to_json(alert) (application/json) and the header
// X-Medseal-Alert-Id carries the alert id, by which the receiver deduplicates (delivery is
// at-least-once). Any 2xx acknowledges; anything else (refused connection, timeout, 5xx, 4xx) is
// a failure that the delivery worker retries with backoff, in order. Logs and /metrics name a
// webhook by its origin only (scheme://host:port): its path may be a secret.
#pragma once

#include <memory>
#include <string>

#include "alerts/delivery.h"
#include "util/status.h"

namespace medseal::alerts {

inline constexpr const char* kAlertIdHeader = "X-Medseal-Alert-Id";

// A destination for "http://HOST[:PORT]/PATH" or "https://...". kInvalidArgument otherwise.
Result<std::unique_ptr<Destination>> make_webhook_destination(const std::string& url);

}  // namespace medseal::alerts
