#include "load_gen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <vector>

#include "bench_support.h"

namespace medseal::bench {
namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// The value of header `name` in `head` (status line and headers), if present.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
  size_t line = head.find("\r\n");
  while (line != std::string_view::npos && line + 2 < head.size()) {
    size_t start = line + 2;
    line = head.find("\r\n", start);
    std::string_view text = head.substr(start, line == std::string_view::npos ? std::string_view::npos : line - start);
    size_t colon = text.find(':');
    if (colon == std::string_view::npos || !iequals(text.substr(0, colon), name)) continue;
    std::string_view value = text.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return value;
  }
  return std::nullopt;
}

// One keep-alive connection and the request it has in flight.
struct Connection {
  size_t number = 0;
  int fd = -1;
  size_t sent_requests = 0;
  std::string out;
  size_t out_done = 0;
  std::string in;
  Clock::time_point started;
  uint32_t events = EPOLLIN;  // what epoll reports for fd
};

class Generator {
 public:
  Generator(const std::vector<Target>& targets, const MakeRequest& make, const CheckAnswer& check)
      : make_(make), check_(check) {
    if (targets.empty()) die(Status::invalid("load generator: no target"));
    for (const Target& target : targets) {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(target.port));
      if (::inet_pton(AF_INET, target.host.c_str(), &address.sin_addr) != 1) {
        die(Status::invalid("load generator: not an IPv4 address: " + target.host));
      }
      addresses_.push_back(address);
    }
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die(Status::io("load generator: epoll_create1 failed"));
  }
  ~Generator() {
    for (Connection& c : connections_) close(c);
    ::close(epoll_);
  }

  LoadResult run(size_t count, std::chrono::milliseconds duration) {
    connections_.resize(count);
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + duration;
    for (size_t i = 0; i < count; ++i) {
      connections_[i].number = i;
      open(connections_[i]);
      send_next(connections_[i]);
    }
    std::vector<epoll_event> events(count);
    while (Clock::now() < deadline) {
      int ready = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 10);
      for (int i = 0; i < ready; ++i) {
        Connection& c = connections_[events[i].data.u64];
        if (events[i].events & EPOLLOUT) flush(c);
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(c);
      }
    }
    return result(std::chrono::duration<double>(Clock::now() - start).count());
  }

 private:
  void open(Connection& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) die(Status::io("load generator: socket failed"));
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Blocking connect on loopback (immediate), then non-blocking I/O.
    const sockaddr_in& address = addresses_[c.number % addresses_.size()];
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      die(Status::io("load generator: cannot connect"));
    }
    ::fcntl(c.fd, F_SETFL, O_NONBLOCK);
    c.events = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c.number;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  static void close(Connection& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }

  void send_next(Connection& c) {
    c.out = make_(c.number, c.sent_requests++);
    c.out_done = 0;
    c.in.clear();
    c.started = Clock::now();
    flush(c);
  }

  void flush(Connection& c) {
    while (c.out_done < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) return watch(c, EPOLLIN | EPOLLOUT);
      if (n <= 0) return fail(c);
      c.out_done += static_cast<size_t>(n);
    }
    watch(c, EPOLLIN);
  }

  // Changes what epoll reports for `c` only when it differs (a syscall per request otherwise).
  void watch(Connection& c, uint32_t events) {
    if (c.events == events) return;
    c.events = events;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.number;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void receive(Connection& c) {
    // One read per readiness event: an answer that is not complete yet reports readiness again.
    char buf[65536];
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return fail(c);
    c.in.append(buf, static_cast<size_t>(n));
    size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    Answer answer;
    answer.head = std::string_view(c.in).substr(0, head_end);
    std::optional<std::string_view> length = header_value(answer.head, "Content-Length");
    size_t body_bytes = 0;
    if (!length || std::from_chars(length->data(), length->data() + length->size(), body_bytes).ec != std::errc()) {
      return fail(c);  // chunked or unframed: not what the server sends
    }
    if (c.in.size() < head_end + 4 + body_bytes) return;
    if (c.in.size() > head_end + 4 + body_bytes) return fail(c);  // nothing was pipelined
    answer.body = std::string_view(c.in).substr(head_end + 4, body_bytes);
    if (answer.head.size() < 12 || !answer.head.starts_with("HTTP/1.1 ")) return fail(c);
    std::from_chars(answer.head.data() + 9, answer.head.data() + 12, answer.status);
    const float ms = std::chrono::duration<float, std::milli>(Clock::now() - c.started).count();
    if (check_(answer)) {
      latencies_.push_back(ms);
    } else {
      ++failures_;
    }
    if (header_value(answer.head, "Connection") == std::optional<std::string_view>("close")) {
      close(c);
      open(c);
    }
    send_next(c);
  }

  void fail(Connection& c) {
    ++failures_;
    close(c);  // also leaves the epoll set
    open(c);
    send_next(c);
  }

  LoadResult result(double seconds) {
    LoadResult r;
    r.seconds = seconds;
    r.requests = latencies_.size();
    r.failures = failures_;
    if (!latencies_.empty()) {
      std::sort(latencies_.begin(), latencies_.end());
      r.p50_ms = latencies_[latencies_.size() / 2];
      r.p99_ms = latencies_[std::min(latencies_.size() - 1, latencies_.size() * 99 / 100)];
    }
    return r;
  }

  const MakeRequest& make_;
  const CheckAnswer& check_;
  std::vector<sockaddr_in> addresses_;
  int epoll_ = -1;
  std::vector<Connection> connections_;
  std::vector<float> latencies_;
  size_t failures_ = 0;
};

}  // namespace

std::string fhir_request(std::string_view method, std::string_view path, std::string_view authorization,
                         std::string_view body) {
  std::string r = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                  "Authorization: " + std::string(authorization) + "\r\nAccept: application/fhir+json\r\n";
  if (!body.empty()) {
    r += "Content-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + std::string(body);
}

bool Answer::has_header(std::string_view name) const { return header_value(head, name).has_value(); }

LoadResult run_load(const std::string& host, int port, size_t connections, std::chrono::milliseconds duration,
                    const MakeRequest& make, const CheckAnswer& check) {
  return run_load(std::vector<Target>{{host, port}}, connections, duration, make, check);
}

LoadResult run_load(const std::vector<Target>& targets, size_t connections, std::chrono::milliseconds duration,
                    const MakeRequest& make, const CheckAnswer& check) {
  Generator generator(targets, make, check);
  return generator.run(connections, duration);
}

}  // namespace medseal::bench
