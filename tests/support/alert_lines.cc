#include "support/alert_lines.h"

#include <algorithm>
#include <sstream>

namespace medseal::testing {

bool has_alert(const std::string& text, size_t from, const std::string& kind,
               const std::vector<std::string>& ids) {
  std::istringstream lines(text.substr(std::min(from, text.size())));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("{\"alert\"") == std::string::npos) continue;
    if (line.find("\"kind\":\"" + kind + "\"") == std::string::npos) continue;
    bool all = true;
    for (const std::string& id : ids) all = all && line.find(id) != std::string::npos;
    if (all) return true;
  }
  return false;
}

size_t alert_count(const std::string& text) {
  size_t n = 0;
  for (size_t at = text.find("{\"alert\""); at != std::string::npos; at = text.find("{\"alert\"", at + 1)) ++n;
  return n;
}

}  // namespace medseal::testing
