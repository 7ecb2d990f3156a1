// The person a client certificate names, as with an ID card: one field of the certificate's
// subject, by default serialNumber (ETSI EN 319 412-1 semantics identifiers such as
// "PNOEE-38001085718" on Estonian ID cards), or another configured field (CN, UID, emailAddress).
// The certificate must have been verified by the TLS layer (CA, validity dates, revocation list)
// first; this only reads it. The person is then looked up in the UserRegistry (user_registry.h).
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal::identity {

inline constexpr std::string_view kDefaultIdentityField = "serialNumber";

// The OpenSSL NID of a subject field given by its short or long name ("serialNumber", "CN",
// "commonName", "UID", "emailAddress"); kInvalidArgument for a name OpenSSL does not know.
Result<int> parse_identity_field(std::string_view name);

// The value of field `nid` in `cert`'s subject, which must occur exactly once and be a valid
// person id (check_person); kNotFound when the subject lacks it, kInvalidArgument otherwise.
Result<std::string> certificate_person(const X509& cert, int nid);

}  // namespace medseal::identity
