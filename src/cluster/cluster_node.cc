#include "cluster/cluster_node.h"

#include <cstdlib>

#include "server/json_log.h"
#include "storage/postgres/leadership.h"
#include "storage/postgres/pg_store.h"

namespace medseal::cluster {

namespace {

void exit_on_lost(const Status& why) {
  server::log_json("error", "leadership lost; exiting so that a restart follows", {{"reason", why.message()}});
  std::_Exit(75);
}

}  // namespace

ClusterNode::ClusterNode(NodeLedger& ledger, note::SignerKey log_key, ClusterOptions options)
    : ledger_(ledger), key_(std::move(log_key)), options_(std::move(options)) {
  if (!options_.on_lost) options_.on_lost = exit_on_lost;
  thread_ = std::thread([this] { run(); });
}

ClusterNode::~ClusterNode() {
  stopping_ = true;
  thread_.join();
}

void ClusterNode::sleep(std::chrono::milliseconds d) const {
  for (auto left = d; left.count() > 0 && !stopping_; left -= std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
}

void ClusterNode::run() {
  while (!stopping_) {
    Status why = lead_and_watch();
    if (stopping_) return;
    if (ledger_.leads()) return options_.on_lost(why);
    // Not promoted yet (the database was unreachable, or taking over failed): try again.
    server::log_json("warning", "could not take over the leadership; retrying", {{"reason", why.message()}});
    sleep(std::chrono::seconds(1));
  }
}

void ClusterNode::append_handed_over_alerts(Result<std::unique_ptr<AlertIntake>>& intake) {
  constexpr size_t kAlertsPerWatch = 256;
  if (!intake) intake = AlertIntake::open(options_.store_url);  // the database was away: again
  Result<size_t> appended = intake ? (*intake)->drain(ledger_, kAlertsPerWatch) : Result<size_t>(intake.status());
  if (!appended) {
    server::log_json("warning", "could not append the other nodes' alerts; retrying", {{"reason", appended.status().message()}});
  }
}

Status ClusterNode::lead_and_watch() {
  using storage::postgres::Leadership;
  auto lead = Leadership::acquire(options_.store_url, options_.poll, [this] { return stopping_.load(); });
  if (!lead) return lead.status();
  MEDSEAL_RETURN_IF_ERROR((*lead)->wait_for_deposed_writers());
  storage::PostgresStoreOptions fenced;
  fenced.leader_session = (*lead)->session_pid();
  auto store = storage::open_postgres_store(options_.store_url, fenced);
  if (!store) return store.status();
  auto ledger =
      ledger::Ledger::open(**store, key_, {.batch_window = ledger::kDurableCommitBatchWindow});
  if (!ledger) return ledger.status();
  const uint64_t size = (*ledger)->head().size;
  // Before promote(): until then no request runs here (they are forwarded), so the record
  // layer reloads alone; nothing else commits meanwhile, since this node holds the lock.
  if (Status ready = options_.on_promoted(); !ready.is_ok()) return ready;
  ledger_.promote(std::move(*store), std::move(*ledger));
  MEDSEAL_RETURN_IF_ERROR((*lead)->advertise(options_.advertise));
  server::log_json("info", "leading", {{"advertise", options_.advertise}, {"size", size}});
  auto intake = AlertIntake::open(options_.store_url);
  while (!stopping_) {
    MEDSEAL_RETURN_IF_ERROR((*lead)->check());
    append_handed_over_alerts(intake);
    sleep(options_.watch);
  }
  return Status::ok();
}

}  // namespace medseal::cluster
