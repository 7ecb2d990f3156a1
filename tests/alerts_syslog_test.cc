// Alerts as RFC 5424 syslog, received by a real rsyslogd (Debian's rsyslog) that the test starts
// on loopback with imudp and imtcp and an omfile that writes what rsyslog parsed back out as
// RFC 5424 lines, so a field our message got wrong shows up in the file.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "alerts/pipeline.h"
#include "alerts/syslog_sink.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/ports.h"
#include "support/process.h"
#include "util/time_format.h"

namespace medseal {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";

bool tcp_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// rsyslogd in the foreground (-n) with its own config, pid file and work directory.
class Rsyslogd {
 public:
  explicit Rsyslogd(const std::string& dir) : dir_(dir), out_(dir + "/received.log") {
    udp_port_ = testing::free_loopback_port(SOCK_DGRAM);
    tcp_port_ = testing::free_loopback_port(SOCK_STREAM);
    std::ofstream conf(dir + "/rsyslog.conf");
    conf << "global(workDirectory=\"" << dir << "\")\n"
         << "module(load=\"imudp\")\nmodule(load=\"imtcp\")\n"
         << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << udp_port_ << "\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tcp_port_ << "\")\n"
         // What rsyslog parsed, field by field, behind the input that received it.
         << "template(name=\"fields\" type=\"string\" string=\"%inputname% <%PRI%>1 "
            "%TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% "
            "%msg%\\n\")\n"
         << "*.* action(type=\"omfile\" file=\"" << out_ << "\" template=\"fields\")\n";
  }
  ~Rsyslogd() { stop(); }

  // Starts it; "" once it accepts TCP connections, else why not.
  std::string start() {
    if (::access(kRsyslogd, X_OK) != 0) return std::string(kRsyslogd) + " is not installed (scripts/install-deps.sh)";
    int err = ::open((dir_ + "/rsyslogd.err").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = testing::spawn_program({kRsyslogd, "-n", "-f", dir_ + "/rsyslog.conf", "-i", dir_ + "/rsyslogd.pid"},
                                  "", err, err);
    ::close(err);
    if (pid_ < 0) return "cannot run rsyslogd";
    if (!eventually([&] { return tcp_accepts(tcp_port_); }, 10s)) {
      return "rsyslogd did not listen: " + testing::read_file(dir_ + "/rsyslogd.err");
    }
    std::this_thread::sleep_for(200ms);  // imudp starts beside imtcp; give it a moment
    return "";
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    testing::wait_exit_status(pid_);
    pid_ = -1;
  }

  std::vector<std::string> lines() const {
    std::ifstream in(out_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  int udp_port() const { return udp_port_; }
  int tcp_port() const { return tcp_port_; }

 private:
  std::string dir_, out_;
  int udp_port_ = -1, tcp_port_ = -1;
  pid_t pid_ = -1;
};

struct Parsed {
  std::string input, pri, timestamp, host, app, procid, msgid, sd, msg;
};

// "<input> <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]" as the test's rsyslog template
// writes it; SD is "-" or one bracketed element whose quoted values may hold escaped characters.
// (Hand-written: std::regex trips GCC 12's -Wmaybe-uninitialized in the sanitizer build.)
std::optional<Parsed> parse(const std::string& line) {
  Parsed p;
  size_t at = 0;
  auto field = [&](std::string* out) {
    const size_t space = line.find(' ', at);
    if (space == std::string::npos || space == at) return false;
    *out = line.substr(at, space - at);
    at = space + 1;
    return true;
  };
  std::string version;
  if (!field(&p.input) || !field(&version)) return std::nullopt;
  if (version.size() < 4 || version.front() != '<' || !version.ends_with(">1")) return std::nullopt;
  p.pri = version.substr(1, version.size() - 3);
  if (p.pri.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  for (std::string* f : {&p.timestamp, &p.host, &p.app, &p.procid, &p.msgid}) {
    if (!field(f)) return std::nullopt;
  }
  if (at < line.size() && line[at] == '-') {
    p.sd = "-";
    ++at;
  } else if (at < line.size() && line[at] == '[') {
    size_t end = at + 1;
    for (bool quoted = false; end < line.size(); ++end) {
      const char c = line[end];
      if (quoted && c == '\\') {
        ++end;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == ']') {
        break;
      }
    }
    if (end >= line.size()) return std::nullopt;
    p.sd = line.substr(at, end + 1 - at);
    at = end + 1;
  } else {
    return std::nullopt;
  }
  if (at < line.size() && line[at] == ' ') ++at;
  p.msg = line.substr(at);
  return p;
}

TEST(AlertSyslog, MessageIsRfc5424WithTheKindAsMsgidAndTheIdInStructuredData) {
  alerts::Alert a = alerts::make_alert(alerts::Severity::kWarning, "witness-refusal", "w1 \"refused\"\nagain]");
  a.id = "0123abcd";
  a.time_ms = 1'700'000'000'123;
  EXPECT_EQ(alerts::syslog_message(a, "host1", 42),
            "<84>1 2023-11-14T22:13:20.123Z host1 medseal 42 witness-refusal "
            "[medseal@32473 id=\"0123abcd\" kind=\"witness-refusal\" severity=\"warning\"] "
            "w1 \"refused\" again]");
  a.severity = alerts::Severity::kCritical;
  a.kind = "";
  a.summary = "";
  EXPECT_EQ(alerts::syslog_message(a, "", 1).substr(0, 50),
            "<82>1 2023-11-14T22:13:20.123Z - medseal 1 - [meds");
}

TEST(AlertSyslog, BadDestinationsAreRefused) {
  EXPECT_FALSE(alerts::make_syslog_destination("syslog://127.0.0.1:514"));
  EXPECT_FALSE(alerts::make_syslog_destination("udp://127.0.0.1"));
  EXPECT_FALSE(alerts::make_syslog_destination("tcp://127.0.0.1:5x4"));
  EXPECT_TRUE(alerts::make_syslog_destination("tcp://[::1]:514"));
}

TEST(AlertSyslog, RsyslogReceivesEveryAlertOverUdpAndTcp) {
  testing::TempDir dir;
  Rsyslogd rsyslogd(dir.path());
  std::string why = rsyslogd.start();
  if (why.find("is not installed") != std::string::npos) GTEST_SKIP() << why;
  ASSERT_EQ(why, "");

  alerts::PipelineOptions o;
  o.outbox_path = dir.path() + "/alerts.db";
  o.syslogs = {"udp://127.0.0.1:" + std::to_string(rsyslogd.udp_port()),
               "tcp://127.0.0.1:" + std::to_string(rsyslogd.tcp_port())};
  o.to_stderr = false;
  o.backoff = {20ms, 200ms};
  auto p = alerts::Pipeline::start(o);
  ASSERT_TRUE(p) << p.status().to_string();
  alerts::Alert fork = alerts::make_alert(alerts::Severity::kCritical, "fork", "log forked at size 7");
  alerts::Alert refusal = alerts::make_alert(alerts::Severity::kWarning, "witness-refusal", "w1 refused [409]");
  (*p)->raise(fork);
  (*p)->raise(refusal);
  ASSERT_TRUE(eventually([&] { return rsyslogd.lines().size() >= 4; }, 10s))
      << testing::read_file(dir.path() + "/rsyslogd.err");

  std::map<std::string, std::vector<std::string>> ids_by_input;
  for (const std::string& line : rsyslogd.lines()) {
    auto f = parse(line);
    ASSERT_TRUE(f) << line;
    const alerts::Alert& a = f->msgid == "fork" ? fork : refusal;
    EXPECT_EQ(f->msgid, a.kind) << line;
    EXPECT_EQ(f->pri, a.kind == "fork" ? "82" : "84") << line;  // facility 10, critical 2 / warning 4
    EXPECT_EQ(f->app, "medseal");
    EXPECT_EQ(f->procid, std::to_string(::getpid()));
    EXPECT_EQ(f->sd, "[medseal@32473 id=\"" + a.id + "\" kind=\"" + a.kind + "\" severity=\"" +
                         std::string(alerts::severity_name(a.severity)) + "\"]")
        << line;
    EXPECT_EQ(f->msg, a.summary) << line;
    EXPECT_EQ(f->timestamp.substr(0, 19), format_instant(a.time_ms).substr(0, 19)) << line;
    ids_by_input[f->input].push_back(a.id);
  }
  std::vector<std::string> in_order = {fork.id, refusal.id};
  EXPECT_EQ(ids_by_input["imudp"], in_order);
  EXPECT_EQ(ids_by_input["imtcp"], in_order);
}

TEST(AlertSyslog, TcpReconnectsToARestartedServerAndLosesNothing) {
  testing::TempDir dir;
  auto rsyslogd = std::make_unique<Rsyslogd>(dir.path());
  std::string why = rsyslogd->start();
  if (why.find("is not installed") != std::string::npos) GTEST_SKIP() << why;
  ASSERT_EQ(why, "");
  int port = rsyslogd->tcp_port();
  alerts::PipelineOptions o;
  o.outbox_path = dir.path() + "/alerts.db";
  o.syslogs = {"tcp://127.0.0.1:" + std::to_string(port)};
  o.to_stderr = false;
  o.backoff = {20ms, 200ms};
  auto p = alerts::Pipeline::start(o);
  ASSERT_TRUE(p) << p.status().to_string();
  (*p)->raise(alerts::make_alert(alerts::Severity::kCritical, "fork", "first"));
  ASSERT_TRUE(eventually([&] { return rsyslogd->lines().size() == 1; }, 10s));

  rsyslogd->stop();  // the connection is closed under the sender
  (*p)->raise(alerts::make_alert(alerts::Severity::kCritical, "fork", "second"));
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(rsyslogd->start(), "");  // same config, same ports, same output file
  ASSERT_TRUE(eventually([&] { return rsyslogd->lines().size() >= 2; }, 10s));
  std::this_thread::sleep_for(300ms);
  auto lines = rsyslogd->lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(parse(lines[1])->msg, "second");
}

}  // namespace
}  // namespace medseal
