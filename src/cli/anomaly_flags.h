// The access-anomaly thresholds (sentinel/access_rules.h) as `medseal serve` and `medseal monitor`
// take them: one set of flags, one parser, so both programs mean the same by them.
#pragma once

#include <cstdint>
#include <string>

#include "sentinel/access_rules.h"
#include "util/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace medseal::cli {

struct AnomalyFlags {
  uint64_t max_patients = 50;         // --anomaly-patients (0: off)
  std::string window = "10m";         // --anomaly-window: N followed by s, m, h or d
  uint64_t bulk_resources = 100;      // --bulk-resources (0: off)
  uint64_t bulk_patients = 20;        // --bulk-patients (0: off)
  std::string business_hours = "07-19";  // --business-hours HH-HH, local time; 00-00: none
  bool no_outside_relation = false;   // --no-outside-relation-alerts
};

// Adds the flags above to `cmd`, documented in its --help.
void add_anomaly_flags(CLI::App* cmd, AnomalyFlags& flags);

// The rules' options; kInvalidArgument (one line naming the flag) for a malformed value.
Result<sentinel::AccessRuleOptions> access_rule_options(const AnomalyFlags& flags);

}  // namespace medseal::cli
