#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <optional>

#include "server/alerts_http.h"
#include "server/disk_guard.h"
#include "server/forensics_http.h"
#include "server/http_listener.h"
#include "server/json_log.h"
#include "server/portal_http.h"
#include "server/public_log.h"

namespace medseal::server {
namespace {

constexpr std::string_view kLogPrefix = "/log/";
constexpr std::string_view kReceiptPrefix = "/ledger/receipts/";
constexpr std::string_view kStatementsPath = "/ledger/statements";
constexpr std::string_view kFhirRoot = "/fhir";
// Requests with these methods have their body read by cpp-httplib only after the pre-routing
// handler, so /fhir requests with them go to handlers registered for this pattern.
constexpr const char* kFhirPattern = "/fhir(/.*)?";

// Headers for every answer: no content sniffing, no referrer leaking ids in URLs, no framing;
// over TLS, browsers keep to HTTPS.
httplib::Headers security_headers(bool tls) {
  httplib::Headers headers = {{"X-Content-Type-Options", "nosniff"},
                              {"Referrer-Policy", "no-referrer"},
                              {"X-Frame-Options", "DENY"}};
  if (tls) headers.emplace("Strict-Transport-Security", "max-age=31536000");
  return headers;
}

void send(httplib::Response& res, Reply reply) {
  res.status = reply.status;
  if (!reply.cache_control.empty()) res.set_header("Cache-Control", reply.cache_control);
  res.set_content(std::move(reply.body), reply.content_type.c_str());
}

// The request target's path exactly as sent. cpp-httplib percent-decodes req.path; tile paths
// are canonical only undecoded, so "%30%30%30" must not pass for "000".
std::string_view raw_path(const httplib::Request& req) {
  std::string_view target = req.target;
  return target.substr(0, target.find('?'));
}

bool is_fhir_path(std::string_view path) {
  return path == kFhirRoot || (path.starts_with(kFhirRoot) && path[kFhirRoot.size()] == '/');
}

bool reads_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

fhir::Request fhir_request(const httplib::Request& req, std::string_view path, const TlsOptions& tls) {
  std::string_view target = req.target;
  size_t question = target.find('?');
  fhir::Request r;
  r.method = req.method;
  r.path = std::string(path.starts_with(kFhirRoot) ? path.substr(kFhirRoot.size()) : path);
  r.query = question == std::string_view::npos ? "" : std::string(target.substr(question + 1));
  r.body = req.body;
  r.host = req.get_header_value("Host");
  r.authorization = req.get_header_value("Authorization");
  r.accept = req.get_header_value("Accept");
  r.content_type = req.get_header_value("Content-Type");
  r.if_match = req.get_header_value("If-Match");
  r.purpose = req.get_header_value(std::string(fhir::kPurposeHeader).c_str());
  r.break_glass = req.get_header_value(std::string(fhir::kBreakGlassHeader).c_str());
  r.certificate_person = client_certificate_person(req.ssl, tls);
  r.source = req.remote_addr;
  return r;
}

void send_fhir(httplib::Response& res, fhir::Response reply) {
  res.status = reply.status;
  for (auto& [name, value] : reply.headers) res.set_header(name.c_str(), value);
  if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(reply.body), reply.content_type.c_str());
}

}  // namespace

struct HttpServer::Impl {
  Impl(ledger::Ledger& l, HttpOptions o, fhir::Api* f)
      : public_log(l, 64 << 20, o.witnessed), options(std::move(o)), fhir(f) {}

  PublicLog public_log;
  HttpOptions options;
  fhir::Api* fhir;  // null: no /fhir and no receipts
  HttpListener listener{options.threads, options.tls, options.limits};
  httplib::Server& http = listener.http();

  void configure() {
    http.set_payload_max_length(fhir::kMaxBodyBytes);
    http.set_default_headers(security_headers(options.tls.enabled()));
    auto fhir_handler = [this](const httplib::Request& req, httplib::Response& res) {
      send_fhir(res, answer_fhir(req, raw_path(req)));
    };
    http.Post(kFhirPattern, fhir_handler);
    http.Put(kFhirPattern, fhir_handler);
    http.Patch(kFhirPattern, fhir_handler);
    http.Delete(kFhirPattern, fhir_handler);
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return route(req, res) ? httplib::Server::HandlerResponse::Handled
                             : httplib::Server::HandlerResponse::Unhandled;
    });
    // Errors the library produces itself (unknown path, bad request line) get a text body too.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          if (int cut = cut_short_status()) res.status = cut;
          if (is_fhir_path(raw_path(req))) {
            send_fhir(res, library_error(res.status));
          } else {
            send(res, text_reply(res.status, res.status == 404 ? "no such resource" : "request not accepted"));
          }
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      log_json("error", "exception in request handler");
      send(res, text_reply(500, "internal error"));
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      if (!options.access_log && res.status < 500) return;
      log_json(res.status >= 500 ? "error" : "info", "request",
               {{"method", req.method}, {"path", req.path}, {"status", res.status},
                {"remote", req.remote_addr}});
    });
  }

  // Answers here come before cpp-httplib reads a body: the connection of a request that has one
  // is closed after the answer, or the unread bytes would be parsed as further requests (each a
  // 400, and a client reading answers out of step).
  bool route(const httplib::Request& req, httplib::Response& res) {
    const bool answered = route_unread(req, res);
    if (answered && has_body(req) && !res.has_header("Connection")) res.set_header("Connection", "close");
    return answered;
  }

  static bool has_body(const httplib::Request& req) {
    if (req.has_header("Transfer-Encoding")) return true;
    const std::string length = req.get_header_value("Content-Length");
    return !length.empty() && length != "0";
  }

  // Our routes, dispatched by prefix without std::regex (which recurses per character and is
  // slower than the lookups themselves). Returns false for paths left to other routes.
  bool route_unread(const httplib::Request& req, httplib::Response& res) {
    std::string_view path = raw_path(req);
    if (compressed_body(req)) {
      refuse_compressed(res, is_fhir_path(path));
      return true;
    }
    if (is_fhir_path(path)) {
      if (reads_body(req.method)) return false;  // to fhir_handler, once the body is read
      send_fhir(res, answer_fhir(req, path));
      return true;
    }
    if (path.starts_with(kReceiptPrefix)) {
      send_fhir(res, answer_receipt(req, path.substr(kReceiptPrefix.size())));
      return true;
    }
    if (path == kStatementsPath) {
      if (!fhir) return false;
      fhir::Request r = fhir_request(req, "", options.tls);
      auto forwarded = forward(r, req);
      send_fhir(res, forwarded ? std::move(*forwarded) : fhir->ledger_statements(r));
      return true;
    }
    if (options.alerts && AlertsHttp::is_alerts_path(path)) {
      answer_as_client(req, res, [&](const httplib::Request& client, std::string_view person) {
        options.alerts->handle(client, res, person);
      });
      // An authorized scrape leaves the status unset (-1: cpp-httplib sends 200).
      const bool scraped = path == "/metrics" && (res.status == -1 || res.status == 200);
      if (options.disk && scraped) res.body += options.disk->metrics_text();
      return true;
    }
    if (options.portal && PortalHttp::is_portal_path(path)) {
      answer_as_client(req, res, [&](const httplib::Request& client, std::string_view person) {
        options.portal->handle(client, res, person);
      });
      return true;
    }
    if (options.forensics && ForensicsHttp::is_forensics_path(path)) {
      answer_as_client(req, res, [&](const httplib::Request& client, std::string_view person) {
        options.forensics->handle(client, res, person);
      });
      return true;
    }
    bool ours = path == "/healthz" || path.starts_with(kLogPrefix);
    if (!ours) return false;
    // Every resource here is read-only; other methods are refused before any lookup.
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      send(res, text_reply(405, "read-only resource"));
    } else {
      send(res, answer(req, path));
    }
    return true;
  }

  // cpp-httplib would inflate a gzip or brotli body before any handler sees it: the
  // decompressors are attack surface that no FHIR client needs, so such bodies are refused unread.
  static bool compressed_body(const httplib::Request& req) {
    std::string encoding = req.get_header_value("Content-Encoding");
    return !encoding.empty() && encoding != "identity";
  }

  static void refuse_compressed(httplib::Response& res, bool fhir_path) {
    res.set_header("Connection", "close");  // the body is never read
    constexpr std::string_view kWhy = "Content-Encoding is not accepted: send the body uncompressed";
    if (fhir_path) return send_fhir(res, fhir::Api::outcome(415, "not-supported", kWhy));
    send(res, text_reply(415, kWhy));
  }

  Reply answer(const httplib::Request& req, std::string_view path) {
    if (path == "/healthz") return Reply{200, std::string(kTextPlain), "no-store", health()};
    if (path != req.path) return text_reply(400, "percent-encoded log path");
    return public_log.get(path.substr(kLogPrefix.size()));
  }

  // Still 200 on a full disk: the server answers reads, and a probe that restarted it or took it
  // out of rotation would stop those too. The body says why writes are refused.
  std::string health() {
    if (options.disk && options.disk->state().low) return "disk-low: record writes refused until space is freed; reads served\n";
    return "ok\n";
  }

  fhir::Response answer_fhir(const httplib::Request& req, std::string_view path) {
    if (!fhir) return fhir::Api::outcome(404, "not-supported", "this server has no FHIR API");
    fhir::Request r = fhir_request(req, path, options.tls);
    if (auto forwarded = forward(r, req)) return std::move(*forwarded);
    return fhir->handle(r);
  }

  // The leader's answer when this node does not lead (forwarding.h); nullopt to answer here.
  // Also where a request another node forwarded gets its client's identity (forwarding.h).
  std::optional<fhir::Response> forward(fhir::Request& r, const httplib::Request& req) {
    if (options.forward == nullptr) return std::nullopt;
    options.forward->identify(r, req.target, [&req](std::string_view name) {
      return req.get_header_value(std::string(name).c_str());
    });
    return options.forward->forward(r, req.target);
  }

  // Authenticated routes besides /fhir and /ledger whose answer only the leader can give, so a
  // follower forwards them: /forensics appends an access entry, and /portal/whoami says whom the
  // leader, which authenticates every request the portal then makes, takes the credentials for
  // (failures counted with the client's others). The alert routes are each node's own: its
  // pipeline holds the alerts it raised (a follower's reach the ledger through cluster_intake),
  // a Prometheus scrape counts per node, and a stream cannot be relayed.
  static bool leader_answers(std::string_view path) {
    return ForensicsHttp::is_forensics_path(path) || path == kPortalWhoami;
  }

  // Calls `handle` with the client's request and certificate person, or gives the leader's answer
  // (leader_answers). On the leader, a request a follower forwarded is its client's: the address
  // and person come from the verified proof (forwarding.h), as for /fhir.
  template <typename Handler>
  void answer_as_client(const httplib::Request& req, httplib::Response& res, Handler&& handle) {
    if (options.forward == nullptr || !leader_answers(raw_path(req))) {
      return handle(req, client_certificate_person(req.ssl, options.tls));
    }
    fhir::Request r = fhir_request(req, "", options.tls);
    if (auto forwarded = forward(r, req)) return send_fhir(res, std::move(*forwarded));
    httplib::Request as_client = req;  // the handlers count failures by remote_addr
    as_client.remote_addr = r.source;
    handle(as_client, r.certificate_person);
  }

  // Receipts name who accessed whose record: authenticated like /fhir.
  fhir::Response answer_receipt(const httplib::Request& req, std::string_view index_text) {
    if (!fhir) return fhir::Api::outcome(404, "not-supported", "this server serves no receipts");
    fhir::Request r = fhir_request(req, "", options.tls);
    if (auto forwarded = forward(r, req)) return std::move(*forwarded);
    return fhir->ledger_receipt(r, index_text);
  }

  // cpp-httplib's own refusals of /fhir requests (a body over the limit, a bad request line).
  static fhir::Response library_error(int status) {
    if (status == 413) return fhir::Api::outcome(413, "too-costly", "the body is larger than 8 MiB");
    if (status == 431) return fhir::Api::outcome(431, "too-costly", "the request headers are too large");
    if (status == 408) return fhir::Api::outcome(408, "timeout", "the request did not arrive in time");
    return fhir::Api::outcome(status, status >= 500 ? "exception" : "invalid", "request not accepted");
  }
};

HttpServer::HttpServer(ledger::Ledger& ledger, HttpOptions options, fhir::Api* fhir)
    : impl_(std::make_unique<Impl>(ledger, std::move(options), fhir)) {
  impl_->configure();
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind() { return impl_->listener.bind(impl_->options.host, impl_->options.port); }

Status HttpServer::run() { return impl_->listener.run(); }

void HttpServer::stop() { impl_->listener.stop(); }

std::vector<ServerRoute> routes() {
  std::vector<ServerRoute> out = {{"GET", "/healthz", true},
                                  {"GET", std::string(kLogPrefix) + "{path}", true},
                                  {"GET", std::string(kReceiptPrefix) + "{index}", false},
                                  {"GET", std::string(kStatementsPath), false},
                                  {"GET", "/alerts", false},
                                  {"GET", "/alerts/stream", false},
                                  {"GET", "/metrics", false},
                                  {"GET", "/forensics", false}};
  for (const fhir::RouteSpec& r : fhir::routes()) {
    out.push_back({std::string(r.method), std::string(kFhirRoot) + std::string(r.path), r.anonymous});
  }
  for (std::string& path : PortalHttp::anonymous_paths()) out.push_back({"GET", std::move(path), true});
  out.push_back({"GET", std::string(kPortalWhoami), false});
  return out;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24) == 127;
}

}  // namespace medseal::server
