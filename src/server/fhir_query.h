// The query strings of the FHIR REST API (DESIGN.md section 6): which parameters each
// interaction accepts and what their values mean. Pure functions, no I/O.
//
// Parameters understood (anything else, modifiers such as `patient:missing` included, is
// kInvalidArgument so a client never mistakes an ignored filter for an applied one):
//   every interaction  _format   json, application/json or application/fhir+json (see
//                                is_json_format; the API answers 406 for other values)
//   history            _count, _offset
//   search             _count, _offset, patient, _id, _lastUpdated
//   access trail       _count, _offset, patient (required)
//
//   _count         0..; default 50, larger than 1000 is cut to 1000 (FHIR lets a server return
//                  fewer than asked); 0 asks for the total only
//   _offset        0..; where the page starts (the next links use it)
//   patient        "Patient/<id>" or "<id>"; once (one patient per request)
//   _id            "<id>[,<id>...]" (any of them), at most kMaxIds; once
//   _lastUpdated   [eq|gt|ge|lt|le]<date>, repeatable (all must hold). <date> is YYYY, YYYY-MM,
//                  YYYY-MM-DD (days in UTC) or YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|+hh:mm|-hh:mm);
//                  the value stands for its whole precision: eq2024 is all of 2024,
//                  gt2024-03 starts in April. A '+' in a query string is kept as '+' (not a
//                  space), so `ge2024-01-01T00:00:00+01:00` works unencoded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace medseal::server::fhir {

inline constexpr uint64_t kDefaultCount = 50;
inline constexpr uint64_t kMaxCount = 1000;
inline constexpr size_t kMaxParams = 64;
inline constexpr size_t kMaxIds = 1000;

// One name=value pair of a query string, percent-decoded.
struct QueryParam {
  std::string name;
  std::string value;
};

// Splits a raw query string ("a=1&b=2", without '?') into percent-decoded pairs, in order.
// Empty pieces ("a=1&&b=2") are skipped. kInvalidArgument for bad percent-encoding, a decoded
// byte below 0x20, or more than kMaxParams pairs.
Result<std::vector<QueryParam>> parse_query_string(std::string_view raw);

// The query string of `params`, percent-encoding what needs it (inverse of parse_query_string).
std::string format_query_string(const std::vector<QueryParam>& params);

// A half-open range of Unix milliseconds, [from_ms, to_ms).
struct TimeRange {
  uint64_t from_ms = 0;
  uint64_t to_ms = UINT64_MAX;
};

// The instants one _lastUpdated value (prefix and date) selects. Times before 1970 clamp to 0.
Result<TimeRange> parse_last_updated(std::string_view value);

// What an interaction accepts besides _format.
enum class Accepts {
  kNothing,  // read, vread, create, update, delete, transaction, receipts
  kPaging,   // history
  kSearch,   // search-type
  kTrail,    // AuditEvent?patient=
};

struct Paging {
  uint64_t offset = 0;
  uint64_t count = kDefaultCount;
};

struct ParsedQuery {
  std::vector<QueryParam> params;  // as given, for the self link
  std::string format;              // the _format value; "" when absent
  Paging paging;
  std::string patient;             // "Patient/<id>"; "" when absent
  std::vector<std::string> ids;    // _id values; empty when absent
  TimeRange updated;               // every _lastUpdated intersected
};

// Parses and checks the raw query string for an interaction that accepts `accepts`.
Result<ParsedQuery> parse_parameters(std::string_view raw, Accepts accepts);

// True for the _format values that mean FHIR JSON.
bool is_json_format(std::string_view format);

// `params` with _count and _offset set to `page` (replacing any given), for self and next links.
std::vector<QueryParam> with_paging(const std::vector<QueryParam>& params, const Paging& page);

}  // namespace medseal::server::fhir
