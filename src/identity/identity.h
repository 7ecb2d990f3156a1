// Who is calling: an identity with a role. Until a real identity provider is wired in, identities
// come from bearer tokens (token_store.h).
//
// Roles and what records/ lets them do:
//   admin      everything, including erasure and issuing tokens
//   clinician  read and write every record (each access is in the ledger)
//   auditor    read the access trail of any patient and receipts; no record content
//   patient    read the records of their own compartment and its access trail
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace medseal::identity {

enum class Role { kAdmin, kClinician, kAuditor, kPatient };

std::string_view role_name(Role role);
// The inverse of role_name; kInvalidArgument for anything else (case matters).
Result<Role> parse_role(std::string_view name);

struct Identity {
  std::string name;     // as it appears in ledger statements; 1..64 of [A-Za-z0-9._@-]
  Role role = Role::kClinician;
  std::string patient;  // kPatient only: their compartment, "Patient/<id>"
};

// Checks an identity before it is stored: the name's characters and length, and that `patient`
// is "Patient/<valid FHIR id>" exactly when the role is kPatient.
Status check_identity(const Identity& who);

}  // namespace medseal::identity
