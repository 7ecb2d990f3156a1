#include "server/http_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace medseal::server {
namespace {

using Clock = std::chrono::steady_clock;

// Keep-alive connections are reused for this many requests; cpp-httplib's default of 5 makes
// clients reconnect constantly, which costs more than the requests themselves.
constexpr size_t kKeepAliveMaxRequests = 1'000'000;
// How often an idle connection looks whether the server is stopping.
constexpr auto kStopCheck = std::chrono::milliseconds(50);
constexpr std::string_view kBusyReply =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 35\r\n\r\n"
    "too many connections from your host";

// Reading on before closing a connection whose request was cut short (drain_before_close).
constexpr auto kDrainTime = std::chrono::milliseconds(1000);
constexpr size_t kDrainBytes = 256 << 10;

thread_local int t_cut_short_status = 0;

// Waits until `fd` is ready for `events` (or hung up, for the next call to find out) until
// `deadline`; false on timeout or error.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// One accepted socket, non-blocking, optionally under TLS: every wait ends at a deadline.
class Transport {
 public:
  Transport(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  int fd() const { return fd_; }
  SSL* ssl() const { return ssl_; }
  bool has_pending() const { return ssl_ && SSL_pending(ssl_) > 0; }

  bool handshake(Clock::time_point deadline) {
    return retry_tls(deadline, [this] { return SSL_accept(ssl_); }) == 1;
  }

  // Bytes received (> 0), 0 at the end of the stream, -1 on error or at the deadline.
  ssize_t receive(char* out, size_t size, Clock::time_point deadline) {
    int chunk = static_cast<int>(std::min<size_t>(size, INT_MAX));
    if (ssl_) return retry_tls(deadline, [&] { return SSL_read(ssl_, out, chunk); });
    while (true) {
      ssize_t n = ::recv(fd_, out, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_fd(fd_, POLLIN, deadline)) return -1;
    }
  }

  // Bytes sent (> 0), or -1 on error or at the deadline.
  ssize_t send(const char* data, size_t size, Clock::time_point deadline) {
    int chunk = static_cast<int>(std::min<size_t>(size, INT_MAX));
    if (ssl_) return retry_tls(deadline, [&] { return SSL_write(ssl_, data, chunk); });
    while (true) {
      ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_fd(fd_, POLLOUT, deadline)) return -1;
    }
  }

 private:
  // Runs an OpenSSL call until it succeeds, waiting for the socket as it asks; its result, 0 for
  // a clean end of the stream, -1 for an error or the deadline.
  template <typename Call>
  int retry_tls(Clock::time_point deadline, Call call) {
    while (true) {
      ERR_clear_error();  // SSL_get_error reads the thread's queue
      int n = call();
      if (n > 0) return n;
      int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN) return 0;
      short events = error == SSL_ERROR_WANT_READ ? POLLIN : error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
      if (events == 0 || !wait_fd(fd_, events, deadline)) {
        ERR_clear_error();
        return -1;
      }
    }
  }

  int fd_;
  SSL* ssl_;
};

// The stream cpp-httplib parses requests from and writes answers to, holding each request to
// the limits: its headers to max_header_bytes, the whole of it to request_timeout.
class LimitedStream final : public httplib::Stream {
 public:
  LimitedStream(Transport& transport, const ConnectionLimits& limits) : t_(transport), limits_(limits) {}

  // Waits for the next request's first byte until idle_timeout, or until `stopping` says so.
  bool wait_for_request(const std::function<bool()>& stopping) {
    if (!flush()) return false;
    auto idle_end = Clock::now() + limits_.idle_timeout;
    while (!stopping()) {
      if (begin_ < end_ || t_.has_pending()) return true;
      auto now = Clock::now();
      if (now >= idle_end) return false;
      if (wait_fd(t_.fd(), POLLIN, std::min(idle_end, now + kStopCheck))) return true;
    }
    return false;
  }

  void begin_request() {
    in_headers_ = true;
    header_bytes_ = 0;
    blank_line_state_ = 0;
    cut_short_ = 0;
    closing_ = false;
    t_cut_short_status = 0;
    request_deadline_ = Clock::now() + limits_.request_timeout;
  }

  bool cut_short() const { return cut_short_ != 0; }
  // The last answer said "Connection: close".
  bool closing() const { return closing_; }

  bool is_readable() const override {
    if (!flush()) return false;
    return begin_ < end_ || t_.has_pending() || wait_fd(t_.fd(), POLLIN, Clock::now() + limits_.io_timeout);
  }
  bool is_writable() const override { return flush() && wait_fd(t_.fd(), POLLOUT, Clock::now() + limits_.io_timeout); }

  ssize_t read(char* out, size_t size) override {
    if (cut_short_) return -1;
    if (begin_ == end_) {
      ssize_t filled = fill();
      if (filled <= 0) return filled;
    }
    size_t n = std::min(size, end_ - begin_);
    if (in_headers_ && !count_header_bytes(&n)) return -1;
    std::memcpy(out, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  // cpp-httplib writes an answer's status line and headers, then its body: the header block is
  // held and goes out with what follows, one send and one segment for the client to wake up for
  // instead of two. Whatever is held is sent before any wait and after each request (flush()).
  ssize_t write(const char* data, size_t size) override {
    if (held_.empty() && size <= kMaxHeld && std::string_view(data, size).ends_with("\r\n\r\n")) {
      // cpp-httplib writes this header but keeps reading the connection: the answer's promise
      // is kept by serve_requests, which closes after it.
      if (std::string_view(data, size).find("\r\nConnection: close\r\n") != std::string_view::npos) closing_ = true;
      held_.assign(data, size);
      return static_cast<ssize_t>(size);
    }
    if (!held_.empty()) {
      if (held_.size() + size <= kMaxHeld) {
        held_.append(data, size);
        return flush() ? static_cast<ssize_t>(size) : -1;
      }
      if (!flush()) return -1;
    }
    return t_.send(data, size, Clock::now() + limits_.io_timeout);
  }

  // Sends what write() held back; false if the connection failed. Const for the const waits
  // (is_readable, is_writable), which must not wait with an answer held back.
  bool flush() const {
    std::string_view left = held_;
    while (!left.empty()) {
      ssize_t n = t_.send(left.data(), left.size(), Clock::now() + limits_.io_timeout);
      if (n <= 0) {
        held_.clear();
        return false;
      }
      left.remove_prefix(static_cast<size_t>(n));
    }
    held_.clear();
    return true;
  }

  // A connection's addresses do not change: asked once (cpp-httplib asks for every request).
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (!remote_.known) remote_ = address_of(::getpeername);
    ip = remote_.ip;
    port = remote_.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    if (!local_.known) local_ = address_of(::getsockname);
    ip = local_.ip;
    port = local_.port;
  }
  socket_t socket() const override { return t_.fd(); }

 private:
  static constexpr size_t kMaxHeld = 64 << 10;

  struct Address {
    bool known = false;
    std::string ip;
    int port = 0;
  };

  // Refills the buffer, waiting until the request's deadline but no longer than io_timeout.
  ssize_t fill() {
    if (!flush()) return -1;  // e.g. "100 Continue" before the body is read
    auto now = Clock::now();
    if (now >= request_deadline_) return cut(408);
    ssize_t n = t_.receive(buffer_.data(), buffer_.size(), std::min(request_deadline_, now + limits_.io_timeout));
    if (n < 0 && Clock::now() >= request_deadline_) return cut(408);
    begin_ = 0;
    end_ = n > 0 ? static_cast<size_t>(n) : 0;
    return n;
  }

  // Counts the `*n` bytes about to be handed over as header bytes, stopping at the blank line
  // that ends the headers (*n shrinks to it). False when they are too many.
  bool count_header_bytes(size_t* n) {
    static constexpr std::string_view kBlankLine = "\r\n\r\n";
    for (size_t i = 0; i < *n; ++i) {
      char c = buffer_[begin_ + i];
      if (c == kBlankLine[blank_line_state_]) {
        ++blank_line_state_;
      } else {
        blank_line_state_ = c == '\r' ? 1 : 0;
      }
      if (++header_bytes_ > limits_.max_header_bytes) {
        cut(431);
        return false;
      }
      if (blank_line_state_ == kBlankLine.size()) {
        in_headers_ = false;
        *n = i + 1;
        break;
      }
    }
    return true;
  }

  ssize_t cut(int status) {
    cut_short_ = status;
    t_cut_short_status = status;
    return -1;
  }

  template <typename GetName>
  Address address_of(GetName get_name) const {
    Address a;
    a.known = true;
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    char host[NI_MAXHOST];
    char service[NI_MAXSERV];
    if (get_name(t_.fd(), reinterpret_cast<sockaddr*>(&addr), &length) != 0 ||
        ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), length, host, sizeof host, service, sizeof service,
                      NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
      return a;
    }
    a.ip = host;
    a.port = std::atoi(service);
    return a;
  }

  Transport& t_;
  const ConnectionLimits& limits_;
  std::array<char, 16 << 10> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool in_headers_ = false;
  size_t header_bytes_ = 0;
  size_t blank_line_state_ = 0;
  int cut_short_ = 0;
  bool closing_ = false;
  Clock::time_point request_deadline_;
  mutable std::string held_;  // a header block waiting for its body (write())
  mutable Address remote_, local_;
};

// The key a client's connections are counted under: its IPv4 address, or its IPv6 /64 (one
// host usually holds a whole /64). "" when unknown.
std::string client_key(int fd) {
  sockaddr_storage addr{};
  socklen_t length = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return "";
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr).sin_addr;
    return std::string(reinterpret_cast<const char*>(&v4), sizeof v4);
  }
  if (addr.ss_family != AF_INET6) return "";
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
  const char* bytes = reinterpret_cast<const char*>(&v6);
  if (IN6_IS_ADDR_V4MAPPED(&v6)) return std::string(bytes + 12, 4);
  return std::string(bytes, 8);
}

// Connections being served per client key.
class ClientCounts {
 public:
  explicit ClientCounts(size_t limit) : limit_(limit) {}

  bool try_add(const std::string& key) {
    std::lock_guard lock(mu_);
    size_t& count = counts_[key];
    if (limit_ != 0 && count >= limit_) return false;
    ++count;
    return true;
  }

  void remove(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = counts_.find(key);
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }

 private:
  const size_t limit_;
  std::mutex mu_;
  std::unordered_map<std::string, size_t> counts_;
};

using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

SslCtxPtr make_tls_context(const TlsOptions& tls) {
  if (!tls.enabled()) return SslCtxPtr(nullptr, SSL_CTX_free);
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (ctx && !configure_tls_context(*ctx, tls)) ctx.reset();
  return ctx;
}

// cpp-httplib's server with the connection handling replaced (process_and_close_socket is the
// library's one hook for it; SSLServer overrides it the same way): parsing, routing and writing
// answers stay the library's.
class GuardedServer final : public httplib::Server {
 public:
  GuardedServer(const TlsOptions& tls, const ConnectionLimits& limits)
      : tls_enabled_(tls.enabled()), ctx_(make_tls_context(tls)), limits_(limits),
        counts_(limits.max_connections_per_client) {}

  bool is_valid() const override { return !tls_enabled_ || ctx_ != nullptr; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    std::string key = client_key(sock);
    bool ok = false;
    if (counts_.try_add(key)) {
      ok = serve_connection(sock);
      counts_.remove(key);
    } else if (!ctx_) {
      // Best effort and without waiting: the client learns why before the connection closes.
      [[maybe_unused]] ssize_t sent = ::send(sock, kBusyReply.data(), kBusyReply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  bool serve_connection(int sock) {
    ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
    SslPtr ssl(nullptr, SSL_free);
    if (ctx_) {
      ssl.reset(SSL_new(ctx_.get()));
      if (!ssl || SSL_set_fd(ssl.get(), sock) != 1) return false;
    }
    Transport transport(sock, ssl.get());
    if (ssl && !transport.handshake(Clock::now() + limits_.idle_timeout)) return false;
    bool cut_short = false;
    bool ok = serve_requests(transport, &cut_short);
    if (ssl && ok) SSL_shutdown(ssl.get());  // one try: the close follows anyway
    if (cut_short) drain_before_close(sock);
    return ok;
  }

  // After answering a request it stopped reading, the server closes with unread bytes, which
  // makes the kernel reset the connection and may discard the answer before the client reads
  // it. Reading on a little (bounded in bytes and time) lets the answer arrive first.
  void drain_before_close(int sock) {
    ::shutdown(sock, SHUT_WR);
    auto end = Clock::now() + kDrainTime;
    char scratch[4096];
    for (size_t drained = 0; drained < kDrainBytes && wait_fd(sock, POLLIN, end);) {
      ssize_t n = ::recv(sock, scratch, sizeof scratch, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
      if (n > 0) drained += static_cast<size_t>(n);
    }
  }

  // cpp-httplib's keep-alive loop, with the limits.
  bool serve_requests(Transport& transport, bool* cut_short) {
    LimitedStream stream(transport, limits_);
    auto stopping = [this] { return svr_sock_ == INVALID_SOCKET; };
    auto setup = [&transport](httplib::Request& req) { req.ssl = transport.ssl(); };
    bool ok = false;
    bool closed = false;  // by cpp-httplib (the client asked for it, or the last request allowed)
    for (size_t left = keep_alive_max_count_; left > 0 && stream.wait_for_request(stopping); --left) {
      stream.begin_request();
      ok = process_request(stream, left == 1, closed, setup);
      const bool sent = stream.flush();
      if (!ok || !sent || closed || stream.cut_short() || stream.closing()) break;
    }
    // An answer of ours that closes may have left the request's body unread: drain it like a
    // cut-short one.
    *cut_short = stream.cut_short() || (stream.closing() && !closed);
    return ok;
  }

  const bool tls_enabled_;
  SslCtxPtr ctx_;
  const ConnectionLimits limits_;
  ClientCounts counts_;
};

}  // namespace

int cut_short_status() { return t_cut_short_status; }

struct HttpListener::Impl {
  Impl(const TlsOptions& options, const ConnectionLimits& limits)
      : tls(options), server(std::make_unique<GuardedServer>(tls, limits)), http(*server) {}
  const TlsOptions tls;  // the TLS context points at it
  std::unique_ptr<httplib::Server> server;
  httplib::Server& http;
  int listen_fd = -1;
  std::mutex state_mu;
  bool stop_requested = false;  // guarded by state_mu
  bool run_called = false;      // guarded by state_mu
  std::atomic<bool> finished{false};
};

HttpListener::HttpListener(size_t threads, const TlsOptions& tls, ConnectionLimits limits)
    : impl_(std::make_unique<Impl>(tls, limits)) {
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
