// The alert routes of medseal's HTTP server (DESIGN.md 7), over alerts::Pipeline:
//   GET /alerts          {"alerts":[to_json(alert), ...]} newest first; ?since=<Unix ms> (alerts
//                        after it), ?limit=1..1000 (default 100). Auditor or admin token.
//   GET /alerts/stream   Server-Sent Events of the alerts raised after connecting: "id:" the
//                        alert id, "event:" its kind, "data:" to_json(alert) on one line; a
//                        ": keep-alive" comment every 15 s. Auditor or admin token. At most
//                        PipelineOptions::max_subscribers at once (503 beyond). A disconnected
//                        client's thread ends at the next write (15 s at most); all end when the
//                        pipeline closes its subscriptions or the server stops (1 s at most).
//   GET /metrics         Prometheus text format 0.0.4, auditor or admin (a scraper sends a bearer
//                        token). Counts per kind and severity only, no ids.
// Callers are authenticated like the FHIR API (token or client certificate, failure limits).
// No or unknown credentials: 401 with WWW-Authenticate: Bearer; too many failures: 429; another
// role: 403. Other methods: 405.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "alerts/pipeline.h"
#include "identity/authenticator.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace medseal::server {

// Authenticates a request as these routes do (token or client certificate, failure limits): the
// identity, or nullopt with `res` holding the 401 (WWW-Authenticate: Bearer) or 429. Shared with
// forensics_http.h and portal_http.h.
std::optional<identity::Identity> authenticate_request(identity::Authenticator& authenticator,
                                                       const httplib::Request& req,
                                                       httplib::Response& res,
                                                       std::string_view certificate_person);

class AlertsHttp {
 public:
  // Both must outlive this object. `keep_alive`: how long a quiet stream waits before a comment.
  AlertsHttp(alerts::Pipeline& pipeline, identity::Authenticator& authenticator,
             std::chrono::milliseconds keep_alive = std::chrono::seconds(15))
      : pipeline_(pipeline), authenticator_(authenticator), keep_alive_(keep_alive) {}

  // True for /alerts, /alerts/stream and /metrics (`path` undecoded, without the query).
  static bool is_alerts_path(std::string_view path);
  // Answers a request for one of those paths; `certificate_person` is the person of a client
  // certificate the TLS layer verified ("" when none).
  void handle(const httplib::Request& req, httplib::Response& res, std::string_view certificate_person);

 private:
  // True if the caller is an auditor or admin (token or certificate); otherwise res holds the
  // 401, 403 or 429.
  bool authorized(const httplib::Request& req, httplib::Response& res, std::string_view certificate_person);
  void list(const httplib::Request& req, httplib::Response& res);
  void stream(httplib::Response& res);
  void metrics(const httplib::Request& req, httplib::Response& res, std::string_view certificate_person);

  alerts::Pipeline& pipeline_;
  identity::Authenticator& authenticator_;
  std::chrono::milliseconds keep_alive_;
};

}  // namespace medseal::server
