// A small SVG chart of a soak run (tests/soak_test.cc): latency and memory over time, drawn by
// hand so that no plotting library is needed.
#pragma once

#include <string>
#include <vector>

namespace medseal::testing {

// One sample of a soak run.
struct SoakSample {
  double t_s = 0;         // seconds since the load started
  double rss_mb = 0;      // the server's VmRSS
  int fds = 0;            // the server's open file descriptors
  double p50_ms = 0, p99_ms = 0;  // latency of the requests answered in the sample's window
  size_t requests = 0, errors = 0;
  size_t alerts = 0;      // alerts raised so far
};

// An SVG document with two panels sharing the time axis: p50 and p99 latency (ms), and RSS (MB)
// with open files. Empty input gives empty panels.
std::string soak_svg(const std::vector<SoakSample>& samples, const std::string& title);

}  // namespace medseal::testing
