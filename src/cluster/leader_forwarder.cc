#include "cluster/leader_forwarder.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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

// The certificates in PEM text `trusted`, as a store that accepts a chain ending at any of them
// (PARTIAL_CHAIN: a node's own leaf or intermediate is enough); null when `trusted` holds none.
X509_STORE* trust_store(const std::string& trusted) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(trusted.data(), static_cast<int>(trusted.size())), &BIO_free);
  if (trusted.empty() || !bio) return nullptr;
  X509_STORE* store = X509_STORE_new();
  if (!store) return nullptr;
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  ERR_clear_error();  // the end of the text reads as an error
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  if (added == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

// One keep-alive client per server thread and leader; over https it checks the leader's
// certificate against `trusted` and the system's CAs, and its name against the address.
httplib::Client& client_for(const std::string& address, const std::string& trusted) {
  thread_local std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  auto& client = clients[address];
  if (!client) {
    if (clients.size() > 8) {  // leaders come and go: drop clients of old ones
      clients.clear();
      return client_for(address, trusted);
    }
    client = std::make_unique<httplib::Client>(address);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(2);
    client->set_read_timeout(60);
    client->set_write_timeout(10);
    client->enable_server_certificate_verification(true);
    if (!address.starts_with("https://")) return *client;
    if (X509_STORE* store = trust_store(trusted)) client->set_ca_cert_store(store);  // owned by the client
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
    httplib::Result res = client_for(address, trusted_pem_).send(out);
    // Not connected: the leader is gone, or another leads now; look again, once. Any later
    // failure may have come after the leader committed, so the request is never sent twice.
    if (!res && res.error() == httplib::Error::Connection) continue;
    if (!res && res.error() == httplib::Error::SSLServerVerification) {
      server::log_json("error", "the leader's certificate is not trusted; nothing forwarded", {{"leader", address}});
      return unavailable("the leader's certificate is not trusted by this node (serve --cluster-ca)");
    }
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
