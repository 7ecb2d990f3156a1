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
// Who the client is travels with the request: the follower adds the client's address and the
// person of its verified client certificate, MACed with the cluster secret, and the leader
// authenticates as if the client had connected to it directly (forwarded_identity.h). So card
// holders are served by every node, and failed authentications are counted per client, not per
// follower.
//
// Over https (the default when nodes serve TLS) the follower checks the leader's certificate: it
// must chain to a certificate in `trusted_pem` (serve --cluster-ca; by default the node's own
// --tls-cert chain, so nodes sharing a certificate or an intermediate CA trust each other) or to a
// system CA, and name the advertised host. So only a node can pose as the leader.
//
// What is forwarded is the server's choice (server/http_server.cc): /fhir, /ledger/receipts and
// /ledger/statements, /forensics (its answer is an access entry) and /portal/whoami (who the leader
// takes the credentials for). /log, the portal's assets, /healthz and the alert routes (/alerts,
// /alerts/stream, /metrics: each node's own pipeline) are answered by the node itself.
//
// Limits: over plain http nothing is checked or encrypted, so the advertised addresses must then be
// on a network only the nodes reach (whoever can pose as the leader there sees forwarded requests,
// bearer tokens included, and answers them). A node's clock must be within forwarded_identity.h's
// window of the leader's. The leader's answer is read whole, within 60 s: an event stream cannot be
// forwarded, and a slower answer (a forensic report of a large store) is a 503. A request's body is
// forwarded only on /fhir (the other forwarded routes are read-only: their 405 comes from the
// leader).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/forwarded_identity.h"
#include "cluster/node_ledger.h"
#include "server/forwarding.h"
#include "storage/postgres/pg_conn.h"

namespace medseal::cluster {

class LeaderForwarder : public server::RequestForwarder {
 public:
  // `ledger` says whether this node leads (then nothing is forwarded); `store_url` is the shared
  // database, read for the leader's address. Both outlive the forwarder. `cluster_secret` proves
  // forwarded identities (storage/postgres/leadership.h, cluster_secret). `trusted_pem`: PEM
  // certificates an https leader's certificate may chain to (besides the system's CAs).
  LeaderForwarder(const NodeLedger& ledger, std::string store_url, std::string cluster_secret,
                  std::string trusted_pem = "")
      : ledger_(ledger),
        store_url_(std::move(store_url)),
        identity_(std::move(cluster_secret)),
        trusted_pem_(std::move(trusted_pem)) {}

  std::optional<server::fhir::Response> forward(const server::fhir::Request& request,
                                                std::string_view target) override;
  // Takes the client identity of a request another node forwarded, when its proof verifies.
  void identify(server::fhir::Request& request, std::string_view target,
                const std::function<std::string(std::string_view)>& header) override;

 private:
  // The leader's address, cached; "" when none is known. `refresh` forces a look-up.
  std::string leader_address(bool refresh);

  const NodeLedger& ledger_;
  std::string store_url_;
  ForwardedIdentity identity_;
  std::string trusted_pem_;
  std::mutex mu_;
  std::unique_ptr<storage::postgres::Conn> conn_;  // for look-ups, under mu_
  std::string address_;
  std::chrono::steady_clock::time_point looked_up_{};
};

}  // namespace medseal::cluster
