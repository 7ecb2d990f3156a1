// Handing requests to another node (issue 7 section 2): on a node that does not sequence, the FHIR
// API, receipts, statements, /forensics and /portal/whoami are answered by the leader, since every
// FHIR request, reads included, appends to the ledger (DESIGN.md 3, "A read"), as does a forensic
// report, and the leader authenticates them all. The server asks its forwarder first; the public log
// (/log/...), the portal's assets and the alert routes are always answered locally.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/fhir_api.h"

namespace medseal::server {

class RequestForwarder {
 public:
  virtual ~RequestForwarder() = default;
  // nullopt: this node answers `request` itself. Otherwise the answer to give the client: the
  // leader's, or 503 when no leader could be reached (nothing was acknowledged, the client may
  // retry). `target` is the request target as sent (path and query, not decoded).
  virtual std::optional<fhir::Response> forward(const fhir::Request& request, std::string_view target) = 0;
  // Called before forward(): a request another node forwarded may say who its client is
  // (cluster/forwarded_identity.h); when that is proven, `request`'s source and certificate_person
  // become the client's. `header` gives a request header's value by name ("" when absent).
  virtual void identify(fhir::Request& /*request*/, std::string_view /*target*/,
                        const std::function<std::string(std::string_view)>& /*header*/) {}
};

}  // namespace medseal::server
