// Alerts as syslog messages (RFC 5424), what hospital audit repositories receive (IHE ATNA), over
// UDP (RFC 5426: one message per datagram) or TCP (RFC 6587 octet counting: "LEN SP MSG").
//
//   <PRI>1 TIMESTAMP HOSTNAME medseal PROCID KIND [medseal@32473 id="..." kind="..."
//   severity="..."] SUMMARY
//
// PRI = facility * 8 + severity, facility 10 (security/authorization, as ATNA senders use);
// severity critical -> 2 (Critical), warning -> 4 (Warning), info -> 6 (Informational).
// MSGID is the alert's kind; 32473 is the private enterprise number reserved for examples
// (RFC 5612). The MSG is the one-line summary (ids only), cut to keep a datagram under 2048 bytes.
#pragma once

#include <memory>
#include <string>

#include "alerts/delivery.h"
#include "util/status.h"

namespace medseal::alerts {

inline constexpr int kSyslogFacility = 10;

// The RFC 5424 message for `alert`, from host `hostname` and process `procid`.
std::string syslog_message(const Alert& alert, const std::string& hostname, long procid);

// A destination "udp://HOST:PORT" or "tcp://HOST:PORT" (IPv6 as [ADDR]). kInvalidArgument for
// anything else. Nothing is connected before the first delivery.
Result<std::unique_ptr<Destination>> make_syslog_destination(const std::string& url);

}  // namespace medseal::alerts
