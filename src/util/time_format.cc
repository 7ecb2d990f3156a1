#include "util/time_format.h"

#include <cstdio>
#include <ctime>

namespace medseal {
namespace {

std::tm utc(uint64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string format_instant(uint64_t unix_ms) {
  const std::tm tm = utc(unix_ms);
  char buf[64];  // room for any int fields, so the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string format_http_date(uint64_t unix_ms) {
  const std::tm tm = utc(unix_ms);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);  // "C" locale names
  return buf;
}

}  // namespace medseal
