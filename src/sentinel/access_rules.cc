#include "sentinel/access_rules.h"

#include <time.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "util/time_format.h"

namespace medseal::sentinel {
namespace {

constexpr size_t kMaxTouchesPerIdentity = 1 << 20;  // bounds memory for one runaway identity
constexpr size_t kMaxListedIndexes = 1000;
constexpr uint64_t kSweepEvery = 4096;  // observations between sweeps of idle identities

bool is_write(const std::string& op) {
  return op == "create" || op == "update" || op == "delete" || op == "transaction";
}

bool two_digit_hour(std::string_view text, int* hour) {
  if (text.size() != 2 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return false;
  }
  *hour = (text[0] - '0') * 10 + (text[1] - '0');
  return *hour <= 23;
}

std::string minutes(uint64_t ms) {
  return ms % 60'000 == 0 ? std::to_string(ms / 60'000) + " min" : std::to_string(ms) + " ms";
}

}  // namespace

bool parse_business_hours(const std::string& text, int* start, int* end) {
  if (text.size() != 5 || text[2] != '-') return false;
  int s = 0, e = 0;
  if (!two_digit_hour(std::string_view(text).substr(0, 2), &s) ||
      !two_digit_hour(std::string_view(text).substr(3, 2), &e)) {
    return false;
  }
  *start = s;
  *end = e;
  return true;
}

AccessRules::AccessRules(AccessRuleOptions options, alerts::AlertSink& sink)
    : options_(options), sink_(sink) {}

void AccessRules::observe(uint64_t index, uint64_t time_ms, const records::Statement& s) {
  if (s.denied) {
    outside_relation(index, time_ms, s);
  } else {
    many_patients(index, time_ms, s);
    after_hours_export(index, time_ms, s);
  }
  if (++observed_ % kSweepEvery == 0) forget_idle(time_ms);
}

void AccessRules::raise(alerts::Severity severity, const std::string& rule, std::string summary,
                        std::vector<std::string> resources, std::vector<uint64_t> indexes,
                        nlohmann::json evidence, uint64_t time_ms) {
  alerts::Alert a = alerts::make_alert(severity, "access-anomaly", std::move(summary));
  a.resources = std::move(resources);
  a.indexes = std::move(indexes);
  evidence["rule"] = rule;
  evidence["entry_time"] = format_instant(time_ms);
  a.evidence = std::move(evidence);
  sink_.raise(a);
  ++alerts_raised_;
}

void AccessRules::many_patients(uint64_t index, uint64_t time_ms, const records::Statement& s) {
  if (options_.max_patients == 0 || s.patients.empty()) return;
  Recent& r = recent_[s.who];
  r.newest_ms = std::max(r.newest_ms, time_ms);
  for (const std::string& p : s.patients) {
    r.touches.push_back({time_ms, p, index});
    ++r.patients[p];
  }
  // Slide: drop what fell out of the window (or beyond the memory bound).
  const uint64_t oldest = r.newest_ms >= options_.window_ms ? r.newest_ms - options_.window_ms : 0;
  while (!r.touches.empty() &&
         (r.touches.front().time_ms < oldest || r.touches.size() > kMaxTouchesPerIdentity)) {
    auto it = r.patients.find(r.touches.front().patient);
    if (--it->second == 0) r.patients.erase(it);
    r.touches.pop_front();
  }
  if (r.patients.size() <= options_.max_patients || time_ms < r.quiet_until_ms) return;
  r.quiet_until_ms = time_ms + options_.window_ms;
  std::vector<std::string> named;
  std::set<uint64_t> indexes;
  for (const Touch& t : r.touches) {
    if (named.size() < options_.listed_patients &&
        std::find(named.begin(), named.end(), t.patient) == named.end()) {
      named.push_back(t.patient);
    }
    if (indexes.size() < kMaxListedIndexes) indexes.insert(t.index);
  }
  const size_t count = r.patients.size();
  raise(alerts::Severity::kCritical, "many-patients",
        s.who + " touched " + std::to_string(count) + " distinct patients within " +
            minutes(options_.window_ms) + " (threshold " + std::to_string(options_.max_patients) +
            ")",
        std::move(named), {indexes.begin(), indexes.end()},
        {{"who", s.who},
         {"role", s.role},
         {"patients", count},
         {"threshold", options_.max_patients},
         {"window_ms", options_.window_ms},
         {"first_time", format_instant(r.touches.front().time_ms)}},
        time_ms);
}

void AccessRules::outside_relation(uint64_t index, uint64_t time_ms, const records::Statement& s) {
  if (!options_.outside_relation || s.role != "clinician" || is_write(s.op)) return;
  if (s.rule != "no-relation" && s.rule != "blocked") return;
  std::vector<std::string> fresh;
  for (const std::string& p : s.patients) {
    uint64_t& quiet_until = refused_[{s.who, p}];
    if (time_ms < quiet_until) continue;
    quiet_until = time_ms + options_.window_ms;
    fresh.push_back(p);
  }
  if (fresh.empty()) return;
  std::string names;
  for (const std::string& p : fresh) names += (names.empty() ? "" : ", ") + p;
  raise(alerts::Severity::kWarning, "outside-care-relation",
        s.who + " was refused reading " + names + " outside any care relation (" + s.rule + ")",
        fresh, {index}, {{"who", s.who}, {"role", s.role}, {"op", s.op}, {"decided_by", s.rule}},
        time_ms);
}

bool AccessRules::business_hour(uint64_t time_ms) const {
  const time_t secs = static_cast<time_t>(time_ms / 1000);
  tm local{};
  localtime_r(&secs, &local);  // honours TZ
  const int h = local.tm_hour, start = options_.business_start, end = options_.business_end;
  if (start == end) return false;
  return start < end ? (h >= start && h < end) : (h >= start || h < end);
}

void AccessRules::after_hours_export(uint64_t index, uint64_t time_ms,
                                     const records::Statement& s) {
  const bool bulk =
      (options_.bulk_resources > 0 && s.resources.size() >= options_.bulk_resources) ||
      (options_.bulk_patients > 0 && s.patients.size() >= options_.bulk_patients);
  if (!bulk || business_hour(time_ms)) return;
  std::vector<std::string> named(
      s.patients.begin(),
      s.patients.begin() + static_cast<ptrdiff_t>(std::min(s.patients.size(), options_.listed_patients)));
  raise(alerts::Severity::kWarning, "after-hours-export",
        s.who + " read " + std::to_string(s.resources.size()) + " resources of " +
            std::to_string(s.patients.size()) + " patients in one request outside business hours",
        std::move(named), {index},
        {{"who", s.who},
         {"role", s.role},
         {"op", s.op},
         {"resources", s.resources.size()},
         {"patients", s.patients.size()},
         {"business_hours", {options_.business_start, options_.business_end}}},
        time_ms);
}

void AccessRules::forget_idle(uint64_t time_ms) {
  const uint64_t oldest = time_ms >= options_.window_ms ? time_ms - options_.window_ms : 0;
  std::erase_if(recent_, [&](const auto& kv) { return kv.second.newest_ms < oldest; });
  std::erase_if(refused_, [&](const auto& kv) { return kv.second <= time_ms; });
}

}  // namespace medseal::sentinel
