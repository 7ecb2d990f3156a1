// Slow and greedy clients cannot hold `medseal serve` (server/http_listener.h): a slowloris from
// one address (many sockets sending headers a byte at a time, reconnecting when cut) leaves a
// normal client served within a generous bound, while the same attack with the limits turned off
// does hold the server (so the test can tell). Each limit is seen on its own: a request that takes
// too long is 408, headers too large are 431, one client's connections beyond the limit get 503,
// an idle connection is closed, and bad limit flags refuse to start.
//
// Clients bind their own loopback source address (127.0.0.x): Linux routes all of 127/8 to lo,
// so the attacker and the normal client are different addresses on one machine.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

int port_of(const testing::Server& server) { return std::stoi(server.base().substr(server.base().rfind(':') + 1)); }

// A TCP connection to 127.0.0.1:port from `source` (a loopback address); -1 on failure.
int connect_from(const std::string& source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// What the server sends until it closes the connection or `limit` passes; `closed` says which.
std::string read_until_closed(int fd, std::chrono::milliseconds limit, bool* closed) {
  std::string out;
  auto end = Clock::now() + limit;
  *closed = false;
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Many sockets from one address, each sending a never-ending header a byte at a time, each
// reconnected as soon as the server cuts it.
class Slowloris {
 public:
  Slowloris(std::string source, int port, size_t sockets) : source_(std::move(source)), port_(port) {
    fds_.assign(sockets, -1);
    thread_ = std::thread([this] { run(); });
  }
  ~Slowloris() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  size_t reconnects() const { return reconnects_; }

 private:
  void run() {
    static constexpr std::string_view kHead = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    static constexpr std::string_view kFiller = "X-Slow: aaaa\r\n";
    std::vector<size_t> sent(fds_.size(), 0);
    while (!stop_) {
      for (size_t i = 0; i < fds_.size(); ++i) {
        if (fds_[i] < 0) {
          fds_[i] = connect_from(source_, port_);
          sent[i] = 0;
          if (fds_[i] >= 0) ++reconnects_;
          continue;
        }
        size_t at = sent[i]++;
        char byte = at < kHead.size() ? kHead[at] : kFiller[(at - kHead.size()) % kFiller.size()];
        if (::send(fds_[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
          ::close(fds_[i]);
          fds_[i] = -1;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  const std::string source_;
  const int port_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> reconnects_{0};
  std::thread thread_;
};

// How long a normal client from 127.0.0.1 waits for /healthz; -1 ms if unanswered within `limit_s`.
std::chrono::milliseconds normal_request(const std::string& base, int limit_s = 10) {
  httplib::Client client(base);
  client.set_connection_timeout(limit_s);
  client.set_read_timeout(limit_s);
  auto start = Clock::now();
  auto res = client.Get("/healthz");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (!res || res->status != 200) return std::chrono::milliseconds(-1);
  return took;
}

constexpr size_t kAttackSockets = 48;
constexpr auto kBound = 2000ms;  // generous: an idle server answers in about a millisecond

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ::signal(SIGPIPE, SIG_IGN); }
  testing::TempDir tmp_;
};

TEST_F(LimitsTest, ASlowlorisFromOneAddressDoesNotStopANormalClient) {
  testing::Server server(tmp_.path() + "/data", {"--threads", "16", "--max-connections-per-client", "8",
                                                 "--request-timeout", "3", "--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Slowloris attack("127.0.0.3", port_of(server), kAttackSockets);
  std::this_thread::sleep_for(1s);  // the attack holds what it can
  // Through the attack and past the request timeout, when the cut sockets reconnect.
  for (int i = 0; i < 6; ++i) {
    auto took = normal_request(server.base());
    ASSERT_GE(took.count(), 0) << "round " << i << ": not answered";
    EXPECT_LT(took, kBound) << "round " << i;
    std::this_thread::sleep_for(700ms);
  }
  EXPECT_GT(attack.reconnects(), kAttackSockets) << "the attackers were cut and came back";
}

TEST_F(LimitsTest, WithoutTheLimitsTheSameAttackHoldsTheServer) {
  // The control: this is what the limits above prevent.
  testing::Server server(tmp_.path() + "/data", {"--threads", "16", "--max-connections-per-client", "0",
                                                 "--request-timeout", "3600", "--max-header-bytes", "1048576",
                                                 "--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Slowloris attack("127.0.0.3", port_of(server), kAttackSockets);
  std::this_thread::sleep_for(1s);
  auto took = normal_request(server.base(), 4);
  EXPECT_TRUE(took.count() < 0 || took >= kBound) << "answered in " << took.count() << " ms";
}

TEST_F(LimitsTest, ARequestThatTakesTooLongIs408AndClosed) {
  testing::Server server(tmp_.path() + "/data", {"--request-timeout", "2", "--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  int fd = connect_from("127.0.0.4", port_of(server));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "GET /fhir/Patient HTTP/1.1\r\nHost: x\r\n"));
  // Still sending headers, a line a second: never idle, never done.
  auto start = Clock::now();
  std::thread trickle([fd] {
    for (int i = 0; i < 6; ++i) {
      std::this_thread::sleep_for(1s);
      if (!send_all(fd, "X-Slow: a\r\n")) return;
    }
  });
  bool closed = false;
  std::string answer = read_until_closed(fd, 8s, &closed);
  auto took = Clock::now() - start;
  trickle.join();
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_LT(took, 4s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("OperationOutcome"), std::string::npos) << "a /fhir request gets a FHIR answer: " << answer;
}

TEST_F(LimitsTest, HeadersOverTheLimitAre431AndUnderItAreServed) {
  testing::Server server(tmp_.path() + "/data", {"--max-header-bytes", "16384", "--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  auto request_with_headers = [](size_t lines) {
    std::string r = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    for (size_t i = 0; i < lines; ++i) r += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
    return r + "\r\n";
  };
  for (auto [lines, status] : {std::pair<size_t, std::string>{100, "200"}, {200, "431"}, {10000, "431"}}) {
    int fd = connect_from("127.0.0.1", port_of(server));
    ASSERT_GE(fd, 0);
    bool all_sent = send_all(fd, request_with_headers(lines));  // the server may stop reading midway
    bool closed = false;
    std::string answer = read_until_closed(fd, 5s, &closed);
    ::close(fd);
    EXPECT_TRUE(closed) << lines;
    // 1 MiB of headers is more than the server reads before closing: the client may see the
    // reset before the answer. Whatever it sees, it is never served.
    if (!all_sent && answer.empty()) continue;
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + status, 0), 0u) << lines << " header lines: " << answer.substr(0, 200);
  }
}

TEST_F(LimitsTest, ConnectionsBeyondTheLimitPerClientAre503AndOthersAreServed) {
  testing::Server server(tmp_.path() + "/data", {"--max-connections-per-client", "4", "--idle-timeout", "10",
                                                 "--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connect_from("127.0.0.5", port_of(server)));
  std::this_thread::sleep_for(300ms);  // all four are being served (waiting for a request)
  int extra = connect_from("127.0.0.5", port_of(server));
  ASSERT_GE(extra, 0);
  bool closed = false;
  std::string answer = read_until_closed(extra, 5s, &closed);
  ::close(extra);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  // Another address is served; so is this one once a connection is given back.
  EXPECT_GE(normal_request(server.base()).count(), 0);
  ::close(held.back());
  held.pop_back();
  std::this_thread::sleep_for(300ms);
  int again = connect_from("127.0.0.5", port_of(server));
  ASSERT_TRUE(send_all(again, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  answer = read_until_closed(again, 5s, &closed);
  ::close(again);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  for (int fd : held) ::close(fd);
}

TEST_F(LimitsTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  testing::Server server(tmp_.path() + "/data", {"--idle-timeout", "1", "--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  int fd = connect_from("127.0.0.6", port_of(server));
  ASSERT_GE(fd, 0);
  auto start = Clock::now();
  bool closed = false;
  std::string answer = read_until_closed(fd, 6s, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(answer.empty()) << answer;
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST_F(LimitsTest, CompressedBodiesAreRefusedUnread) {
  // A 100 MB gzip bomb is ~100 KB on the wire; the server never inflates it.
  testing::Server server(tmp_.path() + "/data", {"--no-sentinel"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::string bomb_path = tmp_.path() + "/bomb.gz";
  ASSERT_EQ(testing::run_command("head -c 100000000 /dev/zero | gzip -1 > " + testing::shell_quote(bomb_path)).status, 0);
  const std::string bomb = testing::read_file(bomb_path);
  httplib::Client c(server.base());
  for (const char* encoding : {"gzip", "br", "deflate"}) {
    auto res = c.Post("/fhir/Patient", {{"Content-Encoding", encoding}}, bomb, "application/fhir+json");
    if (!res) continue;  // refused unread: the reset may come first
    EXPECT_EQ(res->status, 415) << encoding;
    EXPECT_NE(res->body.find("OperationOutcome"), std::string::npos);
  }
  EXPECT_GE(normal_request(server.base()).count(), 0);
}

TEST_F(LimitsTest, BadLimitFlagsRefuseToStart) {
  for (std::vector<std::string> flags : {std::vector<std::string>{"--request-timeout", "0"},
                                         {"--idle-timeout", "0"}, {"--max-header-bytes", "100"},
                                         {"--max-header-bytes", "99999999"}}) {
    std::vector<std::string> args = {"serve", "--data", tmp_.path() + "/bad", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), flags.begin(), flags.end());
    testing::ProgramOutcome out = testing::run_medseal(args);
    EXPECT_NE(out.status, 0) << flags[0];
    EXPECT_NE(out.err.find(flags[0]), std::string::npos) << out.err;
  }
}

}  // namespace
}  // namespace medseal
