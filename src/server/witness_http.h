// The HTTP front of a tlog-witness (witness/witness.h): POST /add-checkpoint and nothing else.
// The submission prefix is the server's root, so logs are configured with "http://HOST:PORT".
//
//   POST /add-checkpoint   the witness's reply, verbatim (status, content type, body); a body
//                          over witness::kMaxRequestBytes is 413 and is not read in full
//   /add-checkpoint        with any other method: 405 with "Allow: POST"
//   anything else          404
// Refusals that may be evidence of log misbehaviour (422) and server errors (5xx) are logged as
// JSON lines on stderr, with the reason and the client's address.
#pragma once

#include <cstddef>
#include <memory>

#include "server/http_listener.h"
#include "witness/witness.h"

namespace medseal::server {

// A server with the routes above, not yet bound; `witness` must outlive it. `threads` is the
// number of connections served at once (keep-alive connections each hold one).
std::unique_ptr<HttpListener> make_witness_server(const witness::Witness& witness, size_t threads);

}  // namespace medseal::server
