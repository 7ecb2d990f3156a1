#include "server/http_listener.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace medseal::server {
namespace {

// Keep-alive connections are reused for this many requests; cpp-httplib's default of 5 makes
// clients reconnect constantly, which costs more than the requests themselves.
constexpr size_t kKeepAliveMaxRequests = 1'000'000;

std::unique_ptr<httplib::Server> make_server(const TlsOptions& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(
      [&tls](SSL_CTX& ctx) { return configure_tls_context(ctx, tls).is_ok(); });
}

}  // namespace

struct HttpListener::Impl {
  explicit Impl(const TlsOptions& options) : tls(options), server(make_server(tls)), http(*server) {}
  const TlsOptions tls;  // the TLS context points at it
  std::unique_ptr<httplib::Server> server;
  httplib::Server& http;
  int listen_fd = -1;
  std::mutex state_mu;
  bool stop_requested = false;  // guarded by state_mu
  bool run_called = false;      // guarded by state_mu
  std::atomic<bool> finished{false};
};

HttpListener::HttpListener(size_t threads, const TlsOptions& tls) : impl_(std::make_unique<Impl>(tls)) {
  httplib::Server& http = impl_->http;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Without TCP_NODELAY small responses wait for delayed ACKs: ~40 ms per request.
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(kKeepAliveMaxRequests);
  // SO_REUSEADDR only: the library default also sets SO_REUSEPORT, which would let a second
  // server silently share the port. The socket is remembered to deepen its backlog in bind().
  http.set_socket_options([impl = impl_.get()](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl->listen_fd = fd;
  });
}

HttpListener::~HttpListener() = default;

httplib::Server& HttpListener::http() { return impl_->http; }

Result<int> HttpListener::bind(const std::string& host, int port) {
  if (!impl_->http.is_valid()) return Status::invalid("the TLS configuration was refused");
  if (port == 0) {
    port = impl_->http.bind_to_any_port(host);
    if (port < 0) return Status::io("cannot listen on " + host + ": " + std::strerror(errno));
  } else if (!impl_->http.bind_to_port(host, port)) {
    return Status::io("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                      std::strerror(errno));
  }
  // cpp-httplib listens with a backlog of 5: a burst of new clients overflows it and waits for
  // SYN retransmits (1 s and more). Listening again on the bound socket only deepens the queue.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return port;
}

Status HttpListener::run() {
  {
    std::lock_guard lock(impl_->state_mu);
    if (impl_->stop_requested) return Status::ok();
    impl_->run_called = true;
  }
  bool ok = impl_->http.listen_after_bind();
  impl_->finished = true;
  if (!ok) return Status::io("the HTTP server stopped with an error");
  return Status::ok();
}

void HttpListener::stop() {
  {
    std::lock_guard lock(impl_->state_mu);
    impl_->stop_requested = true;
    if (!impl_->run_called) return;  // run() will return at once
  }
  // cpp-httplib ignores stop() until its accept loop is running, so a stop that races with the
  // start of run() waits for the loop (or for run() to have ended) first.
  while (!impl_->http.is_running() && !impl_->finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http.stop();
}

}  // namespace medseal::server
