// An HTTP(S) base URL split the way cpp-httplib's Client wants it. Shared by the clients that
// reach other servers (tlog_client's tile source, the witness client).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal {

struct HttpUrl {
  std::string origin;  // scheme://host[:port], what httplib::Client takes
  std::string prefix;  // the path, without a trailing slash ("" for the root)
};

// "http[s]://host[:port][/path]" with no user info, query, fragment or spaces; trailing slashes
// of the path are dropped. kInvalidArgument for anything else.
Result<HttpUrl> parse_http_url(std::string_view url);

}  // namespace medseal
