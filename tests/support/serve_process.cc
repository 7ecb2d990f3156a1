#include "support/serve_process.h"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/paths.h"
#include "support/process.h"

namespace medseal::testing {

Server::Server(const std::string& data_dir, std::vector<std::string> extra) {
  err_path_ = data_dir + ".serve.err";
  int fds[2];
  if (::pipe(fds) != 0) return;
  int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = {"serve", "--data", data_dir, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.begin(), medseal_binary());
  pid_ = spawn_program(args, "", fds[1], err);
  ::close(fds[1]);
  ::close(err);
  out_fd_ = fds[0];
  if (pid_ > 0) wait_until_ready();
}

Server::~Server() {
  if (pid_ > 0) stop();
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::string Server::stderr_text() const { return read_file(err_path_); }

int Server::stop() {
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  wait_exit_status(pid_);
  pid_ = -1;
  return -1;
}

// The first stdout line is "listening on URL"; then /healthz must answer. 20 s at most each.
void Server::wait_until_ready() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out_.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    out_.append(buf, static_cast<size_t>(n));
  }
  const std::string prefix = "listening on ";
  if (out_.rfind(prefix, 0) != 0 || out_.find('\n') == std::string::npos) return;
  std::string url = out_.substr(prefix.size(), out_.find('\n') - prefix.size());
  httplib::Client client(url);
  while (std::chrono::steady_clock::now() < deadline) {
    auto res = client.Get("/healthz");
    if (res && res->status == 200) {
      base_ = url;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace medseal::testing
