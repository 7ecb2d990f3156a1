// The life of one cpp-httplib server, shared by medseal's HTTP servers (http_server.h,
// witness_http.h): a pool of worker threads, TCP_NODELAY, long keep-alive, a listening socket
// bound with SO_REUSEADDR only and a deep backlog, run until stop(). Routes are the owner's.
//
// cpp-httplib runs one thread per connection for as long as the connection is kept alive, so the
// pool must be larger than the number of keep-alive clients or the extra clients wait. A slow or
// idle client would hold its thread for ever; the listener therefore serves each connection
// itself (plain or TLS, non-blocking, every wait with a deadline) under ConnectionLimits and hands
// only whole requests to cpp-httplib's parser and router.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "server/tls.h"
#include "util/status.h"

namespace httplib {
class Server;
}

namespace medseal::server {

// What one client may hold. A request over a limit is answered 431 (headers) or 408 (time; a
// client that sent nothing of a request is just disconnected) and its connection closed.
struct ConnectionLimits {
  // The request line and headers together (cpp-httplib also refuses any one line over 8 KiB).
  size_t max_header_bytes = 32 << 10;
  // From a request's first byte until its last (line, headers and body) has arrived.
  std::chrono::milliseconds request_timeout{30'000};
  // A kept-alive connection waiting for its next request; also the TLS handshake's bound.
  std::chrono::milliseconds idle_timeout{5'000};
  // A read or write that makes no progress at all (a client that stopped sending or reading).
  std::chrono::milliseconds io_timeout{5'000};
  // Connections served at once from one client address (IPv6: one /64); more are closed at once
  // (plain HTTP: after a 503). 0: no limit.
  size_t max_connections_per_client = 64;
};

class HttpListener {
 public:
  // With `tls` enabled, an HTTPS server (tls.h); check_tls_options first, as a context that fails
  // to configure here makes bind() fail without saying why.
  explicit HttpListener(size_t threads, const TlsOptions& tls = {}, ConnectionLimits limits = {});
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // For registering routes and handlers, before bind().
  httplib::Server& http();

  // Binds the listening socket (port 0: any free port); returns the port.
  Result<int> bind(const std::string& host, int port);
  // Serves until stop(); requests in flight are finished first. Call bind() before.
  Status run();
  // Stops run() from any thread, also one that races with the start of run(). Not
  // async-signal-safe: call it from a normal thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// For the owner's error handler: 431 or 408 when the listener cut short the request being
// answered on this thread (cpp-httplib reports it as a 400), otherwise 0.
int cut_short_status();

}  // namespace medseal::server
