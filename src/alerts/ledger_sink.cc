#include "alerts/ledger_sink.h"

namespace medseal::alerts {

std::string alert_statement(const Alert& alert) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["op"] = "alert";
  j["time"] = alert.time_ms;
  j["id"] = alert.id;
  j["kind"] = alert.kind;
  j["severity"] = severity_name(alert.severity);
  if (!alert.summary.empty()) j["summary"] = alert.summary;
  if (!alert.resources.empty()) j["resources"] = alert.resources;
  if (!alert.indexes.empty()) j["indexes"] = alert.indexes;
  // A URL a peer sent may be invalid UTF-8: replaced, never thrown about.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Status LedgerDestination::deliver(const Alert& alert) {
  ledger::AppendRequest request;
  request.kind = ledger::EntryKind::kSystem;
  request.statement = alert_statement(alert);
  request.time_ms = alert.time_ms;
  auto index = ledger_.append(std::move(request));
  return index ? Status::ok() : index.status();
}

}  // namespace medseal::alerts
