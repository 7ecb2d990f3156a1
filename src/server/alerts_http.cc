#include "server/alerts_http.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "server/http_server.h"

namespace medseal::server {
namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;
// How long a stream waits for an alert before looking whether the server is stopping.
constexpr auto kStreamTick = std::chrono::milliseconds(1000);

void text(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(message + "\n", "text/plain; charset=utf-8");
}

std::optional<uint64_t> parse_number(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string sse_event(const alerts::Alert& alert) {
  std::string json = alerts::to_json(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "id: " + one_line(alert.id) + "\nevent: " + one_line(alert.kind) + "\ndata: " + json + "\n\n";
}

// What one stream's content provider keeps between calls.
struct StreamState {
  std::shared_ptr<alerts::Subscription> subscription;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  bool greeted = false;
};

}  // namespace

bool AlertsHttp::is_alerts_path(std::string_view path) {
  return path == "/alerts" || path == "/alerts/stream" || path == "/metrics";
}

void AlertsHttp::handle(const httplib::Request& req, httplib::Response& res,
                        std::string_view certificate_person) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.set_header("Allow", "GET, HEAD");
    return text(res, 405, "read-only resource");
  }
  std::string_view target = req.target;
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/metrics") return metrics(req, res, certificate_person);
  if (!authorized(req, res, certificate_person)) return;
  if (path == "/alerts") return list(req, res);
  stream(res);
}

std::optional<identity::Identity> authenticate_request(identity::Authenticator& authenticator,
                                                       const httplib::Request& req,
                                                       httplib::Response& res,
                                                       std::string_view certificate_person) {
  const std::string authorization = req.get_header_value("Authorization");  // the token views it
  identity::Authentication auth =
      authenticator.authenticate({identity::bearer_token(authorization), certificate_person, req.remote_addr});
  if (auth.retry_after_s > 0) {
    res.set_header("Retry-After", std::to_string(auth.retry_after_s));
    text(res, 429, auth.reason);
    return std::nullopt;
  }
  if (!auth.who) {
    res.set_header("WWW-Authenticate", "Bearer");
    text(res, 401, auth.reason);
  }
  return auth.who;
}

bool AlertsHttp::authorized(const httplib::Request& req, httplib::Response& res,
                            std::string_view certificate_person) {
  std::optional<identity::Identity> who =
      authenticate_request(authenticator_, req, res, certificate_person);
  if (!who) return false;
  if (who->role != identity::Role::kAuditor && who->role != identity::Role::kAdmin) {
    text(res, 403, "alerts are for auditors and admins");
    return false;
  }
  return true;
}

void AlertsHttp::list(const httplib::Request& req, httplib::Response& res) {
  uint64_t since = 0;
  size_t limit = kDefaultLimit;
  for (const auto& [name, value] : req.params) {
    std::optional<uint64_t> number = parse_number(value);
    if (name == "since" && number) {
      since = *number;
    } else if (name == "limit" && number && *number >= 1 && *number <= kMaxLimit) {
      limit = static_cast<size_t>(*number);
    } else {
      return text(res, 400, "parameters: since=<Unix ms>, limit=1.." + std::to_string(kMaxLimit));
    }
  }
  nlohmann::json alerts = nlohmann::json::array();
  for (const alerts::Alert& a : pipeline_.recent(since, limit)) alerts.push_back(alerts::to_json(a));
  nlohmann::json body = {{"alerts", std::move(alerts)}};
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void AlertsHttp::stream(httplib::Response& res) {
  auto state = std::make_shared<StreamState>();
  state->subscription = pipeline_.subscribe();
  if (!state->subscription) return text(res, 503, "too many alert streams");
  res.set_header("Cache-Control", "no-store");
  auto keep_alive = keep_alive_;
  auto tick = std::min<std::chrono::milliseconds>(kStreamTick, keep_alive);
  res.set_chunked_content_provider("text/event-stream", [state, keep_alive, tick](size_t, httplib::DataSink& sink) {
    if (!state->greeted) {
      state->greeted = true;
      static constexpr std::string_view kHello = ": medseal alerts\nretry: 5000\n\n";
      return sink.write(kHello.data(), kHello.size());
    }
    std::optional<alerts::Alert> alert = state->subscription->next(tick);
    if (state->subscription->closed()) {
      sink.done();
      return true;
    }
    auto now = std::chrono::steady_clock::now();
    std::string out;
    if (alert) {
      out = sse_event(*alert);
    } else if (now - state->last_write >= keep_alive) {
      out = ": keep-alive\n\n";
    }
    if (out.empty()) return true;
    state->last_write = now;
    return sink.write(out.data(), out.size());  // false once the client is gone: the stream ends
  });
}

void AlertsHttp::metrics(const httplib::Request& req, httplib::Response& res,
                         std::string_view certificate_person) {
  // Counters say when integrity broke and how often people are refused: auditors' business, and
  // Prometheus scrapes with a bearer token (authorization.credentials_file) as easily as without.
  if (!authorized(req, res, certificate_person)) return;
  res.set_header("Cache-Control", "no-store");
  res.set_content(pipeline_.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace medseal::server
