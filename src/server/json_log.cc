#include "server/json_log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "util/time_format.h"

namespace medseal::server {
namespace {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return format_instant(uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
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
