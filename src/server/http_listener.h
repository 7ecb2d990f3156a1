// The life of one cpp-httplib server, shared by medseal's HTTP servers (http_server.h,
// witness_http.h): a pool of worker threads, TCP_NODELAY, long keep-alive, a listening socket
// bound with SO_REUSEADDR only and a deep backlog, run until stop(). Routes are the owner's.
//
// cpp-httplib runs one thread per connection for as long as the connection is kept alive, so the
// pool must be larger than the number of keep-alive clients or the extra clients wait.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/tls.h"
#include "util/status.h"

namespace httplib {
class Server;
}

namespace medseal::server {

class HttpListener {
 public:
  // With `tls` enabled, an HTTPS server (tls.h); check_tls_options first, as a context that fails
  // to configure here makes bind() fail without saying why.
  explicit HttpListener(size_t threads, const TlsOptions& tls = {});
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

}  // namespace medseal::server
