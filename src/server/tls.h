// TLS for medseal's HTTP server (OpenSSL): TLS 1.2 and later only with modern cipher suites
// (kTls12Ciphers, kTls13Ciphersuites), the server's certificate chain
// and key, and optionally mutual TLS: client certificates are verified during the handshake
// against the configured CAs, their validity dates and a revocation list (CRL, checked for the
// client certificate itself). A client certificate that fails verification ends the handshake
// (the client sees a TLS alert, never an HTTP answer) and is reported to certificate_refused; a client without a certificate may still
// use a bearer token. Which subject field names the person is the identity field
// (identity/certificate.h).
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace medseal::server {

// What the server negotiates (Mozilla's "intermediate" profile without its DHE suites): TLS 1.2
// with ECDHE key exchange and AEAD ciphers only, TLS 1.3 with its three common suites, in this
// order of preference, the server's order winning over the client's; no renegotiation, no
// compression.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kTls13Ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr const char* kTlsGroups = "X25519:P-256:P-384";

struct TlsOptions {
  std::string cert_file;                    // PEM: the server certificate, then its chain
  std::string key_file;                     // PEM: its private key
  std::vector<std::string> client_ca_files;  // PEM bundles of CAs for client certificates; none: no mTLS
  std::string crl_file;                     // PEM CRLs of those CAs; requires client_ca_files
  int identity_nid = 0;                     // the subject field naming the person (OpenSSL NID)
  // Called (from a connection's thread) for each client certificate refused in a handshake: the
  // peer's address, the certificate's person ("" if it names none) and OpenSSL's reason.
  std::function<void(const std::string& source, const std::string& person, const std::string& reason)>
      certificate_refused;

  bool enabled() const { return !cert_file.empty(); }
  bool mutual() const { return !client_ca_files.empty(); }
};

// Sets up `ctx` as described above; `options` must outlive `ctx` (its handshakes call
// certificate_refused). Fails (one line naming the file) on a file that cannot be
// read or parsed, a key that does not match the certificate, or a CRL without CAs.
Status configure_tls_context(SSL_CTX& ctx, const TlsOptions& options);

// Checks the options by configuring a throwaway context: for refusing to start on bad files.
Status check_tls_options(const TlsOptions& options);

// The person named by the verified client certificate of `ssl` (field options.identity_nid);
// "" when there is none or it names nobody valid.
std::string client_certificate_person(const SSL* ssl, const TlsOptions& options);

}  // namespace medseal::server
