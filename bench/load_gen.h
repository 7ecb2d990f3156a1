// A closed-loop HTTP load generator: N keep-alive clients, each sending its next request as soon
// as the previous answer arrived, for a fixed time. Ships with the project so `make bench` needs
// no external tool; wrk gives the same figures within noise (README).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace medseal::bench {

struct LoadResult {
  size_t requests = 0;  // answered with the expected status
  size_t failures = 0;  // anything else (counted, never retried)
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  double per_second() const { return seconds > 0 ? double(requests) / seconds : 0; }
};

// One request on `client` by client number `client_no`, its `n`-th; returns true if the answer
// was the expected one.
using SendRequest = std::function<bool(httplib::Client& client, size_t client_no, size_t n)>;

LoadResult run_load(const std::string& host, int port, size_t clients,
                    std::chrono::milliseconds duration, const SendRequest& send);

// One server of several: client c talks to targets[c % targets.size()], so the clients are spread
// evenly.
struct Target {
  std::string host;
  int port = 0;
};
LoadResult run_load(const std::vector<Target>& targets, size_t clients,
                    std::chrono::milliseconds duration, const SendRequest& send);

}  // namespace medseal::bench
