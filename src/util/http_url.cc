#include "util/http_url.h"

namespace medseal {

Result<HttpUrl> parse_http_url(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return Status::invalid("URL has no scheme: " + std::string(url));
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::invalid("URL scheme must be http or https: " + std::string(url));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == 0x7f) {
      return Status::invalid("URL must not contain spaces, a query or a fragment");
    }
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Status::invalid("URL needs a host and no user info: " + std::string(url));
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return HttpUrl{std::string(scheme) + "://" + std::string(authority), std::string(path)};
}

}  // namespace medseal
