#include "cli/anomaly_flags.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace medseal::cli {

void add_anomaly_flags(CLI::App* cmd, AnomalyFlags& flags) {
  cmd->add_option("--anomaly-patients", flags.max_patients,
                  "Access anomaly: alert when one identity touches more than N distinct patients "
                  "within --anomaly-window (0: off)")
      ->capture_default_str();
  cmd->add_option("--anomaly-window", flags.window,
                  "The sliding window of --anomaly-patients, and how long refused reads outside "
                  "a care relation are coalesced (N followed by s, m, h or d)")
      ->capture_default_str();
  cmd->add_option("--bulk-resources", flags.bulk_resources,
                  "Access anomaly: alert on one read listing at least this many resources outside "
                  "--business-hours (0: off)")
      ->capture_default_str();
  cmd->add_option("--bulk-patients", flags.bulk_patients,
                  "... or at least this many patients (0: off)")
      ->capture_default_str();
  cmd->add_option("--business-hours", flags.business_hours,
                  "HH-HH, local time (TZ honoured): reads outside count as after hours; 00-00: "
                  "always after hours")
      ->capture_default_str();
  cmd->add_flag("--no-outside-relation-alerts", flags.no_outside_relation,
                "Do not alert on clinicians' reads refused outside any care relation");
}

Result<sentinel::AccessRuleOptions> access_rule_options(const AnomalyFlags& flags) {
  sentinel::AccessRuleOptions o;
  o.max_patients = flags.max_patients;
  if (!parse_duration_ms(flags.window, &o.window_ms) || o.window_ms == 0) {
    return Status::invalid("--anomaly-window must be N followed by s, m, h or d (N >= 1)");
  }
  o.bulk_resources = flags.bulk_resources;
  o.bulk_patients = flags.bulk_patients;
  if (!sentinel::parse_business_hours(flags.business_hours, &o.business_start, &o.business_end)) {
    return Status::invalid("--business-hours must be HH-HH with hours 00..23, e.g. 07-19");
  }
  o.outside_relation = !flags.no_outside_relation;
  return o;
}

}  // namespace medseal::cli
