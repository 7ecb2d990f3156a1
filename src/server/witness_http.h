// The HTTP front of a tlog-witness (witness/witness.h) on cpp-httplib: POST /add-checkpoint and
// nothing else. The submission prefix is the server's root, so a log is configured with
// "http://HOST:PORT" as the witness's URL.
//
//   POST /add-checkpoint   the witness's reply, verbatim (status, content type, body); a body
//                          over witness::kMaxRequestBytes is 413 before it is read in full
//   /add-checkpoint        with any other method: 405 with "Allow: POST"
//   anything else          404
// Refusals that point at log misbehaviour (422, and 409 for a fork at equal size is not
// distinguishable here) and server errors (5xx) are logged as JSON lines on stderr.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "util/status.h"
#include "witness/witness.h"

namespace medseal::server {

struct WitnessHttpOptions {
  std::string host = "127.0.0.1";
  int port = 7380;       // 0: any free port (bind() says which)
  size_t threads = 16;   // connections served at once (keep-alive connections hold a thread)
};

class WitnessHttpServer {
 public:
  // `witness` must outlive the server.
  WitnessHttpServer(const witness::Witness& witness, WitnessHttpOptions options);
  ~WitnessHttpServer();
  WitnessHttpServer(const WitnessHttpServer&) = delete;
  WitnessHttpServer& operator=(const WitnessHttpServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  Result<int> bind();
  // Serves until stop(); call bind() first.
  Status run();
  // Stops run() from any thread (also before run() has started listening).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medseal::server
