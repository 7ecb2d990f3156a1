#include "server/forensics_http.h"

#include <httplib.h>

#include "sentinel/forensics.h"
#include "server/alerts_http.h"

namespace medseal::server {
namespace {

void text(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(message + "\n", "text/plain; charset=utf-8");
}

// The query, and its canonical text for the ledger statement (ids and times only).
Result<sentinel::ForensicsQuery> parse_query(const httplib::Request& req, std::string* canonical) {
  sentinel::ForensicsQuery q;
  for (const auto& [name, value] : req.params) {
    if (name == "identity" && q.identity.empty() && !value.empty()) {
      q.identity = value;
    } else if (name == "patient" && q.patient.empty() && !value.empty()) {
      q.patient = value;
    } else if ((name == "since" || name == "until") && !(name == "since" ? q.since_ms : q.until_ms)) {
      std::optional<uint64_t> t = sentinel::parse_time(value);
      if (!t) return Status::invalid(name + " must be RFC 3339 or Unix milliseconds");
      (name == "since" ? q.since_ms : q.until_ms) = t;
    } else {
      return Status::invalid("parameters: identity or patient, since, until (each once)");
    }
  }
  MEDSEAL_RETURN_IF_ERROR(sentinel::check_query(q));
  std::string c;
  auto add = [&c](const std::string& part) { c += (c.empty() ? "" : "&") + part; };
  if (!q.identity.empty()) add("identity=" + q.identity);
  if (!q.patient.empty()) add("patient=" + q.patient);
  if (q.since_ms) add("since=" + std::to_string(*q.since_ms));
  if (q.until_ms) add("until=" + std::to_string(*q.until_ms));
  *canonical = c;
  return q;
}

}  // namespace

void ForensicsHttp::handle(const httplib::Request& req, httplib::Response& res,
                           std::string_view certificate_person) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.set_header("Allow", "GET, HEAD");
    return text(res, 405, "read-only resource");
  }
  std::optional<identity::Identity> who = authenticate_request(authenticator_, req, res, certificate_person);
  if (!who) return;
  const records::Caller caller{*who, "AUDIT", ""};
  std::string canonical;
  Result<sentinel::ForensicsQuery> query = parse_query(req, &canonical);
  if (!query) return text(res, 400, query.status().message());
  if (who->role != identity::Role::kAuditor && who->role != identity::Role::kAdmin) {
    Status refused = records_.record_forensics(caller, canonical, {}, nullptr);
    return text(res, refused.code() == Code::kPermissionDenied ? 403 : 500, refused.message());
  }
  std::unique_lock lock(building_, std::try_to_lock);
  if (!lock.owns_lock()) {
    res.set_header("Retry-After", "5");
    return text(res, 503, "a forensic report is being built; try again shortly");
  }
  Result<sentinel::ForensicsReport> report = sentinel::build_forensics(store_, *query, clock_.now_ms());
  if (!report) return text(res, 500, "the store could not be read");
  Status recorded = records_.record_forensics(caller, canonical, report->patients_named(), nullptr);
  if (!recorded) return text(res, recorded.code() == Code::kPermissionDenied ? 403 : 500, recorded.message());
  res.set_header("Cache-Control", "no-store");
  res.set_content(sentinel::to_json(*report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

}  // namespace medseal::server
