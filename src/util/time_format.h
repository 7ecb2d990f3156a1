// Unix milliseconds as the text forms FHIR and HTTP use. Pure.
#pragma once

#include <cstdint>
#include <string>

namespace medseal {

// FHIR instant / RFC 3339 in UTC with milliseconds: "2026-11-27T10:00:00.000Z".
std::string format_instant(uint64_t unix_ms);
// HTTP-date (RFC 9110 5.6.7): "Fri, 27 Nov 2026 10:00:00 GMT".
std::string format_http_date(uint64_t unix_ms);

}  // namespace medseal
