#include "cluster/leader_forwarder.h"

#include <httplib.h>

#include <map>

#include "server/json_log.h"
#include "storage/postgres/leadership.h"

namespace medseal::cluster {

namespace {

constexpr auto kLookupEvery = std::chrono::seconds(1);

// Headers of the leader's answer that this node's server sets itself, or that describe the
// leader's connection rather than the answer.
bool own_header(const std::string& name) {
  static const char* const kOwn[] = {"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length",
                                     "Content-Type", "X-Content-Type-Options", "Referrer-Policy",
                                     "X-Frame-Options", "Strict-Transport-Security"};
  for (const char* own : kOwn) {
    if (strcasecmp(name.c_str(), own) == 0) return true;
  }
  return false;
}

httplib::Request leader_request(const server::fhir::Request& r, std::string_view target,
                                const ForwardedIdentity& identity) {
  httplib::Request out;
  out.method = r.method;
  out.path = std::string(target);
  out.body = r.body;
  auto put = [&out](const char* name, const std::string& value) {
    if (!value.empty()) out.headers.emplace(name, value);
  };
  put("Host", r.host);  // so Location and other absolute URLs name this node, which the client used
  put("Authorization", r.authorization);
  put("Accept", r.accept);
  put("Content-Type", r.content_type);
  put("If-Match", r.if_match);
  put(std::string(server::fhir::kPurposeHeader).c_str(), r.purpose);
  put(std::string(server::fhir::kBreakGlassHeader).c_str(), r.break_glass);
  for (auto& [name, value] : identity.sign(r, target)) out.headers.emplace(std::move(name), std::move(value));
  return out;
}

server::fhir::Response unavailable(std::string_view why) {
  server::fhir::Response res = server::fhir::Api::outcome(503, "transient", why);
  res.headers.emplace_back("Retry-After", "1");
  return res;
}

// One keep-alive client per server thread and leader.
httplib::Client& client_for(const std::string& address) {
  thread_local std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  auto& client = clients[address];
  if (!client) {
    if (clients.size() > 8) {  // leaders come and go: drop clients of old ones
      clients.clear();
      return client_for(address);
    }
    client = std::make_unique<httplib::Client>(address);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(2);
    client->set_read_timeout(60);
    client->set_write_timeout(10);
    // Over https the leader's certificate is not checked: requests are authenticated by their
    // forwarded proof, not by the channel (leader_forwarder.h, Limits).
    client->enable_server_certificate_verification(false);
  }
  return *client;
}

}  // namespace

std::string LeaderForwarder::leader_address(bool refresh) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!refresh && !address_.empty() && now - looked_up_ < kLookupEvery) return address_;
  looked_up_ = now;
  address_.clear();
  if (!conn_) {
    auto conn = storage::postgres::Conn::connect(store_url_);
    if (!conn) return "";
    conn_ = std::move(*conn);
  }
  Result<std::string> found = storage::postgres::find_leader_address(*conn_);
  if (found) address_ = std::move(*found);
  return address_;
}

std::optional<server::fhir::Response> LeaderForwarder::forward(const server::fhir::Request& request,
                                                               std::string_view target) {
  if (ledger_.leads()) return std::nullopt;
  const httplib::Request out = leader_request(request, target, identity_);
  for (bool refresh : {false, true}) {
    const std::string address = leader_address(refresh);
    if (address.empty()) continue;
    httplib::Result res = client_for(address).send(out);
    // Not connected: the leader is gone, or another leads now; look again, once. Any later
    // failure may have come after the leader committed, so the request is never sent twice.
    if (!res && res.error() == httplib::Error::Connection) continue;
    if (!res) return unavailable("the leader did not answer; the request may or may not have been done");
    server::fhir::Response answer;
    answer.status = res->status;
    answer.content_type = res->get_header_value("Content-Type");
    for (const auto& [name, value] : res->headers) {
      if (!own_header(name)) answer.headers.emplace_back(name, value);
    }
    answer.body = std::move(res->body);
    return answer;
  }
  return unavailable("no leader reachable just now (failover in progress); retry");
}

void LeaderForwarder::identify(server::fhir::Request& request, std::string_view target,
                               const std::function<std::string(std::string_view)>& header) {
  const std::string peer = request.source;
  Status accepted = identity_.accept(request, target, header);
  if (accepted.is_ok() || accepted.code() == Code::kNotFound) return;
  // Answered as the connection's own request; logged, since a node's proof should never fail.
  server::log_json("warning", "forwarded identity ignored", {{"remote", peer}, {"reason", accepted.message()}});
}

}  // namespace medseal::cluster
