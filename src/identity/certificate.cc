#include "identity/certificate.h"

#include <openssl/objects.h>

#include "identity/user_registry.h"

namespace medseal::identity {

Result<int> parse_identity_field(std::string_view name) {
  const std::string text(name);
  int nid = OBJ_txt2nid(text.c_str());
  if (nid == NID_undef) return Status::invalid("unknown certificate subject field: " + text);
  return nid;
}

Result<std::string> certificate_person(const X509& cert, int nid) {
  const X509_NAME* subject = X509_get_subject_name(&cert);
  if (!subject) return Status::not_found("the certificate has no subject");
  int at = X509_NAME_get_index_by_NID(subject, nid, -1);
  if (at < 0) return Status::not_found("the certificate's subject lacks the identity field");
  if (X509_NAME_get_index_by_NID(subject, nid, at) >= 0) {
    return Status::invalid("the certificate's subject has the identity field more than once");
  }
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return Status::invalid("the certificate's identity field is not text");
  std::string person(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  MEDSEAL_RETURN_IF_ERROR(check_person(person));
  return person;
}

}  // namespace medseal::identity
