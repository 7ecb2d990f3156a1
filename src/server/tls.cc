#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <netdb.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "identity/certificate.h"

namespace medseal::server {
namespace {

// The first OpenSSL error in its queue, as one short line, and the queue emptied.
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  if (ERR_SYSTEM_ERROR(code)) return std::strerror(static_cast<int>(ERR_GET_REASON(code)));
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

Status file_error(const std::string& flag, const std::string& file) {
  return Status::invalid(flag + " " + file + ": " + openssl_reason());
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

// Adds every object of a PEM file (certificates or CRLs) to `store`; at least one must be there.
template <typename T>
struct PemKind {
  const char* flag;
  const char* what;
  T* (*read)(BIO*, T**, pem_password_cb*, void*);
  int (*add)(X509_STORE*, T*);
  void (*free)(T*);
};
const PemKind<X509> kCaCertificates{"--client-ca", "PEM certificate", PEM_read_bio_X509, X509_STORE_add_cert, X509_free};
const PemKind<X509_CRL> kCrls{"--crl", "PEM CRL", PEM_read_bio_X509_CRL, X509_STORE_add_crl, X509_CRL_free};

template <typename T>
Status load_pem_file(X509_STORE* store, const std::string& file, const PemKind<T>& kind) {
  Bio bio(BIO_new_file(file.c_str(), "r"), BIO_free);
  if (!bio) return file_error(kind.flag, file);
  int count = 0;
  while (T* object = kind.read(bio.get(), nullptr, nullptr, nullptr)) {
    int added = kind.add(store, object);
    kind.free(object);
    if (!added) return file_error(kind.flag, file);
    ++count;
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (count == 0) return Status::invalid(std::string(kind.flag) + " " + file + ": no " + kind.what + " in it");
  return Status::ok();
}

// The numeric address of the peer on the socket of `ssl`; "" if unknown.
std::string peer_address(const SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t length = sizeof addr;
  if (::getpeername(SSL_get_fd(ssl), reinterpret_cast<sockaddr*>(&addr), &length) != 0) return "";
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) {
    return "";
  }
  return host;
}

// Reports a refused client certificate; OpenSSL stops at the first failure, so once per handshake.
int verify_client(int preverify_ok, X509_STORE_CTX* store_ctx) {
  if (preverify_ok) return 1;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* options = ssl ? static_cast<const TlsOptions*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) : nullptr;
  if (!options || !options->certificate_refused) return 0;
  std::string person;
  if (X509* cert = X509_STORE_CTX_get0_cert(store_ctx)) {  // the leaf, whatever failed
    Result<std::string> named = identity::certificate_person(*cert, options->identity_nid);
    if (named) person = *named;
  }
  options->certificate_refused(peer_address(ssl),
                               person, X509_verify_cert_error_string(X509_STORE_CTX_get_error(store_ctx)));
  return 0;
}

Status configure_client_verification(SSL_CTX& ctx, const TlsOptions& o) {
  if (!o.mutual()) {
    if (!o.crl_file.empty()) return Status::invalid("--crl needs --client-ca");
    return Status::ok();
  }
  X509_STORE* store = SSL_CTX_get_cert_store(&ctx);
  for (const std::string& file : o.client_ca_files) MEDSEAL_RETURN_IF_ERROR(load_pem_file(store, file, kCaCertificates));
  if (!o.crl_file.empty()) {
    MEDSEAL_RETURN_IF_ERROR(load_pem_file(store, o.crl_file, kCrls));
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  }
  // A certificate is asked for but not required: token clients connect without one. One that is
  // sent must verify, or the handshake fails.
  SSL_CTX_set_app_data(&ctx, const_cast<TlsOptions*>(&o));
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, verify_client);
  // The CA names offered to clients, so a browser or an ID-card middleware picks the right card.
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const std::string& file : o.client_ca_files) SSL_add_file_cert_subjects_to_stack(names, file.c_str());
  SSL_CTX_set_client_CA_list(&ctx, names);
  return Status::ok();
}

// Forward secrecy (ECDHE) and AEAD only: no RSA key exchange, no CBC, no SHA-1 MACs; the
// server's order wins, so a client offering weak suites first still gets a strong one.
Status configure_ciphers(SSL_CTX& ctx) {
  if (!SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION)) return Status::internal("cannot require TLS 1.2");
  if (SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(&ctx, kTls13Ciphersuites) != 1 ||
      SSL_CTX_set1_groups_list(&ctx, kTlsGroups) != 1) {
    return Status::internal("cannot set the TLS cipher suites: " + openssl_reason());
  }
  SSL_CTX_set_options(&ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  return Status::ok();
}

}  // namespace

Status configure_tls_context(SSL_CTX& ctx, const TlsOptions& o) {
  ERR_clear_error();
  MEDSEAL_RETURN_IF_ERROR(configure_ciphers(ctx));
  if (SSL_CTX_use_certificate_chain_file(&ctx, o.cert_file.c_str()) != 1) return file_error("--tls-cert", o.cert_file);
  if (SSL_CTX_use_PrivateKey_file(&ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return file_error("--tls-key", o.key_file);
  }
  if (SSL_CTX_check_private_key(&ctx) != 1) {
    ERR_clear_error();
    return Status::invalid("--tls-key " + o.key_file + " does not match --tls-cert " + o.cert_file);
  }
  return configure_client_verification(ctx, o);
}

Status check_tls_options(const TlsOptions& o) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Status::internal("cannot create a TLS context");
  return configure_tls_context(*ctx, o);
}

std::string client_certificate_person(const SSL* ssl, const TlsOptions& o) {
  if (!ssl || !o.mutual()) return "";
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  Result<std::string> person = identity::certificate_person(*cert, o.identity_nid);
  return person ? *person : "";
}

}  // namespace medseal::server
