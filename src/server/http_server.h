// medseal's HTTP server (DESIGN.md section 6): /healthz, the public log (public_log.h), the FHIR
// API at /fhir and receipts at /ledger/receipts (fhir_api.h), the alerts at /alerts,
// /alerts/stream and /metrics (alerts_http.h), the forensic report at /forensics
// (forensics_http.h), on cpp-httplib. The HTTP library
// stays behind this header.
//
// Bodies are accepted up to 8 MiB (fhir_api.h); a larger one is 413 with an OperationOutcome.
// Headers, request time and connections per client are limited too (http_listener.h).
// Every answer carries X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// X-Frame-Options: DENY (and over TLS Strict-Transport-Security); every answer but the public
// log's carries Cache-Control: no-store (health data, receipts, alerts: never kept by a cache).
// Only /fhir reads bodies: everything else is read-only and refuses other methods unread.
// With a disk guard (disk_guard.h), /healthz answers 200 "disk-low: ..." instead of "ok" while
// record writes are refused, and an authorized /metrics scrape gets the disk gauges too.
//
// The server's life (threads, keep-alive, bind, run, stop) is http_listener.h's; keep the pool
// larger than the number of keep-alive clients (64 in DESIGN.md section 8).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "server/fhir_api.h"
#include "server/forwarding.h"
#include "server/http_listener.h"
#include "server/public_log.h"
#include "server/tls.h"
#include "util/status.h"

namespace medseal::server {

class AlertsHttp;
class PortalHttp;
class ForensicsHttp;
class DiskGuard;

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port (bind() says which)
  size_t threads = 128;          // connections served at once
  bool access_log = false;       // a JSON line per request (errors are always logged)
  CheckpointSource witnessed;    // with witnesses: what /log/checkpoint serves (public_log.h)
  AlertsHttp* alerts = nullptr;  // null: /alerts, /alerts/stream and /metrics are 404
  PortalHttp* portal = nullptr;  // null: / and /portal/ are 404 (portal_http.h)
  ForensicsHttp* forensics = nullptr;  // null: /forensics is 404 (forensics_http.h)
  DiskGuard* disk = nullptr;     // disk-low on /healthz and /metrics (disk_guard.h); null: not reported
  TlsOptions tls;                // enabled: HTTPS only, and mutual TLS with client CAs (tls.h)
  ConnectionLimits limits;       // header size, request time, idle time, connections per client
  RequestForwarder* forward = nullptr;  // asked first for /fhir and /ledger/ (forwarding.h)
};

class HttpServer {
 public:
  // Without `fhir` (which must outlive the server) /fhir and /ledger/receipts answer 404: a server
  // of the public log alone.
  HttpServer(ledger::Ledger& ledger, HttpOptions options, fhir::Api* fhir = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  Result<int> bind();
  // Serves until stop(); requests in flight are finished first. Call bind() before.
  Status run();
  // Stops run() from any thread. Not async-signal-safe: call it from a normal thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every route the server answers: /healthz and /log/{path} (the tlog-tiles resources) without
// authentication, /ledger/receipts/{index}, /ledger/statements, and /fhir's (fhir::routes(),
// prefixed); the portal's page and assets (anonymous) and /portal/whoami. HEAD is served wherever
// GET is. A test walks this list; route() in http_server.cc dispatches the same prefixes.
struct ServerRoute {
  std::string method;
  std::string path;
  bool anonymous = false;
};
std::vector<ServerRoute> routes();

// True for addresses only this machine can reach: 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace medseal::server
