// Health records over the ledger: the operations of the FHIR REST API, each one authorized,
// recorded in the ledger and durable before it returns (DESIGN.md section 3, "A write" and
// "A read").
//
// - Every version is a ledger entry of kind record-version whose statement (statement.h) holds the
//   SHA-256 of the exact stored bytes; the version row is committed in the same transaction.
//   Versions are immutable; a delete is a new version marked deleted.
// - Every read, vread, history, search, access-trail read and receipt is an entry of kind access,
//   committed before the method returns. A search is ONE entry listing every returned resource,
//   keyed by every patient among them, so each patient's trail shows it.
// - Every refused request (kPermissionDenied) is an entry of kind access-denied.
// - Bad input (kInvalidArgument) writes nothing.
// - Who may do what is policy.h's; every statement of a decision on clinical data carries the
//   rule that decided ("rule"). Care relations are indexed in memory (relations.h): loaded from
//   the store by the constructor, updated after every committed write.
//
// Each method sets `*ledger_index` (when not null) to the index of the entry it appended, also
// when it returns kPermissionDenied, and leaves it alone when it appended nothing. Errors:
// kInvalidArgument (bad input), kNotFound, kPermissionDenied, kFailedPrecondition (If-Match names
// another version), kConflict, kIoError (storage). Thread-safe: concurrent updates of one record
// are serialized, so exactly one wins each version.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert.h"
#include "identity/identity.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "records/relations.h"
#include "records/statement.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/status.h"

namespace medseal::records {

struct Caller {
  identity::Identity who;
  std::string purpose = "TREAT";  // recorded in every statement of this caller's requests
  // Non-empty: the caller breaks the glass with this reason (policy.h): a clinician without a care
  // relation or consent gets access, the statement records the reason and rule "break-glass", and
  // one critical "break-glass" alert is raised per request.
  std::string break_glass;
};

struct Written {
  storage::RecordVersion version;  // as stored: bytes stamped with id and meta
  bool created = false;            // a new record (201) rather than a new version of one (200)
};

// An entry of a patient's access trail.
struct TrailEntry {
  uint64_t index = 0;
  ledger::Entry entry;  // kind and time as in the public ledger
  Statement statement;
};

struct RecordOptions {
  size_t max_resource_bytes = 8 << 20;  // a larger body is kInvalidArgument
  uint64_t max_page = 1000;             // history, search and trail pages are cut to this
  RelationOptions relations;            // care relation windows (relations.h)
  alerts::AlertSink* alerts = nullptr;  // break-glass alerts go here; null: none are raised
};

class RecordService {
 public:
  // `ledger` must be the ledger over `store`; both outlive the service.
  RecordService(ledger::Ledger& ledger, storage::Store& store, const Clock& clock,
                RecordOptions options = {});
  ~RecordService();
  // Rebuilds what the service keeps in memory (the care relations) from the store, for a node
  // that takes over sequencing from another (cluster/cluster_node.h). Not while requests run.
  Status reload();

  // POST [type]: a new record with a server-assigned id (a UUID).
  Result<Written> create(const Caller& caller, std::string_view type, std::string_view body,
                         uint64_t* ledger_index);
  // PUT [type]/[id]: a new version, or the first version of a new id (update-as-create). With
  // `if_match`, kFailedPrecondition unless it names the current version.
  Result<Written> update(const Caller& caller, std::string_view type, std::string_view id,
                         std::string_view body, std::optional<uint64_t> if_match,
                         uint64_t* ledger_index);
  // DELETE [type]/[id]: a new version marked deleted. kNotFound for a record never written;
  // deleting a deleted record returns its deletion without a new version.
  Result<Written> remove(const Caller& caller, std::string_view type, std::string_view id,
                         std::optional<uint64_t> if_match, uint64_t* ledger_index);

  // GET [type]/[id] (version 0: the latest) and [type]/[id]/_history/[vid]. A deleted version is
  // returned with deleted = true (the API answers 410).
  Result<storage::RecordVersion> read(const Caller& caller, std::string_view type,
                                      std::string_view id, uint64_t version,
                                      uint64_t* ledger_index);
  // [type]/[id]/_history (id not empty) and [type]/_history, newest first, deletions included.
  Result<storage::RecordPage> history(const Caller& caller, std::string_view type,
                                      std::string_view id, uint64_t offset, uint64_t count,
                                      uint64_t* ledger_index);
  // GET [type]?...: latest versions that are not deleted. A patient caller sees only their own
  // compartment (asking for another patient's is denied).
  Result<storage::RecordPage> search(const Caller& caller, const storage::RecordQuery& query,
                                     uint64_t* ledger_index);
  // POST of a transaction Bundle: all entries in one ledger batch, all or nothing; `urn:uuid:`
  // references to entries of the bundle are rewritten to the ids assigned. Results in bundle
  // order. *ledger_index is the first entry's index.
  Result<std::vector<Written>> transaction(const Caller& caller, std::string_view bundle,
                                           uint64_t* ledger_index);

  // AuditEvent?patient=Patient/x: the entries whose statements name the patient, newest first.
  Result<std::vector<TrailEntry>> access_trail(const Caller& caller, std::string_view patient,
                                               uint64_t offset, uint64_t count,
                                               uint64_t* ledger_index);
  // The receipt (DESIGN.md 4.4) of entry `index`, or of the entry that wrote a record version.
  // Allowed to admins and auditors, to clinicians for record versions, and to a patient for
  // entries naming them.
  Result<std::string> receipt(const Caller& caller, uint64_t index, uint64_t* ledger_index);
  Result<std::string> version_receipt(const Caller& caller, std::string_view type,
                                      std::string_view id, uint64_t version,
                                      uint64_t* ledger_index);

  // Admins only: deletes every version's bytes, and the salts and statements of their entries,
  // in the transaction that appends the system entry naming those indexes. Returns them.
  Result<std::vector<uint64_t>> erase(const Caller& caller, std::string_view type,
                                      std::string_view id, uint64_t* ledger_index);

  // Reading the forensic report (sentinel/forensics.h) is an access too: for an auditor or admin
  // one access entry, op "forensics", resource "forensics?<query>", keyed by every patient the
  // report names, appended before the report is answered; for anyone else an access-denied entry
  // and kPermissionDenied (call it with no patients before building the report, then again with
  // them). `query` holds ids only (checked by the caller).
  Status record_forensics(const Caller& caller, std::string_view query,
                          std::vector<std::string> patients, uint64_t* ledger_index);

  // Auditors and admins: records the read of the statements page of entries [from, from + count)
  // (sentinel/integrity_page.h) as one access entry naming no patient, so a monitor's polling
  // floods nobody's trail. The caller reads the page after this returns OK.
  Status record_integrity_read(const Caller& caller, uint64_t from, uint64_t count,
                               uint64_t* ledger_index);

  // Records a request refused before it reached a method (no or unknown token): an access-denied
  // entry naming `who` ("anonymous" when unknown), the operation and the target.
  Status record_refusal(std::string_view who, std::string_view op, std::string_view target,
                        std::string_view reason, uint64_t* ledger_index);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medseal::records
