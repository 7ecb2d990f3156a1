#include "server/fhir_query.h"

#include <algorithm>
#include <array>

#include "records/resource.h"

namespace medseal::server::fhir {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
constexpr size_t kMaxDecimalDigits = 18;  // fits in uint64 without overflow checks

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
      if (lo < 0) return Status::invalid("bad percent-encoding in the query at offset " + std::to_string(i));
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20) return Status::invalid("control character in the query");
    out.push_back(c);
  }
  return out;
}

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == ':' || c == '/' || c == ',';
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out;
}

// A decimal of 1..18 digits, nothing else (no sign, no spaces).
std::optional<uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > kMaxDecimalDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int64_t y, int64_t m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[static_cast<size_t>(m - 1)];
}

// Reads `width` digits at `pos` into *out; false if they are not all digits or not in [lo, hi].
bool take_number(std::string_view s, size_t pos, size_t width, int64_t lo, int64_t hi, int64_t* out) {
  if (pos + width > s.size()) return false;
  auto value = parse_decimal(s.substr(pos, width));
  if (!value || static_cast<int64_t>(*value) < lo || static_cast<int64_t>(*value) > hi) return false;
  *out = static_cast<int64_t>(*value);
  return true;
}

struct SignedRange {
  int64_t from;
  int64_t to;
};

// "Z", "+hh:mm" or "-hh:mm": the offset east of UTC in milliseconds.
std::optional<int64_t> parse_zone(std::string_view zone) {
  if (zone == "Z") return 0;
  int64_t h = 0;
  int64_t m = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
      !take_number(zone, 1, 2, 0, 14, &h) || !take_number(zone, 4, 2, 0, 59, &m)) {
    return std::nullopt;
  }
  int64_t ms = (h * 60 + m) * 60'000;
  return zone[0] == '-' ? -ms : ms;
}

// "hh:mm:ss[.fraction](zone)" after the 'T' of a day starting at `day_ms` (UTC midnight).
std::optional<SignedRange> parse_time(std::string_view s, int64_t day_ms) {
  int64_t h = 0;
  int64_t mi = 0;
  int64_t sec = 0;
  if (s.size() < 8 || s[2] != ':' || s[5] != ':' || !take_number(s, 0, 2, 0, 23, &h) ||
      !take_number(s, 3, 2, 0, 59, &mi) || !take_number(s, 6, 2, 0, 60, &sec)) {
    return std::nullopt;
  }
  size_t pos = 8;
  int64_t from = day_ms + ((h * 60 + mi) * 60 + sec) * 1000;
  int64_t width = 1000;
  if (pos < s.size() && s[pos] == '.') {
    size_t digits = 0;
    while (pos + 1 + digits < s.size() && s[pos + 1 + digits] >= '0' && s[pos + 1 + digits] <= '9') ++digits;
    if (digits == 0 || digits > 9) return std::nullopt;
    std::string_view fraction = s.substr(pos + 1, digits);
    std::string ms_digits(fraction.substr(0, 3));
    ms_digits.resize(3, '0');
    from += static_cast<int64_t>(*parse_decimal(ms_digits));
    // Below a millisecond: stored times are whole milliseconds, so a value with a nonzero
    // sub-millisecond part matches none exactly.
    bool sub_ms = digits > 3 && fraction.substr(3).find_first_not_of('0') != std::string_view::npos;
    width = digits >= 3 ? 1 : (digits == 1 ? 100 : 10);
    if (sub_ms) {
      from += 1;
      width = 0;
    }
    pos += 1 + digits;
  }
  auto zone = parse_zone(s.substr(pos));
  if (!zone) return std::nullopt;
  return SignedRange{from - *zone, from - *zone + width};
}

// The instants a date of any precision stands for.
std::optional<SignedRange> parse_date(std::string_view s) {
  int64_t y = 0;
  int64_t m = 0;
  int64_t d = 0;
  if (!take_number(s, 0, 4, 1, 9999, &y)) return std::nullopt;
  if (s.size() == 4) return SignedRange{days_from_civil(y, 1, 1) * kMsPerDay, days_from_civil(y + 1, 1, 1) * kMsPerDay};
  if (s[4] != '-' || !take_number(s, 5, 2, 1, 12, &m)) return std::nullopt;
  if (s.size() == 7) {
    int64_t next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
    return SignedRange{days_from_civil(y, m, 1) * kMsPerDay, next * kMsPerDay};
  }
  if (s.size() < 10 || s[7] != '-' || !take_number(s, 8, 2, 1, days_in_month(y, m), &d)) return std::nullopt;
  int64_t day_ms = days_from_civil(y, m, d) * kMsPerDay;
  if (s.size() == 10) return SignedRange{day_ms, day_ms + kMsPerDay};
  if (s[10] != 'T') return std::nullopt;
  return parse_time(s.substr(11), day_ms);
}

uint64_t clamp_ms(int64_t ms) { return ms < 0 ? 0 : static_cast<uint64_t>(ms); }

Result<uint64_t> parse_count_like(const QueryParam& p) {
  auto value = parse_decimal(p.value);
  if (!value) return Status::invalid(p.name + " must be a non-negative decimal integer");
  return *value;
}

Result<std::string> parse_patient(std::string_view value) {
  std::string_view id = value.starts_with("Patient/") ? value.substr(8) : value;
  if (!records::is_valid_id(id)) return Status::invalid("patient must be Patient/<id> or <id> with a valid FHIR id");
  return "Patient/" + std::string(id);
}

Result<std::vector<std::string>> parse_ids(std::string_view value) {
  std::vector<std::string> ids;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    std::string_view id = value.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (!records::is_valid_id(id)) return Status::invalid("_id must be a comma-separated list of valid FHIR ids");
    if (ids.size() == kMaxIds) return Status::invalid("_id lists more than " + std::to_string(kMaxIds) + " ids");
    ids.emplace_back(id);
    if (comma == std::string_view::npos) return ids;
    start = comma + 1;
  }
}

bool accepted(std::string_view name, Accepts accepts) {
  if (name == "_format") return true;
  if (accepts == Accepts::kNothing) return false;
  if (name == "_count" || name == "_offset") return true;
  if (name == "patient") return accepts == Accepts::kSearch || accepts == Accepts::kTrail;
  if (name == "_id" || name == "_lastUpdated") return accepts == Accepts::kSearch;
  return false;
}

// Applies one accepted parameter to `q`; patient and _id may be given once.
Status apply(const QueryParam& p, ParsedQuery& q) {
  if (p.name == "_format") {
    q.format = p.value;
  } else if (p.name == "_count") {
    auto count = parse_count_like(p);
    MEDSEAL_RETURN_IF_ERROR(count);
    q.paging.count = std::min(*count, kMaxCount);
  } else if (p.name == "_offset") {
    auto offset = parse_count_like(p);
    MEDSEAL_RETURN_IF_ERROR(offset);
    q.paging.offset = *offset;
  } else if (p.name == "patient") {
    if (!q.patient.empty()) return Status::invalid("patient may be given once");
    auto patient = parse_patient(p.value);
    MEDSEAL_RETURN_IF_ERROR(patient);
    q.patient = std::move(*patient);
  } else if (p.name == "_id") {
    if (!q.ids.empty()) return Status::invalid("_id may be given once (list ids with commas)");
    auto ids = parse_ids(p.value);
    MEDSEAL_RETURN_IF_ERROR(ids);
    q.ids = std::move(*ids);
  } else {  // _lastUpdated: every value must hold
    auto range = parse_last_updated(p.value);
    MEDSEAL_RETURN_IF_ERROR(range);
    q.updated.from_ms = std::max(q.updated.from_ms, range->from_ms);
    q.updated.to_ms = std::min(q.updated.to_ms, range->to_ms);
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<QueryParam>> parse_query_string(std::string_view raw) {
  std::vector<QueryParam> params;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t amp = raw.find('&', start);
    std::string_view piece = raw.substr(start, amp == std::string_view::npos ? amp : amp - start);
    start = amp == std::string_view::npos ? raw.size() + 1 : amp + 1;
    if (piece.empty()) continue;
    if (params.size() == kMaxParams) return Status::invalid("more than " + std::to_string(kMaxParams) + " query parameters");
    size_t eq = piece.find('=');
    auto name = percent_decode(piece.substr(0, eq));
    MEDSEAL_RETURN_IF_ERROR(name);
    auto value = percent_decode(eq == std::string_view::npos ? "" : piece.substr(eq + 1));
    MEDSEAL_RETURN_IF_ERROR(value);
    params.push_back({std::move(*name), std::move(*value)});
  }
  return params;
}

std::string format_query_string(const std::vector<QueryParam>& params) {
  std::string out;
  for (const QueryParam& p : params) {
    if (!out.empty()) out += '&';
    out += percent_encode(p.name) + "=" + percent_encode(p.value);
  }
  return out;
}

Result<TimeRange> parse_last_updated(std::string_view value) {
  std::string_view prefix = "eq";
  if (value.size() >= 2 && value[0] >= 'a' && value[0] <= 'z') {
    prefix = value.substr(0, 2);
    value.remove_prefix(2);
  }
  if (prefix != "eq" && prefix != "gt" && prefix != "ge" && prefix != "lt" && prefix != "le") {
    return Status::invalid("_lastUpdated prefixes are eq, gt, ge, lt and le");
  }
  auto range = parse_date(value);
  if (!range) {
    return Status::invalid("_lastUpdated must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff] with a time zone");
  }
  if (prefix == "eq") return TimeRange{clamp_ms(range->from), clamp_ms(range->to)};
  if (prefix == "gt") return TimeRange{clamp_ms(range->to), UINT64_MAX};
  if (prefix == "ge") return TimeRange{clamp_ms(range->from), UINT64_MAX};
  if (prefix == "lt") return TimeRange{0, clamp_ms(range->from)};
  return TimeRange{0, clamp_ms(range->to)};  // le
}

Result<ParsedQuery> parse_parameters(std::string_view raw, Accepts accepts) {
  auto params = parse_query_string(raw);
  MEDSEAL_RETURN_IF_ERROR(params);
  ParsedQuery q;
  for (const QueryParam& p : *params) {
    // The name is not echoed: it is client text and could be anything.
    if (!accepted(p.name, accepts)) return Status::invalid("unknown or unsupported query parameter");
    MEDSEAL_RETURN_IF_ERROR(apply(p, q));
  }
  if (accepts == Accepts::kTrail && q.patient.empty()) return Status::invalid("AuditEvent search needs patient");
  q.params = std::move(*params);
  return q;
}

bool is_json_format(std::string_view format) {
  return format == "json" || format == "application/json" || format == "application/fhir+json";
}

std::vector<QueryParam> with_paging(const std::vector<QueryParam>& params, const Paging& page) {
  std::vector<QueryParam> out;
  for (const QueryParam& p : params) {
    if (p.name != "_count" && p.name != "_offset") out.push_back(p);
  }
  out.push_back({"_count", std::to_string(page.count)});
  out.push_back({"_offset", std::to_string(page.offset)});
  return out;
}

}  // namespace medseal::server::fhir
