#include "support/background.h"

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

Background::Background(std::vector<std::string> args, std::string err_path)
    : err_path_(std::move(err_path)) {
  int fds[2];
  if (::pipe(fds) != 0) return;
  int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  args.insert(args.begin(), medseal_binary());
  pid_ = spawn_program(args, "", fds[1], err);
  ::close(fds[1]);
  ::close(err);
  out_fd_ = fds[0];
  if (pid_ > 0) wait_until_ready();
}

Background::~Background() {
  if (pid_ > 0) stop();
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::string Background::stderr_text() const { return read_file(err_path_) + ended_; }

bool Background::wait_for_stderr(const std::string& text, int limit_s) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
  while (stderr_text().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

int Background::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill();
  return -1;
}

int Background::kill() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGKILL);
  int status = wait_exit_status(pid_);
  pid_ = -1;
  return status;
}

// The first stdout line is "listening on URL"; then an HTTP request there must be answered.
// 20 s at most each.
void Background::wait_until_ready() {
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
  if (out_.rfind(prefix, 0) != 0 || out_.find('\n') == std::string::npos) {
    // A silent crash says nothing on stderr: say how it ended, if it did (stdout closed).
    for (int i = 0; i < 20 && pid_ > 0; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ended_ = WIFEXITED(status) ? "[exited with status " + std::to_string(WEXITSTATUS(status)) + " before it was ready]"
                                   : "[killed by signal " + std::to_string(WTERMSIG(status)) + " before it was ready]";
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return;
  }
  std::string url = out_.substr(prefix.size(), out_.find('\n') - prefix.size());
  httplib::Client client(url);
  client.enable_server_certificate_verification(false);  // https: only whether it answers
  while (std::chrono::steady_clock::now() < deadline) {
    if (client.Get("/healthz")) {
      base_ = url;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace medseal::testing
