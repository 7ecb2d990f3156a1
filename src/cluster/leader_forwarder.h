// A follower's FHIR requests, handed to the leader over HTTP (issue 7 section 2). The leader's
// address is what it advertised in PostgreSQL (storage/postgres/leadership.h), looked up again at
// most once a second and after any failure to reach it.
//
// Why whole HTTP requests and not ledger appends: every FHIR request (a read too) authorizes,
// assigns versions and appends, all against the leader's in-memory state (record locks, care
// relations); forwarding the request keeps "exactly one wins each version" exactly as on one node,
// and the client's acknowledgement is the leader's, given only after its commit. A request whose
// leader dies in flight is answered 503 and was never acknowledged; the client may retry.
//
// Limits: requests authenticated by a client certificate are not forwarded (the leader could not
// see the certificate) and get 503 on a follower; node-to-node traffic is plain HTTP, so the
// advertised addresses must be on a network only the nodes reach.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/node_ledger.h"
#include "server/forwarding.h"
#include "storage/postgres/pg_conn.h"

namespace medseal::cluster {

class LeaderForwarder : public server::RequestForwarder {
 public:
  // `ledger` says whether this node leads (then nothing is forwarded); `store_url` is the shared
  // database, read for the leader's address. Both outlive the forwarder.
  LeaderForwarder(const NodeLedger& ledger, std::string store_url)
      : ledger_(ledger), store_url_(std::move(store_url)) {}

  std::optional<server::fhir::Response> forward(const server::fhir::Request& request,
                                                std::string_view target) override;

 private:
  // The leader's address, cached; "" when none is known. `refresh` forces a look-up.
  std::string leader_address(bool refresh);

  const NodeLedger& ledger_;
  std::string store_url_;
  std::mutex mu_;
  std::unique_ptr<storage::postgres::Conn> conn_;  // for look-ups, under mu_
  std::string address_;
  std::chrono::steady_clock::time_point looked_up_{};
};

}  // namespace medseal::cluster
