#include "server/portal_http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace medseal::server {
namespace {

// The page loads its modules, styles and data from this origin only; it has no inline script or
// style, embeds nothing and may not be framed (clickjacking a "block" button).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
constexpr std::string_view kIndex = "index.html";
constexpr size_t kMaxAuthorizationBytes = 300;

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

// "Bearer <token>" (scheme case-insensitive, RFC 7235); "" for anything else.
std::string_view token_of(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() || authorization.size() > kMaxAuthorizationBytes) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return "";
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
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
  const std::string authorization = req.get_header_value("Authorization");
  identity::Authentication auth =
      authenticator_.authenticate({token_of(authorization), certificate_person, req.remote_addr});
  if (auth.retry_after_s > 0) {
    res.set_header("Retry-After", std::to_string(auth.retry_after_s));
    return text(res, 429, auth.reason);
  }
  if (!auth.who) {
    res.set_header("WWW-Authenticate", "Bearer");
    return text(res, 401, auth.reason);
  }
  nlohmann::json body = {{"name", auth.who->name}, {"role", identity::role_name(auth.who->role)}};
  if (!auth.who->patient.empty()) body["patient"] = auth.who->patient;
  secure_headers(res, "no-store");
  res.set_content(body.dump(), "application/json");
}

}  // namespace medseal::server
