// Who the client of a forwarded request is (issue 7 section 2). A follower hands whole requests to
// the leader (leader_forwarder.h), so the leader sees the follower's connection: not the client's
// address (failed authentications would be counted and limited per follower, not per client) and
// not the client's certificate (a card holder would be nobody). So the follower sends what it knows
// of its client — the address it connected from and the person of the client certificate its TLS
// layer verified — in X-Medseal-Forwarded-For and -Person, with X-Medseal-Forwarded-Proof:
// "v1 <unix ms> <nonce> <mac>", the MAC being HMAC-SHA256 with the cluster secret over the time,
// the nonce, the method, the target, the headers the follower passes on that bear on what is done
// (Authorization, Accept, Content-Type, If-Match, purpose, break-glass; not Host, which only shapes
// absolute URLs and which the HTTP library writes when the client sent none), the body's SHA-256
// and the two forwarded values, each length-prefixed.
//
// The leader takes the forwarded values only with a valid MAC whose time is within
// kForwardedWindow of its own clock (the nodes' clocks must agree that closely) and whose nonce it
// has not seen before (a replay is refused); then it authenticates exactly as if the client had
// connected to it directly. Otherwise the headers are ignored and the request is the connection's
// own, so a client that sends them itself gains nothing.
//
// The secret is 32 random bytes the first node generates into the shared database and every node
// reads at start (storage/postgres/leadership.h, cluster_secret): whoever can read it can already
// change the ledger's tables, so the database credentials stay the trust boundary.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/fhir_api.h"
#include "util/clock.h"
#include "util/status.h"

namespace medseal::cluster {

inline constexpr std::string_view kForwardedForHeader = "X-Medseal-Forwarded-For";
inline constexpr std::string_view kForwardedPersonHeader = "X-Medseal-Forwarded-Person";
inline constexpr std::string_view kForwardedProofHeader = "X-Medseal-Forwarded-Proof";
inline constexpr std::chrono::milliseconds kForwardedWindow{15'000};
inline constexpr size_t kClusterSecretBytes = 32;

// A header's value by name ("" when absent), as the HTTP layer has it.
using HeaderLookup = std::function<std::string(std::string_view name)>;

class ForwardedIdentity {
 public:
  // `secret`: the cluster secret, at least kClusterSecretBytes. `clock` outlives this object.
  explicit ForwardedIdentity(std::string secret, const Clock& clock = system_clock());

  // The headers a follower adds when it forwards `request`, whose target as sent is `target`:
  // the request's source and certificate_person, and the proof.
  std::vector<std::pair<std::string, std::string>> sign(const server::fhir::Request& request,
                                                        std::string_view target) const;

  // For a request that arrived with headers `header`: with a valid, fresh and unseen proof, sets
  // request.source and request.certificate_person to the forwarded values and returns OK.
  // kNotFound when the request carries none of the forwarding headers; otherwise (kInvalidArgument,
  // kVerificationFailed) one line saying why without any value. Only OK changes `request`.
  // Thread-safe.
  Status accept(server::fhir::Request& request, std::string_view target, const HeaderLookup& header);

 private:
  std::string mac(const server::fhir::Request& request, std::string_view target, std::string_view at,
                  std::string_view nonce, std::string_view source, std::string_view person) const;
  // False if `nonce` was seen within the window; remembers it otherwise.
  bool first_use(const std::string& nonce, uint64_t at_ms, uint64_t now_ms);

  const std::string secret_;
  const Clock& clock_;
  std::mutex mu_;
  std::multimap<uint64_t, std::string> nonces_by_time_;  // under mu_, for forgetting
  std::set<std::string> nonces_;                         // under mu_
};

}  // namespace medseal::cluster
