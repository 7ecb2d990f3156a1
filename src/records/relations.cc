#include "records/relations.h"

#include <mutex>

#include "records/json_scan.h"
#include "records/resource.h"
#include "records/statement.h"

namespace medseal::records {
namespace {

constexpr uint64_t kDayMs = 24ULL * 3600 * 1000;
constexpr uint64_t kPage = 1000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The decimal of text[at, at + n), or -1.
int digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

std::optional<int64_t> date_ms(int y, int m, int d) {
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) *
         static_cast<int64_t>(kDayMs);
}

// The time of day and zone after 'T': "hh:mm[:ss[.fff]](Z|+hh:mm|-hh:mm)", as an offset in ms.
std::optional<int64_t> time_of_day_ms(std::string_view t) {
  const int hh = digits(t, 0, 2), mm = digits(t, 3, 2);
  if (hh < 0 || mm < 0 || t.size() < 6 || t[2] != ':' || hh > 23 || mm > 59) return std::nullopt;
  int64_t ms = (hh * 60 + mm) * 60000LL;
  size_t at = 5;
  if (at < t.size() && t[at] == ':') {
    const int ss = digits(t, at + 1, 2);
    if (ss < 0 || ss > 60) return std::nullopt;
    ms += ss * 1000LL;
    at += 3;
    if (at < t.size() && t[at] == '.') {
      ++at;
      while (at < t.size() && t[at] >= '0' && t[at] <= '9') ++at;  // sub-second: ignored
    }
  }
  std::string_view zone = t.substr(at);
  if (zone == "Z") return ms;
  const int zh = digits(zone, 1, 2), zm = digits(zone, 4, 2);
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || zh < 0 || zm < 0) {
    return std::nullopt;
  }
  const int64_t offset = (zh * 60 + zm) * 60000LL;
  return zone[0] == '+' ? ms - offset : ms + offset;
}

// Reads a resource's relation fields from one strict scan (records/json_scan.h): no DOM of the
// whole resource is built, since only a few members are read.
class Fields {
 public:
  // No such node. Not json::kNone, which is also the root's index.
  static constexpr uint32_t kAbsent = UINT32_MAX;

  explicit Fields(const json::Document& doc) : doc_(doc) {}

  // The member `key` of `object`, kAbsent when absent or `object` is absent or not an object.
  uint32_t member(uint32_t object, const char* key) const {
    if (object == kAbsent) return kAbsent;
    const uint32_t found = doc_.member(object, key);
    return found == json::kNone ? kAbsent : found;
  }
  bool is(uint32_t node, json::Kind kind) const {
    return node != kAbsent && doc_.node(node).kind == kind;
  }
  // The string value of `object`'s member `key`, "" when absent or not a string.
  std::string string_at(uint32_t object, const char* key) const {
    const uint32_t n = member(object, key);
    return is(n, json::Kind::kString) ? doc_.string_value(n) : std::string();
  }

  // [from, to) of a FHIR Period (absent: always), with `grace` added to its end; nullopt when a
  // bound is malformed (a malformed period grants nothing).
  std::optional<std::pair<uint64_t, uint64_t>> period_of(uint32_t period, uint64_t grace) const {
    std::pair<uint64_t, uint64_t> window{0, UINT64_MAX};
    if (!is(period, json::Kind::kObject)) return window;
    if (std::string start = string_at(period, "start"); !start.empty()) {
      auto t = parse_fhir_time(start, false);
      if (!t) return std::nullopt;
      window.first = *t;
    }
    if (std::string end = string_at(period, "end"); !end.empty()) {
      auto t = parse_fhir_time(end, true);
      if (!t) return std::nullopt;
      window.second = *t + grace;
    }
    return window;
  }

  // The actor references named at `outer` -> `inner` inside each element of `list`, e.g.
  // participant[] -> individual -> reference.
  std::vector<std::string> references_in(uint32_t list, const char* outer, const char* inner) const {
    std::vector<std::string> out;
    if (!is(list, json::Kind::kArray)) return out;
    for (uint32_t item = doc_.first_child(list); item != json::kNone; item = doc_.next_sibling(item)) {
      const uint32_t ref = member(item, outer);
      if (!is(ref, json::Kind::kObject)) continue;
      std::string value = string_at(ref, inner);
      if (!value.empty()) out.push_back(std::move(value));
    }
    return out;
  }

 private:
  const json::Document& doc_;
};

struct Extracted {
  RelationKind kind = RelationKind::kNone;
  std::vector<std::string> actors;
  std::optional<std::pair<uint64_t, uint64_t>> window;
};

Extracted extract(const storage::RecordVersion& v, uint64_t follow_up_ms) {
  Extracted e;
  if (v.deleted || v.compartment.empty()) return e;
  Result<json::Document> doc = json::Document::scan(v.bytes, kMaxDepth);
  if (!doc || doc->node(json::Document::root()).kind != json::Kind::kObject) return e;
  const Fields f(*doc);
  const uint32_t root = json::Document::root();
  const std::string status = f.string_at(root, "status");
  if (v.type == "Encounter") {
    if (status == "cancelled" || status == "entered-in-error") return e;
    e.kind = RelationKind::kCare;
    e.actors = f.references_in(f.member(root, "participant"), "individual", "reference");
    e.window = f.period_of(f.member(root, "period"), follow_up_ms);
  } else if (v.type == "CareTeam") {
    if (status != "active") return e;
    e.kind = RelationKind::kCare;
    e.actors = f.references_in(f.member(root, "participant"), "member", "reference");
    e.window = f.period_of(f.member(root, "period"), 0);
  } else if (v.type == "Consent") {
    const uint32_t provision = f.member(root, "provision");
    if (status != "active" || !f.is(provision, json::Kind::kObject)) return e;
    const std::string type = f.string_at(provision, "type");
    if (type != "permit" && type != "deny") return e;
    e.kind = type == "permit" ? RelationKind::kConsent : RelationKind::kBlock;
    e.actors = f.references_in(f.member(provision, "actor"), "reference", "reference");
    e.window = f.period_of(f.member(provision, "period"), 0);
  }
  return e;
}

// Higher wins when several relations hold.
int strength(RelationKind kind) {
  switch (kind) {
    case RelationKind::kBlock: return 4;
    case RelationKind::kCare: return 3;
    case RelationKind::kRegistration: return 2;
    case RelationKind::kConsent: return 1;
    case RelationKind::kNone: break;
  }
  return 0;
}

std::string source_of(const storage::RecordVersion& v) { return v.type + "/" + v.id; }

}  // namespace

std::optional<uint64_t> parse_fhir_time(std::string_view text, bool end) {
  const int y = digits(text, 0, 4);
  if (y < 0) return std::nullopt;
  int m = 1, d = 1;
  if (text.size() == 4) {
    auto t = date_ms(y, 1, 1);
    auto next = date_ms(y + 1, 1, 1);
    if (!t) return std::nullopt;
    return static_cast<uint64_t>(end ? *next : *t);
  }
  m = digits(text, 5, 2);
  if (text.size() < 7 || text[4] != '-' || m < 0) return std::nullopt;
  if (text.size() == 7) {
    auto t = date_ms(y, m, 1);
    auto next = m == 12 ? date_ms(y + 1, 1, 1) : date_ms(y, m + 1, 1);
    if (!t || !next) return std::nullopt;
    return static_cast<uint64_t>(end ? *next : *t);
  }
  d = digits(text, 8, 2);
  if (text.size() < 10 || text[7] != '-' || d < 0) return std::nullopt;
  auto day = date_ms(y, m, d);
  if (!day) return std::nullopt;
  if (text.size() == 10) return static_cast<uint64_t>(end ? *day + static_cast<int64_t>(kDayMs) : *day);
  if (text[10] != 'T') return std::nullopt;
  auto tod = time_of_day_ms(text.substr(11));
  if (!tod || *day + *tod < 0) return std::nullopt;
  return static_cast<uint64_t>(*day + *tod + (end ? 1000 : 0));  // an end second is inclusive
}

Status RelationIndex::load(storage::Store& store,
                           const std::function<std::string(std::string_view)>& actor_of) {
  for (const char* type : {"Encounter", "CareTeam", "Consent", "Patient"}) {
    for (uint64_t offset = 0;;) {
      storage::RecordQuery q{type};
      q.offset = offset;
      q.limit = kPage;
      Result<storage::RecordPage> page = store.search_records(q);
      if (!page) return page.status();
      for (const storage::RecordVersion& v : page->records) {
        std::string registrant;
        if (v.type == "Patient") {
          Result<storage::RecordVersion> first = store.read_record(v.type, v.id, 1);
          if (!first) return first.status();
          Result<storage::EntryExtra> extra = store.read_extra(first->ledger_index);
          Result<Statement> s = extra ? parse_statement(extra->statement) : extra.status();
          if (s) registrant = actor_of(s->who);  // an erased statement registers nobody
          apply(*first, registrant);
        }
        apply(v, "");
      }
      offset += page->records.size();
      if (page->records.empty() || offset >= page->total) break;
    }
  }
  return Status::ok();
}

void RelationIndex::apply(const storage::RecordVersion& v, std::string_view registrant) {
  const bool relates = v.type == "Encounter" || v.type == "CareTeam" || v.type == "Consent";
  // Most records establish nothing: they neither build a name nor wait for the writer lock.
  if (v.type != "Patient" && !relates) return;
  const std::string source = source_of(v);
  std::unique_lock lock(mu_);
  if (v.type == "Patient") {
    if (v.deleted) patients_.erase(source);
    else patients_.insert(source);
    if (v.version == 1 && !registrant.empty()) {
      add_locked(std::string(registrant), source, "registration:" + source,
                 Grant{RelationKind::kRegistration, v.updated_ms,
                       v.updated_ms + options_.registration_window_ms});
    }
    return;
  }
  remove_source_locked(source);
  Extracted e = extract(v, options_.follow_up_ms);
  if (e.kind == RelationKind::kNone || !e.window) return;
  for (const std::string& actor : e.actors) {
    add_locked(actor, v.compartment, source, Grant{e.kind, e.window->first, e.window->second});
  }
}

void RelationIndex::remove_source_locked(const std::string& source) {
  auto it = by_source_.find(source);
  if (it == by_source_.end()) return;
  for (const Key& key : it->second) {
    auto g = grants_.find(key);
    if (g == grants_.end()) continue;
    g->second.erase(source);
    if (g->second.empty()) grants_.erase(g);
  }
  by_source_.erase(it);
}

void RelationIndex::add_locked(const std::string& actor, const std::string& patient,
                               const std::string& source, Grant grant) {
  Key key{actor, patient};
  auto [it, inserted] = grants_[key].insert_or_assign(source, grant);
  (void)it;
  if (inserted) by_source_[source].push_back(std::move(key));
}

Relation RelationIndex::lookup(const std::vector<std::string>& actors, std::string_view patient,
                               uint64_t now_ms) const {
  Relation best;
  std::shared_lock lock(mu_);
  for (const std::string& actor : actors) {
    auto it = grants_.find(Key{actor, std::string(patient)});
    if (it == grants_.end()) continue;
    for (const auto& [source, grant] : it->second) {
      if (now_ms < grant.from_ms || now_ms >= grant.to_ms) continue;
      if (strength(grant.kind) > strength(best.kind)) best = Relation{grant.kind, source};
    }
  }
  return best;
}

bool RelationIndex::patient_exists(std::string_view patient) const {
  std::shared_lock lock(mu_);
  return patients_.find(patient) != patients_.end();
}

}  // namespace medseal::records
