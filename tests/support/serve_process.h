// `medseal serve` as a real process for end-to-end tests, on a free loopback port (background.h).
#pragma once

#include <string>
#include <vector>

#include "support/background.h"

namespace medseal::testing {

class Server : public Background {
 public:
  // `extra`: more `medseal serve` flags after --data and --listen. Stderr goes to DATA.serve.err.
  explicit Server(const std::string& data_dir, std::vector<std::string> extra = {})
      : Background(args(data_dir, std::move(extra)), data_dir + ".serve.err") {}
  std::string log_url() const { return base() + "/log"; }

 private:
  static std::vector<std::string> args(const std::string& data_dir, std::vector<std::string> extra) {
    std::vector<std::string> a = {"serve", "--data", data_dir, "--listen", "127.0.0.1:0"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace medseal::testing
