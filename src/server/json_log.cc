#include "server/json_log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace medseal::server {
namespace {

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void log_json(std::string_view level, std::string_view msg, nlohmann::json fields) {
  nlohmann::ordered_json line = {{"time", utc_now()}, {"level", level}, {"msg", msg}};
  for (auto& [key, value] : fields.items()) line[key] = value;
  // Invalid UTF-8 (a client's raw path) is replaced rather than thrown on.
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;  // nowhere left to report a failing stderr
}

}  // namespace medseal::server
