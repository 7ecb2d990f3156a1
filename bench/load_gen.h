// A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request
// as soon as the previous answer arrived, for a fixed time. Ships with the project so `make bench`
// needs no external tool. Like wrk it drives every connection from one epoll thread, so the
// generator costs the machine a few µs per request instead of a blocked thread per client (64
// client threads on 2 cores took CPU and context switches from the server they measured).
//
// Answers must carry Content-Length (no chunked bodies); anything else, a closed connection or a
// failed check counts as a failure and the connection is opened again.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace medseal::bench {

struct LoadResult {
  size_t requests = 0;  // answered as expected
  size_t failures = 0;  // anything else (counted, never retried)
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  double per_second() const { return seconds > 0 ? double(requests) / seconds : 0; }
};

// One answer as it arrived.
struct Answer {
  int status = 0;
  std::string_view head;  // the status line and headers, up to the blank line
  std::string_view body;
  // Case-insensitive on the name.
  bool has_header(std::string_view name) const;
};

// The whole request (request line, headers, body) that connection `client_no` sends as its
// `n`-th; it must ask for keep-alive (HTTP/1.1 without Connection: close).
using MakeRequest = std::function<std::string(size_t client_no, size_t n)>;
// True if `answer` is the expected one.
using CheckAnswer = std::function<bool(const Answer& answer)>;

// A keep-alive request to 127.0.0.1 with `authorization` (a whole header value, "Bearer ...") and
// Accept: application/fhir+json; a non-empty `body` is sent as FHIR JSON.
std::string fhir_request(std::string_view method, std::string_view path, std::string_view authorization,
                         std::string_view body = {});

LoadResult run_load(const std::string& host, int port, size_t connections, std::chrono::milliseconds duration,
                    const MakeRequest& make, const CheckAnswer& check);

// One server of several (IPv4 address and port): connection c talks to targets[c % targets.size()],
// so the connections are spread evenly.
struct Target {
  std::string host;
  int port = 0;
};
LoadResult run_load(const std::vector<Target>& targets, size_t connections, std::chrono::milliseconds duration,
                    const MakeRequest& make, const CheckAnswer& check);

}  // namespace medseal::bench
