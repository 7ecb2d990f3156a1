// Who may do what with records (identity.h lists the roles). Pure; the service asks before it
// touches anything and records a denial when the answer is no.
#pragma once

#include <string_view>

#include "identity/identity.h"
#include "records/statement.h"

namespace medseal::records {

// Create, update, delete, transactions: admins and clinicians.
bool may_write(const identity::Identity& who);
// Reading a record (read, vread, instance history, search hits) in `compartment` ("" if none):
// admins and clinicians any; patients their own compartment only; auditors none (they see the
// trail, not the content).
bool may_read(const identity::Identity& who, std::string_view compartment);
// Type-wide reads (type history, search without a patient): admins and clinicians.
bool may_read_type(const identity::Identity& who);
// A patient's access trail: admins and auditors any; a patient their own.
bool may_read_trail(const identity::Identity& who, std::string_view patient);
// A receipt for an entry with `statement` (null when it is not a record statement, such as a
// system entry appended by `medseal log append`): admins and auditors any; clinicians those of
// record versions; patients those naming them.
bool may_read_receipt(const identity::Identity& who, const Statement* statement);
// Erasure: admins.
bool may_erase(const identity::Identity& who);

}  // namespace medseal::records
