// The portal (DESIGN.md section 6, `/`): the page and its assets, compiled into the binary from
// portal/ at build time (portal/embed.cmake), and the two small resources the page needs besides
// the API it reads everything else from.
//
//   GET /                       portal/index.html (anonymous)
//   GET /portal/<file>          every other file under portal/, e.g. /portal/js/verify.js
//                               (anonymous: assets hold no data)
//   GET /portal/keys.json       {"log": vkey, "witnesses": [vkey, ...], "quorum": K}: the public
//                               keys a receipt is verified against (anonymous, public knowledge)
//   GET /portal/whoami          {"name", "role", "patient"?}: who the credentials are (a bearer
//                               token or a client certificate); 401 with WWW-Authenticate: Bearer,
//                               429 after too many failures. Not a ledger entry: it discloses only
//                               the caller's own identity.
//
// Every answer carries Content-Security-Policy (only this origin; no inline script or style, no
// framing), X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and a Cache-Control:
// assets "no-cache" (revalidated, they hold no health data), whoami "no-store". HEAD is GET
// without the body; other methods are 405.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "identity/authenticator.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace medseal::server {

// One file of portal/, as embedded: `path` relative to portal/ ("index.html", "js/app.js").
struct PortalAsset {
  std::string_view path;
  std::string_view bytes;
};
// Every embedded file, sorted by path. Defined by the .cc that portal/embed.cmake generates.
std::span<const PortalAsset> portal_assets();

// What /portal/keys.json says: the log's verifier key and the witnesses' (note/keys.h text form).
struct PortalKeys {
  std::string log_vkey;
  std::vector<std::string> witness_vkeys;
  size_t quorum = 0;
};

inline constexpr std::string_view kPortalPrefix = "/portal/";
inline constexpr std::string_view kPortalWhoami = "/portal/whoami";
inline constexpr std::string_view kPortalKeys = "/portal/keys.json";

class PortalHttp {
 public:
  // `authenticator` outlives this object.
  PortalHttp(identity::Authenticator& authenticator, PortalKeys keys);

  // True for "/" and everything under /portal/ (`path` undecoded, without the query).
  static bool is_portal_path(std::string_view path);
  // The anonymous paths it serves: "/", each asset (index.html also at /portal/index.html), keys.json.
  static std::vector<std::string> anonymous_paths();

  // Answers a request for a portal path; `certificate_person` as in alerts_http.h.
  void handle(const httplib::Request& req, httplib::Response& res, std::string_view certificate_person) const;

 private:
  void whoami(const httplib::Request& req, httplib::Response& res, std::string_view certificate_person) const;

  identity::Authenticator& authenticator_;
  std::string keys_json_;
};

// The Content-Type of a portal file, from its extension; application/octet-stream if unknown.
std::string_view portal_content_type(std::string_view path);

}  // namespace medseal::server
