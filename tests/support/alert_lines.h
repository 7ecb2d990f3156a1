// Alerts as the medseal programs print them on stderr: one JSON line {"alert":{...}} each.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace medseal::testing {

// True if `text`, after byte `from`, holds an alert line of `kind` that contains every one of
// `ids` (plain substrings: resource names, "\"indexes\":[7]", ...).
bool has_alert(const std::string& text, size_t from, const std::string& kind,
               const std::vector<std::string>& ids);
// The number of alert lines in `text`.
size_t alert_count(const std::string& text);

}  // namespace medseal::testing
