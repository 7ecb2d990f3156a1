#include "identity/identity.h"

#include <array>

namespace medseal::identity {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxIdLength = 64;  // FHIR R4 id: [A-Za-z0-9\-\.]{1,64}
constexpr std::string_view kPatientPrefix = "Patient/";

struct RoleName {
  Role role;
  std::string_view name;
};
constexpr std::array<RoleName, 4> kRoles = {{{Role::kAdmin, "admin"},
                                             {Role::kClinician, "clinician"},
                                             {Role::kAuditor, "auditor"},
                                             {Role::kPatient, "patient"}}};

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '@' && c != '-') return false;
  }
  return true;
}

// Kept here rather than taken from records/: identities sit below the record layer.
bool valid_fhir_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!is_alnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool valid_compartment(std::string_view patient) {
  return patient.starts_with(kPatientPrefix) && valid_fhir_id(patient.substr(kPatientPrefix.size()));
}

}  // namespace

std::string_view role_name(Role role) {
  for (const RoleName& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return "unknown";
}

Result<Role> parse_role(std::string_view name) {
  for (const RoleName& r : kRoles) {
    if (r.name == name) return r.role;
  }
  return Status::invalid("unknown role (admin, clinician, auditor or patient)");
}

Status check_identity(const Identity& who) {
  if (!valid_name(who.name)) {
    return Status::invalid("an identity's name is 1 to 64 of A-Z a-z 0-9 . _ @ -");
  }
  if (who.role == Role::kPatient && !valid_compartment(who.patient)) {
    return Status::invalid("a patient identity needs its compartment as Patient/<id>");
  }
  if (who.role != Role::kPatient && !who.patient.empty()) {
    return Status::invalid("only a patient identity has a compartment");
  }
  return Status::ok();
}

}  // namespace medseal::identity
