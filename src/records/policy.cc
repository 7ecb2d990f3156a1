#include "records/policy.h"

namespace medseal::records {

using identity::Role;

namespace {

constexpr std::string_view kBreakGlassHint =
    "; to proceed, give a reason in X-Medseal-Break-Glass (the patient and the auditors will see it)";

Decision break_glass(std::string_view reason, bool over_block) {
  Decision d = allow("break-glass");
  d.reason = std::string(reason);
  d.break_glass = true;
  d.overrode_block = over_block;
  return d;
}

Decision decide_clinician(Operation op, const Situation& s) {
  const std::string patient(s.compartment);
  switch (s.relation.kind) {
    case RelationKind::kBlock:
      if (!s.break_glass.empty()) return break_glass(s.break_glass, true);
      return refuse("blocked", patient + " has blocked access by you (" + s.relation.source + ")" +
                                   std::string(kBreakGlassHint));
    case RelationKind::kCare: return allow("care-relation");
    case RelationKind::kRegistration: return allow("registration");
    case RelationKind::kConsent: return allow("consent");
    case RelationKind::kNone: break;
  }
  if (op == Operation::kWrite && !s.patient_exists) return allow("new-patient");
  if (!s.break_glass.empty()) return break_glass(s.break_glass, false);
  return refuse("no-relation", "no care relation or consent for " + patient + std::string(kBreakGlassHint));
}

Decision decide_in_compartment(const identity::Identity& who, Operation op, const Situation& s) {
  const bool consent_write = op == Operation::kWrite && s.type == "Consent";
  switch (who.role) {
    case Role::kPatient:
      if (s.compartment != who.patient) {
        return refuse("other-compartment", "a patient sees only their own records");
      }
      if (op == Operation::kWrite && !consent_write) {
        return refuse("role", "a patient writes only Consent resources");
      }
      return allow("own-compartment");
    case Role::kClinician: return decide_clinician(op, s);
    case Role::kAuditor:
      if (op == Operation::kRead && s.relation.kind == RelationKind::kConsent) return allow("consent");
      return refuse("no-clinical-content", "an auditor sees no clinical content without the patient's consent");
    case Role::kAdmin:
      if (consent_write) return allow("admin-grant");
      return refuse("no-clinical-content", "an admin sees and writes no clinical content");
  }
  return refuse("role", "unknown role");
}

}  // namespace

Decision allow(std::string rule) { return Decision{true, std::move(rule), {}, false, false}; }

Decision refuse(std::string rule, std::string reason) {
  return Decision{false, std::move(rule), std::move(reason), false, false};
}

std::vector<std::string> actors_of(const identity::Identity& who) {
  if (who.role == Role::kPatient) return {};
  const size_t at = who.name.find('@');
  std::vector<std::string> actors{"Practitioner/" + who.name.substr(0, at)};
  if (at != std::string::npos) actors.push_back("Organization/" + who.name.substr(at + 1));
  return actors;
}

Decision decide(const identity::Identity& who, Operation op, const Situation& s) {
  if (!s.compartment.empty()) return decide_in_compartment(who, op, s);
  if (who.role == Role::kClinician || who.role == Role::kAdmin) return allow("no-compartment");
  return refuse("role", "the role " + std::string(identity::role_name(who.role)) +
                            " may not " + (op == Operation::kRead ? "read" : "write") + " these records");
}

Decision decide_trail(const identity::Identity& who, std::string_view patient) {
  if (who.role == Role::kAuditor) return allow("auditor");
  if (who.role == Role::kPatient && who.patient == patient) return allow("own-compartment");
  return refuse("role", "not allowed to read this access trail");
}

Decision decide_erase(const identity::Identity& who) {
  if (who.role == Role::kAdmin) return allow("admin");
  return refuse("role", "only an admin may erase records");
}

// Reports over the whole ledger, for auditors and admins only.
Decision auditor_or_admin(const identity::Identity& who, std::string_view refusal) {
  if (who.role == Role::kAuditor) return allow("auditor");
  if (who.role == Role::kAdmin) return allow("admin");
  return refuse("role", std::string(refusal));
}

Decision decide_forensics(const identity::Identity& who) {
  return auditor_or_admin(who, "the forensic report is for auditors and admins");
}

Decision decide_integrity(const identity::Identity& who) {
  return auditor_or_admin(who, "only auditors and admins may read statements pages");
}

}  // namespace medseal::records
