// Who may do what with records (DESIGN.md section 6; issue 4). Pure: the service looks up the
// caller's relation to the patient (relations.h), asks decide(), and records every answer, allow
// or deny, in the ledger with the rule that gave it (statement.h "rule").
//
// Identities and the FHIR actors they stand for: an identity named "local@org" (or "local") is
// Practitioner/<local>, and when it has an "@org" part also works for Organization/<org>. A
// Consent, Encounter or CareTeam names a clinician through those references. (When the users
// registry carries an explicit Practitioner reference, actors_of is the one place to change.)
//
// Data in a patient's compartment ("Patient/<id>"):
//   patient    own compartment: read everything ("own-compartment"), write Consent resources only
//              (that is how a patient grants access and blocks a clinician or organisation);
//              another patient's: denied ("other-compartment").
//   clinician  in this order:
//              1. a block (an active Consent with provision.type "deny" naming one of its actors)
//                 denies ("blocked"), unless the request breaks the glass: then it is allowed
//                 ("break-glass") and the alert says that it overrode the patient's block;
//              2. a care relation ("care-relation": an Encounter or CareTeam naming it, see
//                 relations.h), having registered the patient within the registration window
//                 ("registration") or the patient's consent ("consent": an active Consent with
//                 provision.type "permit" naming it, written by the patient, or by a clinician
//                 with a relation as a referral, or by an admin as a grant) allows;
//              3. a write into the compartment of a patient not (yet) registered (no Patient
//                 record) is allowed ("new-patient"): registering a patient and ingesting a
//                 transaction Bundle for a new patient need no relation;
//              4. break-glass (a non-empty reason) allows ("break-glass"), the ledger entry holds
//                 the reason, and the service raises a critical "break-glass" alert;
//              5. otherwise denied ("no-relation"), with a reason telling how to break the glass.
//   auditor    read only with the patient's consent ("consent"); else "no-clinical-content".
//   admin      write Consent resources (admin-issued grants, "admin-grant"); nothing else
//              ("no-clinical-content").
// Data in no compartment (Practitioner, Organization, Medication...): clinicians and admins read
// and write ("no-compartment"); patients and auditors not ("role").
// Type-wide search and history are allowed when every compartment on the page is (break-glass
// does not apply: it is per patient).
// Access trails: a patient their own ("own-compartment"), auditors any ("auditor"); nobody else.
// Receipts: auditors any ("auditor"); a patient those naming them; others as for reading the
// patients the entry names (or any entry they wrote themselves: "own-entry"); system entries
// naming no patient: admins and auditors.
// Erasure: admins ("admin").
// The forensic report (sentinel/forensics.h): auditors ("auditor") and admins ("admin").
// Statements pages (hashes and trail metadata of a ledger range, for remote monitors): auditors
// ("auditor") and admins ("admin").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "identity/identity.h"
#include "records/relations.h"
#include "records/statement.h"

namespace medseal::records {

// The FHIR references the identity acts as (see above); empty for patients.
std::vector<std::string> actors_of(const identity::Identity& who);

enum class Operation { kRead, kWrite };

struct Decision {
  bool allowed = false;
  std::string rule;    // statement.h "rule"
  std::string reason;  // denied: one line for the caller and the ledger
  bool break_glass = false;      // allowed only because the glass was broken
  bool overrode_block = false;   // ... over the patient's block
};

// What the service knows when it asks.
struct Situation {
  std::string_view type;         // the resource type
  std::string_view compartment;  // "Patient/<id>" or ""
  Relation relation;             // the caller's strongest relation to the compartment
  bool patient_exists = true;    // the compartment's Patient record exists
  std::string_view break_glass;  // the caller's reason, "" when not breaking the glass
};

Decision decide(const identity::Identity& who, Operation op, const Situation& situation);

// A patient's access trail.
Decision decide_trail(const identity::Identity& who, std::string_view patient);

// The receipt of an entry whose statement is `statement` (null for a system entry without one).
// `read_patient(p)` is decide(who, kRead, ...) for patient p.
template <typename ReadPatient>
Decision decide_receipt(const identity::Identity& who, const Statement* statement,
                        ReadPatient read_patient);

// Erasure.
Decision decide_erase(const identity::Identity& who);

// The forensic report.
Decision decide_forensics(const identity::Identity& who);
// A statements page.
Decision decide_integrity(const identity::Identity& who);

// --- implementation of the template

Decision allow(std::string rule);
Decision refuse(std::string rule, std::string reason);

template <typename ReadPatient>
Decision decide_receipt(const identity::Identity& who, const Statement* statement,
                        ReadPatient read_patient) {
  using identity::Role;
  if (who.role == Role::kAuditor) return allow("auditor");
  const bool names_patients = statement != nullptr && !statement->patients.empty();
  if (!names_patients) {
    if (who.role == Role::kAdmin) return allow("no-compartment");
    if (who.role == Role::kClinician && statement != nullptr && statement->sha256.size() > 0) {
      return allow("no-compartment");  // a version of a record in no compartment
    }
    return refuse("role", "not allowed to read this receipt");
  }
  if (statement->who == who.name && who.role != Role::kPatient) return allow("own-entry");
  Decision last = refuse("role", "not allowed to read this receipt");
  for (const std::string& p : statement->patients) {
    last = read_patient(p);
    if (last.allowed) return last;
  }
  return last;
}

}  // namespace medseal::records
