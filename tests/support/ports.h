// Free loopback ports for test servers started by other programs (rsyslogd) or started later.
#pragma once

namespace medseal::testing {

// A port of `type` (SOCK_STREAM or SOCK_DGRAM) that the kernel had free on 127.0.0.1 a moment ago;
// -1 if none. The probing socket is closed (not left listening, as httplib::Server's destructor
// does with SO_REUSEPORT, which would take a share of the connections meant for the real server).
int free_loopback_port(int type);

}  // namespace medseal::testing
