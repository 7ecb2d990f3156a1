// Access anomalies (DESIGN.md 2 and 7; issue 6 section 4): rules over the access entries of the
// ledger that raise "access-anomaly" alerts. Pure logic: the sentinel feeds it every access
// (0x02) and access-denied (0x03) entry it verifies as it arrives, with the entry's time; time
// here is always the entry's (Unix ms), never the wall clock, so a test can drive it by hand.
//
// Rules (evidence.rule names which one fired):
//  - many-patients: one identity touches more than `max_patients` distinct patients within a
//    sliding `window` (a search counts every patient it listed). One alert per identity per
//    window, naming up to `listed_patients` patients and the entries' indexes. Critical.
//  - outside-care-relation: a clinician's read (any op but a write) refused with rule
//    "no-relation" or "blocked". One alert per identity and patient per window. Warning.
//  - after-hours-export: one allowed access listing at least `bulk_resources` resources or
//    `bulk_patients` patients, at an entry time outside business hours (local time of this
//    process, TZ honoured): the hour h is inside when business_start <= h < business_end (a
//    range may wrap midnight; start == end means no business hours, always after hours).
//    One alert per entry. Warning.
// Break-glass and authentication-failure bursts have alerts of their own (records/service.h,
// identity/auth_limiter.h). Summaries and evidence carry identity names, Patient ids, counts and
// ledger indexes only: never purposes, reasons or record content.
//
// Not thread-safe: one feeder (the sentinel's thread).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "alerts/alert.h"
#include "records/statement.h"

namespace medseal::sentinel {

struct AccessRuleOptions {
  uint64_t max_patients = 50;          // many-patients: more than this many ...; 0 turns it off
  uint64_t window_ms = 10 * 60'000;    // ... within this window (also outside-care-relation's)
  size_t listed_patients = 20;         // patients an alert names at most
  uint64_t bulk_resources = 100;       // after-hours-export: at least this many resources ...
  uint64_t bulk_patients = 20;         // ... or this many patients; 0 turns that half off
  int business_start = 7;              // business hours [start, end), local hours 0..23
  int business_end = 19;
  bool outside_relation = true;        // outside-care-relation on or off
};

// "HH-HH" (e.g. "07-19"; "00-00": never business hours) into start and end hours; false
// for anything else.
bool parse_business_hours(const std::string& text, int* start, int* end);

class AccessRules {
 public:
  AccessRules(AccessRuleOptions options, alerts::AlertSink& sink);

  // One verified access or access-denied entry: its ledger index, the entry's time (the leaf's)
  // and its statement. Entries of other kinds must not be fed (alerts are system entries).
  void observe(uint64_t index, uint64_t time_ms, const records::Statement& statement);

  uint64_t alerts_raised() const { return alerts_raised_; }

 private:
  struct Touch {
    uint64_t time_ms;
    std::string patient;
    uint64_t index;
  };
  struct Recent {  // one identity's touches within the window
    std::deque<Touch> touches;
    std::map<std::string, size_t> patients;  // distinct patient -> touches held
    uint64_t newest_ms = 0;
    uint64_t quiet_until_ms = 0;  // no second many-patients alert before this
  };

  void many_patients(uint64_t index, uint64_t time_ms, const records::Statement& s);
  void outside_relation(uint64_t index, uint64_t time_ms, const records::Statement& s);
  void after_hours_export(uint64_t index, uint64_t time_ms, const records::Statement& s);
  void forget_idle(uint64_t time_ms);
  bool business_hour(uint64_t time_ms) const;
  void raise(alerts::Severity severity, const std::string& rule, std::string summary,
             std::vector<std::string> resources, std::vector<uint64_t> indexes,
             nlohmann::json evidence, uint64_t time_ms);

  AccessRuleOptions options_;
  alerts::AlertSink& sink_;
  std::map<std::string, Recent> recent_;                           // by identity
  std::map<std::pair<std::string, std::string>, uint64_t> refused_;  // (who, patient) -> quiet until
  uint64_t observed_ = 0;
  uint64_t alerts_raised_ = 0;
};

}  // namespace medseal::sentinel
