// Who stands in which relation to which patient, kept in memory so that an authorization is a map
// lookup, not a scan (policy.h says what the relations permit). Built from the stored records when
// the service starts and kept current by the service after every committed write.
//
// Relations come from records in the patient's compartment, naming an actor: a reference
// "Practitioner/<id>" or "Organization/<id>" (policy.h maps an identity to its actors):
//   Encounter  participant[].individual.reference: a care relation from period.start (or always)
//              until period.end + follow_up (or open-ended); none when status is cancelled or
//              entered-in-error.
//   CareTeam   participant[].member.reference: a care relation while status is "active", within
//              period when it has one.
//   Consent    status "active": provision.actor[].reference.reference, within provision.period;
//              provision.type "permit" is consent (a grant), "deny" a block.
//   Patient    the identity that wrote version 1 (registered the patient) has a registration
//              relation for `registration_window` after it, so a clinician can create a patient
//              and then record the first encounter.
// A deleted or superseded version's relations go with it. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"
#include "util/status.h"

namespace medseal::records {

enum class RelationKind { kNone, kCare, kRegistration, kConsent, kBlock };

// What lookup found; `source` is the record that established it ("Encounter/7").
struct Relation {
  RelationKind kind = RelationKind::kNone;
  std::string source;
};

struct RelationOptions {
  uint64_t follow_up_ms = 7ULL * 24 * 3600 * 1000;           // after an Encounter ends
  uint64_t registration_window_ms = 24ULL * 3600 * 1000;     // after registering a patient
};

class RelationIndex {
 public:
  explicit RelationIndex(RelationOptions options = {}) : options_(options) {}

  // Rebuilds the index from the latest stored versions (every Encounter, CareTeam and Consent; the
  // registrant of every Patient, whose ledger statement names its writer: `actor_of` maps that
  // name to its actor reference). Storage errors pass through.
  Status load(storage::Store& store, const std::function<std::string(std::string_view)>& actor_of);

  // Applies a committed version (any type; only the four above matter). `registrant` is the actor
  // reference of the identity that wrote it (it matters for version 1 of a Patient).
  void apply(const storage::RecordVersion& version, std::string_view registrant);

  // The strongest relation of any of `actors` to `patient` at `now_ms`: a block beats everything,
  // then care, registration, consent.
  Relation lookup(const std::vector<std::string>& actors, std::string_view patient,
                  uint64_t now_ms) const;

  // True when a Patient record `patient` ("Patient/<id>") exists (not deleted).
  bool patient_exists(std::string_view patient) const;

 private:
  struct Grant {
    RelationKind kind = RelationKind::kNone;
    uint64_t from_ms = 0;
    uint64_t to_ms = UINT64_MAX;  // exclusive
  };
  // (actor, patient) -> source -> grant
  using Key = std::pair<std::string, std::string>;

  void remove_source_locked(const std::string& source);
  void add_locked(const std::string& actor, const std::string& patient, const std::string& source,
                  Grant grant);

  RelationOptions options_;
  mutable std::shared_mutex mu_;
  std::map<Key, std::map<std::string, Grant>, std::less<>> grants_;
  std::map<std::string, std::vector<Key>, std::less<>> by_source_;
  std::set<std::string, std::less<>> patients_;
};

// Unix milliseconds of the start (or, with `end`, the exclusive end) of a FHIR date, dateTime or
// instant ("2024", "2024-03", "2024-03-05", "2024-03-05T10:00:00+02:00"); nullopt when malformed.
std::optional<uint64_t> parse_fhir_time(std::string_view text, bool end);

}  // namespace medseal::records
