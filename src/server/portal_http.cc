#include "server/portal_http.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/alerts_http.h"

namespace medseal::server {
namespace {

// The page loads its modules, styles and data from this origin only; it has no inline script or
// style, embeds nothing and may not be framed (clickjacking a "block" button).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
constexpr std::string_view kIndex = "index.html";

// nosniff, no-referrer and no framing are on every answer of the server (http_server.cc).
void secure_headers(httplib::Response& res, const char* cache_control) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("Cache-Control", cache_control);
}

void text(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  secure_headers(res, "no-store");
  res.set_content(message + "\n", "text/plain; charset=utf-8");
}

const PortalAsset* find_asset(std::string_view path) {
  auto assets = portal_assets();
  auto it = std::find_if(assets.begin(), assets.end(), [path](const PortalAsset& a) { return a.path == path; });
  return it == assets.end() ? nullptr : &*it;
}

}  // namespace

std::string_view portal_content_type(std::string_view path) {
  struct Type {
    std::string_view extension, content_type;
  };
  static constexpr Type kTypes[] = {{".html", "text/html; charset=utf-8"},
                                    {".js", "text/javascript; charset=utf-8"},
                                    {".css", "text/css; charset=utf-8"},
                                    {".svg", "image/svg+xml"},
                                    {".png", "image/png"},
                                    {".json", "application/json"}};
  for (const Type& t : kTypes) {
    if (path.ends_with(t.extension)) return t.content_type;
  }
  return "application/octet-stream";
}

PortalHttp::PortalHttp(identity::Authenticator& authenticator, PortalKeys keys) : authenticator_(authenticator) {
  nlohmann::json body = {{"log", keys.log_vkey}, {"witnesses", keys.witness_vkeys}, {"quorum", keys.quorum}};
  keys_json_ = body.dump();
}

bool PortalHttp::is_portal_path(std::string_view path) { return path == "/" || path.starts_with(kPortalPrefix); }

std::vector<std::string> PortalHttp::anonymous_paths() {
  std::vector<std::string> out = {"/"};
  for (const PortalAsset& a : portal_assets()) out.push_back(std::string(kPortalPrefix) + std::string(a.path));
  out.push_back(std::string(kPortalKeys));
  return out;
}

void PortalHttp::handle(const httplib::Request& req, httplib::Response& res,
                        std::string_view certificate_person) const {
  if (req.method != "GET" && req.method != "HEAD") {
    res.set_header("Allow", "GET, HEAD");
    return text(res, 405, "read-only resource");
  }
  std::string_view target = req.target;
  std::string_view path = target.substr(0, target.find('?'));
  if (path == kPortalWhoami) return whoami(req, res, certificate_person);
  if (path == kPortalKeys) {
    secure_headers(res, "no-cache");
    return res.set_content(keys_json_, "application/json");
  }
  const PortalAsset* asset = find_asset(path == "/" ? kIndex : path.substr(kPortalPrefix.size()));
  if (!asset) return text(res, 404, "no such resource");
  secure_headers(res, "no-cache");
  res.set_content(asset->bytes.data(), asset->bytes.size(), std::string(portal_content_type(asset->path)));
}

void PortalHttp::whoami(const httplib::Request& req, httplib::Response& res,
                        std::string_view certificate_person) const {
  std::optional<identity::Identity> who = authenticate_request(authenticator_, req, res, certificate_person);
  if (!who) return;
  nlohmann::json body = {{"name", who->name}, {"role", identity::role_name(who->role)}};
  if (!who->patient.empty()) body["patient"] = who->patient;
  secure_headers(res, "no-store");
  res.set_content(body.dump(), "application/json");
}

}  // namespace medseal::server
