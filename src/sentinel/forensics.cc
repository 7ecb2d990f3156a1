#include "sentinel/forensics.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <utility>

#include "identity/identity.h"
#include "ledger/entry.h"
#include "ledger/store_tiles.h"
#include "merkle/tile.h"
#include "records/resource.h"
#include "records/statement.h"
#include "sentinel/store_view.h"
#include "storage/extras_codec.h"
#include "util/bytes.h"
#include "util/time_format.h"

namespace medseal::sentinel {
namespace {

constexpr size_t kMaxAlteredRows = 100'000;  // one row per index of a huge truncation is enough
constexpr uint64_t kBundlesPerSnapshot = 64;

// The digits of text[at, at + n) as a number; false if any is not a digit.
bool digits(std::string_view text, size_t at, size_t n, int* out) {
  if (at + n > text.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<uint64_t> parse_rfc3339(std::string_view t) {
  int year, month, day, hour, minute, second;
  if (!digits(t, 0, 4, &year) || t.size() < 20 || t[4] != '-' || !digits(t, 5, 2, &month) ||
      t[7] != '-' || !digits(t, 8, 2, &day) || (t[10] != 'T' && t[10] != 't') ||
      !digits(t, 11, 2, &hour) || t[13] != ':' || !digits(t, 14, 2, &minute) || t[16] != ':' ||
      !digits(t, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t at = 19;
  uint64_t ms = 0;
  if (t[at] == '.') {
    size_t n = 0;
    uint64_t scale = 100;
    for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at, ++n) {
      ms += static_cast<uint64_t>(t[at] - '0') * scale;
      scale /= 10;
    }
    if (n == 0 || n > 9) return std::nullopt;
  }
  int64_t offset_s = 0;
  std::string_view zone = t.substr(std::min(at, t.size()));
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh, om;
    if (!digits(zone, 1, 2, &oh) || !digits(zone, 4, 2, &om) || oh > 23 || om > 59) return std::nullopt;
    offset_s = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                       std::min(second, 59) - offset_s;
  if (secs < 0) return std::nullopt;
  return static_cast<uint64_t>(secs) * 1000 + ms;
}

bool is_hash(const nlohmann::json& j) {
  if (!j.is_string()) return false;
  const std::string& s = j.get_ref<const std::string&>();
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<std::string> hash_in(const nlohmann::json& evidence, const char* field) {
  if (!evidence.is_object() || !evidence.contains(field) || !is_hash(evidence[field])) {
    return std::nullopt;
  }
  return evidence[field].get<std::string>();
}

// One row per finding and index (a finding naming no entry: one row with no index).
void add_altered(const alerts::Alert& a, std::vector<AlteredRow>& out) {
  const bool paired = a.resources.size() == a.indexes.size();
  std::optional<std::string> resource;
  if (!a.resources.empty()) {
    std::string joined;
    for (const std::string& r : a.resources) joined += (joined.empty() ? "" : ", ") + r;
    resource = joined;
  }
  AlteredRow row{std::nullopt, a.kind, resource, hash_in(a.evidence, "expected"),
                 hash_in(a.evidence, "found"), a.summary};
  if (a.indexes.empty()) {
    out.push_back(std::move(row));
    return;
  }
  for (size_t i = 0; i < a.indexes.size() && out.size() < kMaxAlteredRows; ++i) {
    row.index = a.indexes[i];
    if (paired) row.resource = a.resources[i];
    out.push_back(row);
  }
}

bool wanted(const ForensicsQuery& q, uint64_t time_ms, const records::Statement& s) {
  if (q.since_ms && time_ms < *q.since_ms) return false;
  if (q.until_ms && time_ms > *q.until_ms) return false;
  if (!q.identity.empty() && s.who != q.identity) return false;
  if (!q.patient.empty() &&
      std::find(s.patients.begin(), s.patients.end(), q.patient) == s.patients.end()) {
    return false;
  }
  return true;
}

struct Erasure {
  uint64_t by = 0;       // the erasure entry's index
  std::string resource;  // Type/id
};

// What one walk over the entries finds: the accesses asked for and the erasures.
struct Walk {
  std::vector<AccessRow> accesses;
  std::map<uint64_t, Erasure> erased;
};

class EntryWalker {
 public:
  EntryWalker(SentinelView& view, const ForensicsQuery& query) : view_(view), query_(query) {}

  Status walk(uint64_t size, Walk& out) {
    for (uint64_t b = 0; b * merkle::kTileWidth < size; b += kBundlesPerSnapshot) {
      MEDSEAL_RETURN_IF_ERROR(view_.begin_snapshot());
      Status s = Status::ok();
      for (uint64_t i = b; s && i < b + kBundlesPerSnapshot && i * merkle::kTileWidth < size; ++i) {
        s = bundle(i, size, out);
      }
      view_.end_snapshot();
      MEDSEAL_RETURN_IF_ERROR(s);
    }
    return Status::ok();
  }

  // The commitment entry `index` holds in its bundle, hex; nullopt if it cannot be read.
  Result<std::optional<std::string>> commitment_at(uint64_t index, uint64_t size) {
    std::vector<std::string> leaves;
    MEDSEAL_RETURN_IF_ERROR(view_.begin_snapshot());
    Status s = read_leaves(index / merkle::kTileWidth, size, leaves);
    view_.end_snapshot();
    MEDSEAL_RETURN_IF_ERROR(s);
    const uint64_t at = index % merkle::kTileWidth;
    if (at >= leaves.size()) return std::optional<std::string>();
    Result<ledger::Entry> entry = ledger::parse_entry(leaves[at]);
    if (!entry) return std::optional<std::string>();
    return std::optional<std::string>(hex_encode(entry->commitment));
  }

 private:
  // The leaves of bundle `b`; none when it is missing or malformed (the verification pass names
  // it).
  Status read_leaves(uint64_t b, uint64_t size, std::vector<std::string>& out) {
    Result<std::optional<storage::StoredTile>> stored = view_.tile(true, 0, b);
    if (!stored) return stored.status();
    if (!*stored) return Status::ok();
    Result<std::string> cut =
        ledger::cut_tile({true, 0, b, merkle::tile_width(0, b, size)}, (*stored)->bytes);
    if (!cut) return Status::ok();
    Result<std::vector<std::string_view>> leaves = merkle::parse_entry_bundle(*cut);
    if (leaves) out.assign(leaves->begin(), leaves->end());
    return Status::ok();
  }

  Status bundle(uint64_t b, uint64_t size, Walk& out) {
    const uint64_t first = b * merkle::kTileWidth;
    const uint32_t width = merkle::tile_width(0, b, size);
    std::vector<std::string> leaves;
    MEDSEAL_RETURN_IF_ERROR(read_leaves(b, size, leaves));
    if (leaves.empty()) return Status::ok();
    Result<std::vector<ExtrasRow>> extras = view_.extras(first, first + width);
    if (!extras) return extras.status();
    for (uint64_t i = 0; i < leaves.size(); ++i) {
      Result<ledger::Entry> entry = ledger::parse_entry(leaves[i]);
      if (entry) visit(first + i, *entry, *extras, out);
    }
    return Status::ok();
  }

  void visit(uint64_t index, const ledger::Entry& entry, const std::vector<ExtrasRow>& runs,
             Walk& out) {
    using ledger::EntryKind;
    const bool access = entry.kind == EntryKind::kAccess || entry.kind == EntryKind::kAccessDenied;
    if (!access && entry.kind != EntryKind::kSystem) return;
    Result<records::Statement> s = statement_at(index, runs);
    if (!s) return;
    if (entry.kind == EntryKind::kSystem) {
      if (s->op != "erase" || s->denied) return;
      for (uint64_t e : s->erased) {
        out.erased[e] = {index, s->resources.empty() ? std::string() : s->resources.front()};
      }
      return;
    }
    if (!wanted(query_, entry.time_ms, *s)) return;
    out.accesses.push_back({index, entry.time_ms, s->who, s->role, s->op, s->denied, s->rule,
                            s->purpose, s->resources, s->patients});
  }

  static Result<records::Statement> statement_at(uint64_t index, const std::vector<ExtrasRow>& runs) {
    for (const ExtrasRow& r : runs) {
      if (r.first_index > index || index - r.first_index >= r.count) continue;
      Result<storage::EntryExtra> extra = storage::decode_extra_at(r.data, index - r.first_index);
      if (!extra) return extra.status();
      return records::parse_statement(extra->statement);
    }
    return Status::not_found("no extras");
  }

  SentinelView& view_;
  const ForensicsQuery& query_;
};

// Per patient and per identity: allowed accesses, first and last.
void summarize(ForensicsReport& report) {
  std::map<std::string, Touches> patients;
  std::map<std::pair<std::string, std::string>, Touches> identities;
  auto touch = [](Touches& t, uint64_t time_ms) {
    t.first_ms = t.accesses == 0 ? time_ms : std::min(t.first_ms, time_ms);
    t.last_ms = std::max(t.last_ms, time_ms);
    ++t.accesses;
  };
  for (const AccessRow& a : report.accesses) {
    if (a.denied) continue;
    for (const std::string& p : a.patients) {
      Touches& t = patients[p];
      t.who = p;
      touch(t, a.time_ms);
    }
    Touches& t = identities[{a.who, a.role}];
    t.who = a.who;
    t.role = a.role;
    touch(t, a.time_ms);
  }
  auto by_count = [](const Touches& x, const Touches& y) {
    return x.accesses != y.accesses ? x.accesses > y.accesses : x.who < y.who;
  };
  for (auto& [p, t] : patients) report.patients.push_back(std::move(t));
  for (auto& [k, t] : identities) report.identities.push_back(std::move(t));
  std::sort(report.patients.begin(), report.patients.end(), by_count);
  std::sort(report.identities.begin(), report.identities.end(), by_count);
}

nlohmann::json optional_json(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json optional_time(const std::optional<uint64_t>& ms) {
  return ms ? nlohmann::json(format_instant(*ms)) : nlohmann::json(nullptr);
}

}  // namespace

std::optional<uint64_t> parse_time(std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return ms;
  }
  return parse_rfc3339(text);
}

Status check_query(const ForensicsQuery& q) {
  if (!q.identity.empty() && !q.patient.empty()) {
    return Status::invalid("give at most one of identity and patient");
  }
  if (!q.identity.empty() &&
      !identity::check_identity({q.identity, identity::Role::kClinician, ""})) {
    return Status::invalid("identity: not a valid identity name");
  }
  if (!q.patient.empty() &&
      (!q.patient.starts_with("Patient/") || !records::is_valid_id(q.patient.substr(8)))) {
    return Status::invalid("patient must be Patient/<id>");
  }
  if (q.since_ms && q.until_ms && *q.since_ms > *q.until_ms) {
    return Status::invalid("since is after until");
  }
  return Status::ok();
}

size_t ForensicsReport::findings() const {
  return static_cast<size_t>(
      std::count_if(altered.begin(), altered.end(), [](const AlteredRow& r) { return !r.erased(); }));
}

std::vector<std::string> ForensicsReport::patients_named() const {
  std::set<std::string> all;
  for (const AccessRow& a : accesses) all.insert(a.patients.begin(), a.patients.end());
  for (const Touches& t : patients) all.insert(t.who);
  if (!query.patient.empty()) all.insert(query.patient);
  return {all.begin(), all.end()};
}

Result<ForensicsReport> build_forensics(const SentinelOptions& store, const ForensicsQuery& query,
                                        uint64_t now_ms) {
  MEDSEAL_RETURN_IF_ERROR(check_query(query));
  ForensicsReport report;
  report.generated_ms = now_ms;
  report.query = query;

  SentinelOptions options = store;
  options.save_state = false;
  options.coalesce = false;
  options.access_rules.reset();
  alerts::MemorySink found;
  Result<FullPassReport> pass = verify_store(options, found, nullptr);
  if (!pass) return pass.status();
  for (const alerts::Alert& a : found.alerts()) add_altered(a, report.altered);

  Result<std::unique_ptr<SentinelView>> view = open_sentinel_view(store.db_path);
  if (!view) return view.status();
  MEDSEAL_RETURN_IF_ERROR((*view)->begin_snapshot());
  Result<storage::LogHead> head = (*view)->head();
  (*view)->end_snapshot();
  if (!head) return head.status();
  Walk walk;
  EntryWalker walker(**view, query);
  MEDSEAL_RETURN_IF_ERROR(walker.walk(head->size, walk));
  for (const auto& [index, e] : walk.erased) {
    Result<std::optional<std::string>> committed = walker.commitment_at(index, head->size);
    if (!committed) return committed.status();
    report.altered.push_back(
        {index, "erased", e.resource.empty() ? std::nullopt : std::optional<std::string>(e.resource),
         *committed, std::nullopt,
         "erased by ledger entry " + std::to_string(e.by) + " (a legitimate erasure)"});
  }
  report.accesses = std::move(walk.accesses);
  summarize(report);
  return report;
}

nlohmann::json to_json(const ForensicsReport& r) {
  nlohmann::json filter = nlohmann::json::object();
  if (!r.query.identity.empty()) filter["identity"] = r.query.identity;
  if (!r.query.patient.empty()) filter["patient"] = r.query.patient;
  nlohmann::json altered = nlohmann::json::array();
  for (const AlteredRow& a : r.altered) {
    altered.push_back({{"index", a.index ? nlohmann::json(*a.index) : nlohmann::json(nullptr)},
                       {"kind", a.kind},
                       {"resource", optional_json(a.resource)},
                       {"committed", optional_json(a.committed)},
                       {"found", optional_json(a.found)},
                       {"summary", a.summary}});
  }
  nlohmann::json accesses = nlohmann::json::array();
  for (const AccessRow& a : r.accesses) {
    accesses.push_back({{"index", a.index},
                        {"time", format_instant(a.time_ms)},
                        {"who", a.who},
                        {"role", a.role},
                        {"op", a.op},
                        {"outcome", a.denied ? "denied" : "ok"},
                        {"rule", a.rule},
                        {"purpose", a.purpose},
                        {"resources", a.resources},
                        {"patients", a.patients}});
  }
  nlohmann::json patients = nlohmann::json::array();
  for (const Touches& t : r.patients) {
    patients.push_back({{"patient", t.who},
                        {"accesses", t.accesses},
                        {"first", format_instant(t.first_ms)},
                        {"last", format_instant(t.last_ms)}});
  }
  nlohmann::json identities = nlohmann::json::array();
  for (const Touches& t : r.identities) {
    identities.push_back({{"who", t.who},
                          {"role", t.role},
                          {"accesses", t.accesses},
                          {"first", format_instant(t.first_ms)},
                          {"last", format_instant(t.last_ms)}});
  }
  return {{"generated", format_instant(r.generated_ms)},
          {"since", optional_time(r.query.since_ms)},
          {"until", optional_time(r.query.until_ms)},
          {"filter", std::move(filter)},
          {"altered", std::move(altered)},
          {"accesses", std::move(accesses)},
          {"patients", std::move(patients)},
          {"identities", std::move(identities)}};
}

}  // namespace medseal::sentinel
