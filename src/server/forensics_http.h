// GET /forensics (issue 6 section 6): the forensic report (sentinel/forensics.h) as JSON, for
// auditors and admins.
//   ?identity=NAME | ?patient=Patient/ID   at most one
//   &since=T &until=T                      RFC 3339 or Unix ms (entry times, inclusive)
// Callers are authenticated as /alerts is (alerts_http.h): 401 (WWW-Authenticate: Bearer) or 429.
// Reading the report is an access: a caller of another role gets an access-denied entry and 403;
// an auditor or admin gets the report only after an access entry (op "forensics", keyed by every
// patient the report names) is committed (records/service.h record_forensics). Bad parameters:
// 400. One report is built at a time (a full verification pass): 503 while one is.
#pragma once

#include <mutex>
#include <string_view>

#include "identity/authenticator.h"
#include "records/service.h"
#include "sentinel/sentinel.h"
#include "util/clock.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace medseal::server {

class ForensicsHttp {
 public:
  // `store`: the store's location (db_path: file or postgresql:// URL), state_path (read, never
  // written) and log key. All references outlive this object.
  ForensicsHttp(records::RecordService& records, identity::Authenticator& authenticator,
                sentinel::SentinelOptions store, const Clock& clock)
      : records_(records), authenticator_(authenticator), store_(std::move(store)), clock_(clock) {}

  static bool is_forensics_path(std::string_view path) { return path == "/forensics"; }
  // Answers GET and HEAD (405 otherwise); `certificate_person` as for AlertsHttp::handle.
  void handle(const httplib::Request& req, httplib::Response& res, std::string_view certificate_person);

 private:
  records::RecordService& records_;
  identity::Authenticator& authenticator_;
  sentinel::SentinelOptions store_;
  const Clock& clock_;
  std::mutex building_;
};

}  // namespace medseal::server
