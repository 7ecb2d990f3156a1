#include "alerts/syslog_sink.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/time_format.h"

namespace medseal::alerts {
namespace {

constexpr size_t kMaxSummaryBytes = 1024;
constexpr int kSendTimeoutSeconds = 5;

int syslog_severity(Severity severity) {
  switch (severity) {
    case Severity::kCritical: return 2;
    case Severity::kWarning: return 4;
    case Severity::kInfo: return 6;
  }
  return 2;
}

// RFC 5424 PRINTUSASCII (33..126), at most `max` characters; "-" when empty.
std::string header_field(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c > 32 && c < 127) ? c : '_';
  return out.empty() ? "-" : out;
}

// An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424 6.3.3).
std::string param_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

// The summary on one line, cut at a character boundary.
std::string message_text(std::string_view summary) {
  std::string out;
  for (char c : summary) {
    if (out.size() >= kMaxSummaryBytes && (static_cast<unsigned char>(c) & 0xC0) != 0x80) break;
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

struct SyslogUrl {
  bool tcp = false;
  std::string host, port;
};

Result<SyslogUrl> parse_syslog_url(const std::string& url) {
  SyslogUrl out;
  std::string rest;
  if (url.starts_with("udp://")) {
    rest = url.substr(6);
  } else if (url.starts_with("tcp://")) {
    out.tcp = true;
    rest = url.substr(6);
  } else {
    return Status::invalid("syslog destination must be udp://HOST:PORT or tcp://HOST:PORT: " + url);
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return Status::invalid("syslog destination needs HOST:PORT: " + url);
  }
  out.host = rest.substr(0, colon);
  out.port = rest.substr(colon + 1);
  if (out.host.front() == '[' && out.host.back() == ']') out.host = out.host.substr(1, out.host.size() - 2);
  for (char c : out.port) {
    if (c < '0' || c > '9') return Status::invalid("syslog destination has a bad port: " + url);
  }
  return out;
}

class SyslogDestination : public Destination {
 public:
  SyslogDestination(std::string url, SyslogUrl parsed) : url_(std::move(url)), target_(std::move(parsed)) {
    char host[256] = {};
    hostname_ = ::gethostname(host, sizeof host - 1) == 0 ? host : "-";
  }
  ~SyslogDestination() override { disconnect(); }

  std::string name() const override { return "syslog " + url_; }

  Status deliver(const Alert& alert) override {
    std::string message = syslog_message(alert, hostname_, static_cast<long>(::getpid()));
    if (target_.tcp) message = std::to_string(message.size()) + " " + message;
    if (fd_ >= 0 && target_.tcp && peer_closed()) disconnect();
    if (fd_ < 0) MEDSEAL_RETURN_IF_ERROR(connect_socket());
    ssize_t sent = ::send(fd_, message.data(), message.size(), MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(message.size())) return Status::ok();
    std::string why = sent < 0 ? std::strerror(errno) : "short write";
    disconnect();  // a TCP stream cut inside a frame cannot be continued
    return Status::io("syslog " + url_ + ": " + why);
  }

 private:
  // A TCP peer that closed (or sent anything, which syslog receivers never do) is reconnected
  // before sending, so a message is not written into a dead connection.
  bool peer_closed() const {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  Status connect_socket() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = target_.tcp ? SOCK_STREAM : SOCK_DGRAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(target_.host.c_str(), target_.port.c_str(), &hints, &found);
    if (rc != 0) return Status::io("syslog " + url_ + ": " + ::gai_strerror(rc));
    Status status = Status::io("syslog " + url_ + ": no address");
    for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      timeval timeout{kSendTimeoutSeconds, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // bounds connect too
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        status = Status::io("syslog " + url_ + ": " + std::strerror(errno));
        ::close(fd);
      }
    }
    ::freeaddrinfo(found);
    return fd_ >= 0 ? Status::ok() : status;
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string url_;
  SyslogUrl target_;
  std::string hostname_;
  int fd_ = -1;
};

}  // namespace

std::string syslog_message(const Alert& alert, const std::string& hostname, long procid) {
  int pri = kSyslogFacility * 8 + syslog_severity(alert.severity);
  std::string out = "<" + std::to_string(pri) + ">1 " + format_instant(alert.time_ms) + " " +
                    header_field(hostname, 255) + " medseal " + std::to_string(procid) + " " +
                    header_field(alert.kind, 32) + " [medseal@32473 id=\"" + param_value(alert.id) +
                    "\" kind=\"" + param_value(alert.kind) + "\" severity=\"" +
                    std::string(severity_name(alert.severity)) + "\"]";
  std::string text = message_text(alert.summary);
  if (!text.empty()) out += " " + text;
  return out;
}

Result<std::unique_ptr<Destination>> make_syslog_destination(const std::string& url) {
  auto parsed = parse_syslog_url(url);
  if (!parsed) return parsed.status();
  return std::unique_ptr<Destination>(std::make_unique<SyslogDestination>(url, std::move(*parsed)));
}

}  // namespace medseal::alerts
