// `medseal serve` as a real process for end-to-end tests: started on a free loopback port, ready
// once it printed its URL and /healthz answers, stopped with SIGTERM (then SIGKILL) when it dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace medseal::testing {

class Server {
 public:
  // `extra`: more `medseal serve` flags after --data and --listen.
  explicit Server(const std::string& data_dir, std::vector<std::string> extra = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool ready() const { return !base_.empty(); }
  const std::string& base() const { return base_; }  // http://127.0.0.1:PORT
  std::string log_url() const { return base_ + "/log"; }
  const std::string& first_lines() const { return out_; }
  std::string stderr_text() const;

  // SIGTERM and the exit status; SIGKILL (and -1) if the server has not stopped within 20 s.
  int stop();

 private:
  void wait_until_ready();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_, base_, err_path_;
};

}  // namespace medseal::testing
