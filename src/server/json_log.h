// Operational log: one JSON object per line on stderr, so log shippers parse it without regexes.
// Lines carry events, paths and status codes, never statement content or other health data.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace medseal::server {

// Writes {"time": RFC 3339 UTC, "level": level, "msg": msg, ...fields} as one line on stderr, in
// a single write so lines from concurrent threads never interleave.
void log_json(std::string_view level, std::string_view msg, nlohmann::json fields = nlohmann::json::object());

}  // namespace medseal::server
