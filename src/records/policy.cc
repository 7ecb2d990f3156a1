#include "records/policy.h"

#include <algorithm>

namespace medseal::records {

using identity::Role;

namespace {

bool is_write_op(std::string_view op) {
  return op == "create" || op == "update" || op == "delete";
}

}  // namespace

bool may_write(const identity::Identity& who) {
  return who.role == Role::kAdmin || who.role == Role::kClinician;
}

bool may_read(const identity::Identity& who, std::string_view compartment) {
  switch (who.role) {
    case Role::kAdmin:
    case Role::kClinician: return true;
    case Role::kPatient: return !compartment.empty() && compartment == who.patient;
    case Role::kAuditor: return false;
  }
  return false;
}

bool may_read_type(const identity::Identity& who) { return may_write(who); }

bool may_read_trail(const identity::Identity& who, std::string_view patient) {
  switch (who.role) {
    case Role::kAdmin:
    case Role::kAuditor: return true;
    case Role::kPatient: return patient == who.patient;
    case Role::kClinician: return false;
  }
  return false;
}

bool may_read_receipt(const identity::Identity& who, const Statement* statement) {
  switch (who.role) {
    case Role::kAdmin:
    case Role::kAuditor: return true;
    case Role::kClinician: return statement != nullptr && is_write_op(statement->op);
    case Role::kPatient:
      return statement != nullptr && std::find(statement->patients.begin(), statement->patients.end(),
                                               who.patient) != statement->patients.end();
  }
  return false;
}

bool may_erase(const identity::Identity& who) { return who.role == Role::kAdmin; }

}  // namespace medseal::records
