#include "records/service.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>
#include <utility>

#include "crypto/random.h"
#include "crypto/sha256.h"
#include "records/policy.h"
#include "records/record_locks.h"
#include "records/resource.h"
#include "util/bytes.h"
#include "util/time_format.h"

namespace medseal::records {
namespace {

using ledger::AppendRequest;
using ledger::EntryKind;
using storage::RecordVersion;

constexpr std::string_view kUrnUuid = "urn:uuid:";

// Time-ordered (version 7, RFC 9562) UUIDs: 48 bits of Unix milliseconds, then 74 random bits.
// The ids of new records sort after those before them, so the indexes keyed by id (the version
// index, the compartment index, entry keys: storage/schema.h) grow at their right edge instead of
// dirtying a random leaf page per create: fewer WAL frames per batch. An id shows its creation
// time (as its first version's meta.lastUpdated does to whoever may read it), not how many
// records exist; 74 random bits keep ids unguessable.
//
// The randomness of all the ids is drawn in one call: a DRBG call costs about a microsecond
// whatever its size, and a transaction Bundle creates hundreds of records.
class NewIds {
 public:
  explicit NewIds(size_t count)
      : random_(count * kRandomBytes),
        ms_(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count())) {
    crypto::random_bytes(random_.data(), random_.size());
  }

  // The next id; at most `count` of them.
  std::string next() {
    uint8_t b[16];
    for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms_ >> (8 * (5 - i)));
    std::copy_n(random_.data() + used_, kRandomBytes, b + 6);
    used_ += kRandomBytes;
    b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x70);
    b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
    std::string id = hex_encode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
    for (size_t dash : {20, 16, 12, 8}) id.insert(dash, 1, '-');  // 8-4-4-4-12
    return id;
  }

 private:
  static constexpr size_t kRandomBytes = 10;  // b[6..16): the version and variant bits overwrite 6
  std::vector<uint8_t> random_;
  size_t used_ = 0;
  uint64_t ms_;
};

std::string new_id() { return NewIds(1).next(); }

std::string record_key(std::string_view type, std::string_view id) {
  return std::string(type) + "/" + std::string(id);
}

std::string version_ref(const RecordVersion& r) {
  return r.type + "/" + r.id + "/_history/" + std::to_string(r.version);
}

// The distinct non-empty compartments of `records`, in first-seen order.
std::vector<std::string> compartments_of(const std::vector<RecordVersion>& records) {
  std::vector<std::string> out;
  for (const RecordVersion& r : records) {
    if (!r.compartment.empty() && std::find(out.begin(), out.end(), r.compartment) == out.end()) {
      out.push_back(r.compartment);
    }
  }
  return out;
}

EntryKind kind_of(const Statement& s) {
  if (s.denied) return EntryKind::kAccessDenied;
  if (s.op == "create" || s.op == "update" || s.op == "delete") return EntryKind::kRecordVersion;
  if (s.op == "erase" || s.op == "token") return EntryKind::kSystem;
  return EntryKind::kAccess;
}

// What can be checked before the body is read: its size and the type it is sent to.
Status check_request(std::string_view type, size_t body_size, size_t max_bytes) {
  if (body_size > max_bytes) {
    return Status::invalid("the resource is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (!is_r4_resource_type(type)) return Status::invalid("not a FHIR R4 resource type");
  return Status::ok();
}

// The Practitioner reference an identity named `name` registers patients as.
std::string registrant_of(const identity::Identity& who) {
  std::vector<std::string> actors = actors_of(who);
  return actors.empty() ? std::string() : actors.front();
}

void note_decision(Statement& s, const Decision& d) {
  s.rule = d.rule;
  if (d.break_glass) s.reason = d.reason;
}

}  // namespace

struct RecordService::Impl {
  ledger::Ledger& ledger;
  storage::Store& store;
  const Clock& clock;
  RecordOptions options;
  RecordLocks locks;
  std::unique_ptr<RelationIndex> relations = std::make_unique<RelationIndex>(options.relations);
  Status relations_loaded = Status::ok();

  // The decision on `op` by `caller` on data of `type` in `compartment`.
  Decision authorize(const Caller& caller, Operation op, std::string_view type,
                     std::string_view compartment, bool may_break_glass = true) const {
    Situation s{type, compartment, {}, true,
                may_break_glass ? std::string_view(caller.break_glass) : std::string_view()};
    if (!compartment.empty() && caller.who.role != identity::Role::kPatient) {
      s.relation = relations->lookup(actors_of(caller.who), compartment, clock.now_ms());
      s.patient_exists = relations->patient_exists(compartment);
    }
    return decide(caller.who, op, s);
  }

  // A write of `r` over `current`: both compartments must allow it when a record moves.
  Decision authorize_write(const Caller& caller, const RecordVersion& r,
                           const RecordVersion* current) const {
    Decision d = authorize(caller, Operation::kWrite, r.type, r.compartment);
    if (!d.allowed || current == nullptr || current->compartment == r.compartment) return d;
    Decision before = authorize(caller, Operation::kWrite, r.type, current->compartment);
    return !before.allowed || before.break_glass ? before : d;
  }

  // Reading a page of records of several patients (type-wide search and history): every
  // compartment on it must be readable without breaking the glass. The rules are joined.
  Decision authorize_page(const Caller& caller, std::string_view type,
                          const std::vector<RecordVersion>& records) const {
    std::vector<std::string> compartments = compartments_of(records);
    const bool any_outside = records.empty() ||
        std::any_of(records.begin(), records.end(), [](const RecordVersion& r) { return r.compartment.empty(); });
    if (any_outside) compartments.insert(compartments.begin(), "");
    Decision joined = allow("");
    for (const std::string& c : compartments) {
      Decision d = authorize(caller, Operation::kRead, type, c, false);
      if (!d.allowed) return d;
      if (joined.rule.find(d.rule) == std::string::npos) {
        joined.rule += (joined.rule.empty() ? "" : ",") + d.rule;
      }
    }
    return joined;
  }

  // After a committed write: the relation index learns it.
  void learn(const Caller& caller, const RecordVersion& r) {
    relations->apply(r, registrant_of(caller.who));
  }

  // One critical alert for a request that broke the glass; `s` is its (first) statement.
  void raise_break_glass(const Caller& caller, const Statement& s, const Decision& d,
                         std::vector<uint64_t> indexes) const {
    if (options.alerts == nullptr) return;
    std::string patients;
    for (const std::string& p : s.patients) patients += (patients.empty() ? "" : ", ") + p;
    alerts::Alert a = alerts::make_alert(
        alerts::Severity::kCritical, "break-glass",
        caller.who.name + " broke the glass (" + s.op + ") for " + patients +
            (d.overrode_block ? ", overriding the patient's block" : ""));
    a.resources = s.patients;
    a.indexes = std::move(indexes);
    // The reason is free text a clinician typed and may name a condition: it stays in the ledger
    // statement (private, behind receipts and trails), never in alerts, which go to syslog and
    // webhooks. The alert's indexes lead an auditor to it.
    a.evidence = {{"who", caller.who.name},      {"role", s.role},
                  {"op", s.op},                  {"resources", s.resources},
                  {"overrode_block", d.overrode_block}};
    options.alerts->raise(a);
  }

  Statement statement(const Caller& caller, std::string op, uint64_t time_ms) const {
    Statement s;
    s.op = std::move(op);
    s.time_ms = time_ms;
    s.who = caller.who.name;
    s.role = std::string(identity::role_name(caller.who.role));
    s.purpose = caller.purpose;
    return s;
  }

  // Appends `s` as one entry keyed by its patients and reports its index.
  Result<uint64_t> append(Statement s, std::optional<RecordVersion> record,
                          std::optional<storage::Erasure> erasure, uint64_t* ledger_index) {
    AppendRequest r = request(std::move(s), std::move(record));
    r.erasure = std::move(erasure);
    Result<uint64_t> index = ledger.append(std::move(r));
    if (index && ledger_index != nullptr) *ledger_index = *index;
    return index;
  }

  static AppendRequest request(Statement s, std::optional<RecordVersion> record) {
    AppendRequest r;
    r.kind = kind_of(s);
    r.time_ms = s.time_ms;
    r.statement = format_statement(s);
    r.keys = std::move(s.patients);
    r.record = std::move(record);
    return r;
  }

  // Records a refusal and returns the kPermissionDenied to answer with (or the append's error).
  Status deny(const Caller& caller, std::string op, std::vector<std::string> resources,
              std::vector<std::string> patients, const Decision& d, uint64_t* ledger_index) {
    Statement s = statement(caller, std::move(op), clock.now_ms());
    s.denied = true;
    s.resources = std::move(resources);
    s.patients = std::move(patients);
    s.rule = d.rule;
    s.reason = d.reason;
    Result<uint64_t> index = append(std::move(s), std::nullopt, std::nullopt, ledger_index);
    if (!index) return index.status();
    return Status::denied(d.reason);
  }

  // A report over the ledger (forensics, a statements page) read by `caller`: one access entry
  // naming `what` and `patients` when `d` allows it, an access-denied entry otherwise.
  Status record_report_read(const Caller& caller, std::string op, std::string what,
                            std::vector<std::string> patients, const Decision& d,
                            uint64_t* ledger_index) {
    if (!d.allowed) return deny(caller, std::move(op), {what}, {}, d, ledger_index);
    Statement s = statement(caller, std::move(op), clock.now_ms());
    s.resources = {std::move(what)};
    s.patients = std::move(patients);
    s.rule = d.rule;
    Result<uint64_t> index = append(std::move(s), std::nullopt, std::nullopt, ledger_index);
    return index ? Status::ok() : index.status();
  }

  // Authorizes, appends and learns a new version `r` of a record whose latest stored version is
  // `current` (null: none); the caller holds the record's lock if it needs one.
  Result<Written> commit_write(const Caller& caller, RecordVersion r, const RecordVersion* current,
                               uint64_t* ledger_index) {
    const bool created = current == nullptr;
    Statement s = write_statement(caller, r, created);
    const Decision d = authorize_write(caller, r, current);
    if (!d.allowed) {
      std::vector<std::string> patients = s.patients;
      if (current != nullptr && !current->compartment.empty() && current->compartment != r.compartment) {
        patients.push_back(current->compartment);
      }
      return deny(caller, s.op, {record_key(r.type, r.id)}, std::move(patients), d, ledger_index);
    }
    note_decision(s, d);
    Result<uint64_t> index = append(s, r, std::nullopt, ledger_index);
    if (!index) return index.status();
    r.ledger_index = *index;
    learn(caller, r);
    if (d.break_glass) raise_break_glass(caller, s, d, {*index});
    return Written{std::move(r), created};
  }

  // The next version of (type, id) with `body` stamped, as the record row to write; the caller
  // holds the record's lock. `current` is the latest stored version, if any. The body must be a
  // resource of `type`; with `id_in_body`, it must carry exactly that id (an update), else any id
  // it carries is replaced (a create).
  Result<RecordVersion> next_version(std::string_view type, std::string_view id,
                                     std::string_view body, const RecordVersion* current,
                                     uint64_t time_ms, bool id_in_body) const {
    return next_version_with(type, id, current, time_ms, format_instant(time_ms), id_in_body,
                             [&](std::string_view version_id, std::string_view last_updated) {
                               return stamp_and_inspect(body, id, version_id, last_updated);
                             });
  }

  // next_version with the body stamped by `stamp(version_id, last_updated)`, where
  // `last_updated` is format_instant(time_ms).
  template <typename Stamp>
  static Result<RecordVersion> next_version_with(std::string_view type, std::string_view id,
                                                 const RecordVersion* current, uint64_t time_ms,
                                                 std::string_view last_updated, bool id_in_body,
                                                 Stamp stamp) {
    RecordVersion r;
    r.type = std::string(type);
    r.id = std::string(id);
    r.version = current == nullptr ? 1 : current->version + 1;
    r.updated_ms = time_ms;
    Result<StampedResource> stamped = stamp(std::to_string(r.version), last_updated);
    if (!stamped) return stamped.status();
    if (stamped->info.type != type) {
      return Status::invalid("resourceType " + stamped->info.type + " does not match the URL's " +
                             std::string(type));
    }
    if (id_in_body && stamped->info.id != id) {
      return Status::invalid("the resource's id does not match the URL's id");
    }
    r.bytes = std::move(stamped->bytes);
    r.compartment = std::move(stamped->compartment);
    return r;
  }

  // The write statement for a new version `r`.
  Statement write_statement(const Caller& caller, const RecordVersion& r, bool created) const {
    Statement s = statement(caller, r.deleted ? "delete" : created ? "create" : "update",
                            r.updated_ms);
    s.resources.push_back(version_ref(r));  // moved in; a braced list would copy it
    if (!r.deleted) s.sha256 = hex_encode(crypto::sha256(r.bytes));
    if (!r.compartment.empty()) s.patients = {r.compartment};
    return s;
  }

  // The latest version of a record, or nullopt if it has none; storage errors pass through.
  Result<std::optional<RecordVersion>> current(std::string_view type, std::string_view id) {
    Result<RecordVersion> r = store.read_record(type, id, 0);
    if (r) return std::optional<RecordVersion>(std::move(*r));
    if (r.status().code() == Code::kNotFound) return std::optional<RecordVersion>();
    return r.status();
  }

  static Status check_if_match(std::optional<uint64_t> if_match, const RecordVersion* current) {
    if (!if_match) return Status::ok();
    if (current == nullptr || current->version != *if_match) {
      return Status::precondition("If-Match names version " + std::to_string(*if_match) +
                                  (current ? ", the current version is " +
                                                 std::to_string(current->version)
                                           : ", the record does not exist"));
    }
    return Status::ok();
  }

  // Records an access to `records` (op read, vread, history or search) allowed by `d` and
  // reports its index.
  Status record_access(const Caller& caller, std::string op,
                       const std::vector<RecordVersion>& records,
                       std::vector<std::string> extra_patients, const Decision& d,
                       uint64_t* ledger_index) {
    Statement s = statement(caller, std::move(op), clock.now_ms());
    for (const RecordVersion& r : records) s.resources.push_back(version_ref(r));
    s.patients = compartments_of(records);
    for (std::string& p : extra_patients) {
      if (std::find(s.patients.begin(), s.patients.end(), p) == s.patients.end()) {
        s.patients.push_back(std::move(p));
      }
    }
    note_decision(s, d);
    Result<uint64_t> index = append(s, std::nullopt, std::nullopt, ledger_index);
    if (!index) return index.status();
    if (d.break_glass) raise_break_glass(caller, s, d, {*index});
    return Status::ok();
  }

  Result<std::vector<Written>> transaction(const Caller& caller, std::string_view bundle,
                                           uint64_t* ledger_index);
  Result<std::string> receipt(const Caller& caller, uint64_t index, uint64_t* ledger_index);
};

RecordService::RecordService(ledger::Ledger& ledger, storage::Store& store, const Clock& clock,
                             RecordOptions options)
    : impl_(new Impl{ledger, store, clock, options, {}}) {
  // A service that cannot know the care relations refuses every request with the load's error.
  impl_->relations_loaded = reload();
}

Status RecordService::reload() {
  auto fresh = std::make_unique<RelationIndex>(impl_->options.relations);
  Status loaded = fresh->load(impl_->store, [](std::string_view name) {
    return registrant_of(identity::Identity{std::string(name), identity::Role::kClinician, ""});
  });
  impl_->relations = std::move(fresh);
  impl_->relations_loaded = loaded;
  return loaded;
}

RecordService::~RecordService() = default;

Result<Written> RecordService::create(const Caller& caller, std::string_view type,
                                      std::string_view body, uint64_t* ledger_index) {
  Impl& m = *impl_;
  MEDSEAL_RETURN_IF_ERROR(m.relations_loaded);
  MEDSEAL_RETURN_IF_ERROR(check_request(type, body.size(), m.options.max_resource_bytes));
  // A fresh UUID has no other writer: no lock needed.
  Result<RecordVersion> r = m.next_version(type, new_id(), body, nullptr, m.clock.now_ms(), false);
  if (!r) return r.status();
  return m.commit_write(caller, std::move(*r), nullptr, ledger_index);
}

Result<Written> RecordService::update(const Caller& caller, std::string_view type,
                                      std::string_view id, std::string_view body,
                                      std::optional<uint64_t> if_match, uint64_t* ledger_index) {
  Impl& m = *impl_;
  MEDSEAL_RETURN_IF_ERROR(m.relations_loaded);
  if (!is_valid_id(id)) return Status::invalid("not a valid FHIR id");
  MEDSEAL_RETURN_IF_ERROR(check_request(type, body.size(), m.options.max_resource_bytes));
  const std::string key = record_key(type, id);
  RecordLocks::Held held = m.locks.lock({key});
  Result<std::optional<RecordVersion>> cur = m.current(type, id);
  if (!cur) return cur.status();
  const RecordVersion* current = cur->has_value() ? &**cur : nullptr;
  MEDSEAL_RETURN_IF_ERROR(Impl::check_if_match(if_match, current));
  Result<RecordVersion> r = m.next_version(type, id, body, current, m.clock.now_ms(), true);
  if (!r) return r.status();
  return m.commit_write(caller, std::move(*r), current, ledger_index);
}

Result<Written> RecordService::remove(const Caller& caller, std::string_view type,
                                      std::string_view id, std::optional<uint64_t> if_match,
                                      uint64_t* ledger_index) {
  Impl& m = *impl_;
  MEDSEAL_RETURN_IF_ERROR(m.relations_loaded);
  if (!is_r4_resource_type(type)) return Status::invalid("not a FHIR R4 resource type");
  if (!is_valid_id(id)) return Status::invalid("not a valid FHIR id");
  RecordLocks::Held held = m.locks.lock({record_key(type, id)});
  Result<std::optional<RecordVersion>> cur = m.current(type, id);
  if (!cur) return cur.status();
  if (!cur->has_value()) return Status::not_found(record_key(type, id) + " does not exist");
  const RecordVersion& current = **cur;
  MEDSEAL_RETURN_IF_ERROR(Impl::check_if_match(if_match, &current));
  if (current.deleted) return Written{current, false};  // deleting twice changes nothing
  RecordVersion r = current;
  r.version = current.version + 1;
  r.updated_ms = m.clock.now_ms();
  r.deleted = true;
  r.bytes.clear();
  return m.commit_write(caller, std::move(r), &current, ledger_index);
}

Result<RecordVersion> RecordService::read(const Caller& caller, std::string_view type,
                                          std::string_view id, uint64_t version,
                                          uint64_t* ledger_index) {
  Impl& m = *impl_;
  MEDSEAL_RETURN_IF_ERROR(m.relations_loaded);
  if (!is_r4_resource_type(type)) return Status::invalid("not a FHIR R4 resource type");
  if (!is_valid_id(id)) return Status::invalid("not a valid FHIR id");
  // A record that does not exist is not recorded as an access: nothing was disclosed.
  Result<RecordVersion> r = m.store.read_record(type, id, version);
  if (!r) return r.status();
  const std::string op = version == 0 ? "read" : "vread";
  const Decision d = m.authorize(caller, Operation::kRead, type, r->compartment);
  if (!d.allowed) return m.deny(caller, op, {version_ref(*r)}, compartments_of({*r}), d, ledger_index);
  MEDSEAL_RETURN_IF_ERROR(m.record_access(caller, op, {*r}, {}, d, ledger_index));
  return r;
}

Result<storage::RecordPage> RecordService::history(const Caller& caller, std::string_view type,
                                                   std::string_view id, uint64_t offset,
                                                   uint64_t count, uint64_t* ledger_index) {
  Impl& m = *impl_;
  if (!is_r4_resource_type(type)) return Status::invalid("not a FHIR R4 resource type");
  if (!id.empty() && !is_valid_id(id)) return Status::invalid("not a valid FHIR id");
  MEDSEAL_RETURN_IF_ERROR(m.relations_loaded);
  const std::string target = id.empty() ? std::string(type) : record_key(type, id);
  Result<storage::RecordPage> page =
      m.store.record_history(type, id, offset, std::min(count, m.options.max_page));
  if (!page) return page.status();
  if (!id.empty()) {
    if (page->total == 0) return Status::not_found(target + " does not exist");
    // A record stays in one compartment's view: the latest version decides who may see it.
    Result<RecordVersion> latest = m.store.read_record(type, id, 0);
    if (!latest) return latest.status();
    const Decision d = m.authorize(caller, Operation::kRead, type, latest->compartment);
    if (!d.allowed) {
      return m.deny(caller, "history", {target}, compartments_of({*latest}), d, ledger_index);
    }
    MEDSEAL_RETURN_IF_ERROR(m.record_access(caller, "history", page->records, {}, d, ledger_index));
    return page;
  }
  const Decision d = m.authorize_page(caller, type, page->records);
  if (!d.allowed) {
    return m.deny(caller, "history", {target}, compartments_of(page->records), d, ledger_index);
  }
  MEDSEAL_RETURN_IF_ERROR(m.record_access(caller, "history", page->records, {}, d, ledger_index));
  return page;
}

Result<storage::RecordPage> RecordService::search(const Caller& caller,
                                                  const storage::RecordQuery& query,
                                                  uint64_t* ledger_index) {
  Impl& m = *impl_;
  MEDSEAL_RETURN_IF_ERROR(m.relations_loaded);
  if (!is_r4_resource_type(query.type)) return Status::invalid("not a FHIR R4 resource type");
  storage::RecordQuery q = query;
  q.limit = std::min(q.limit, m.options.max_page);
  if (caller.who.role == identity::Role::kPatient && q.compartment.empty()) {
    q.compartment = caller.who.patient;  // a patient searches their own compartment
  }
  std::vector<std::string> asked;
  std::optional<Decision> decided;  // for one patient, decided before anything is read
  if (!q.compartment.empty()) {
    asked.push_back(q.compartment);
    decided = m.authorize(caller, Operation::kRead, q.type, q.compartment);
    if (!decided->allowed) return m.deny(caller, "search", {q.type}, asked, *decided, ledger_index);
  }
  Result<storage::RecordPage> page = m.store.search_records(q);
  if (!page) return page.status();
  // Without a patient, every patient on the page must be readable.
  const Decision d = decided ? *decided : m.authorize_page(caller, q.type, page->records);
  if (!d.allowed) {
    return m.deny(caller, "search", {q.type}, compartments_of(page->records), d, ledger_index);
  }
  MEDSEAL_RETURN_IF_ERROR(
      m.record_access(caller, "search", page->records, std::move(asked), d, ledger_index));
  return page;
}

Result<std::vector<Written>> RecordService::transaction(const Caller& caller,
                                                        std::string_view bundle,
                                                        uint64_t* ledger_index) {
  return impl_->transaction(caller, bundle, ledger_index);
}

namespace {

// One entry of a transaction, resolved to its target before anything is written.
struct PlannedWrite {
  BundleEntry entry;
  std::string type;
  std::string id;
};

// Resolves every entry's target: POST gets a new id, PUT and DELETE name theirs. Fills
// `rewrites` with fullUrl -> "Type/id" for every urn:uuid fullUrl.
Result<std::vector<PlannedWrite>> plan_transaction(
    std::vector<BundleEntry> entries, std::unordered_map<std::string, std::string>& rewrites) {
  std::vector<PlannedWrite> plan;
  plan.reserve(entries.size());
  std::set<std::string> targets;
  NewIds new_ids(static_cast<size_t>(std::count_if(
      entries.begin(), entries.end(), [](const BundleEntry& e) { return e.method == "POST"; })));
  for (size_t i = 0; i < entries.size(); ++i) {
    PlannedWrite w{std::move(entries[i]), {}, {}};
    const std::string where = "entry " + std::to_string(i) + ": ";
    const std::string& url = w.entry.url;
    const size_t slash = url.find('/');
    w.type = url.substr(0, slash);
    if (!is_r4_resource_type(w.type)) return Status::invalid(where + "not a FHIR R4 resource type");
    if (w.entry.method == "POST") {
      if (slash != std::string::npos) return Status::invalid(where + "POST goes to a type");
      w.id = new_ids.next();
    } else {
      if (slash == std::string::npos) return Status::invalid(where + w.entry.method + " needs Type/id");
      w.id = url.substr(slash + 1);
      if (!is_valid_id(w.id)) return Status::invalid(where + "not a valid FHIR id");
    }
    std::string target = record_key(w.type, w.id);
    if (!targets.insert(target).second) {
      return Status::invalid(where + "the bundle writes " + target + " twice");
    }
    if (w.entry.full_url.starts_with(kUrnUuid)) rewrites[w.entry.full_url] = std::move(target);
    plan.push_back(std::move(w));
  }
  return plan;
}

}  // namespace

Result<std::vector<Written>> RecordService::Impl::transaction(const Caller& caller,
                                                              std::string_view bundle,
                                                              uint64_t* ledger_index) {
  MEDSEAL_RETURN_IF_ERROR(relations_loaded);
  if (bundle.size() > options.max_resource_bytes * 4) {
    return Status::invalid("the bundle is larger than " +
                           std::to_string(options.max_resource_bytes * 4) + " bytes");
  }
  Result<std::vector<BundleEntry>> entries = parse_transaction(bundle);
  if (!entries) return entries.status();
  std::unordered_map<std::string, std::string> rewrites;
  Result<std::vector<PlannedWrite>> plan = plan_transaction(std::move(*entries), rewrites);
  if (!plan) return plan.status();

  std::vector<std::string> keys;
  for (const PlannedWrite& w : *plan) {
    if (w.entry.method != "POST") keys.push_back(record_key(w.type, w.id));
  }
  RecordLocks::Held held = locks.lock({keys.begin(), keys.end()});
  const uint64_t now = clock.now_ms();
  const std::string last_updated = format_instant(now);
  std::vector<Written> written;
  std::vector<AppendRequest> requests;
  written.reserve(plan->size());
  requests.reserve(plan->size());
  // The first statement that broke the glass, with the patients of every one that did, and the
  // entries that did: one alert for the Bundle.
  std::optional<std::pair<Statement, Decision>> broke_glass;
  std::vector<size_t> broke_glass_entries;
  for (size_t i = 0; i < plan->size(); ++i) {
    const PlannedWrite& w = (*plan)[i];
    const std::string where = "entry " + std::to_string(i) + ": ";
    std::optional<RecordVersion> current;
    if (w.entry.method != "POST") {
      Result<std::optional<RecordVersion>> cur = this->current(w.type, w.id);
      if (!cur) return cur.status();
      current = std::move(*cur);
    }
    std::optional<uint64_t> if_match;
    if (!w.entry.if_match.empty()) {
      if_match = parse_version_etag(w.entry.if_match);
      if (!if_match) return Status::invalid(where + "ifMatch is not an ETag like W/\"3\"");
    }
    Status match = check_if_match(if_match, current ? &*current : nullptr);
    if (!match) return Status::precondition(where + match.message());
    RecordVersion r;
    if (w.entry.method == "DELETE") {
      if (!current) return Status::not_found(where + record_key(w.type, w.id) + " does not exist");
      r = *current;
      r.version = current->version + 1;
      r.updated_ms = now;
      r.deleted = true;
      r.bytes.clear();
    } else {
      const std::vector<UuidRewrite> references = uuid_rewrites(w.entry, rewrites);
      Status fits =
          check_request(w.type, rewritten_size(w.entry, references), options.max_resource_bytes);
      if (!fits) return Status::invalid(where + fits.message());
      // Rewritten and stamped in one pass over the bytes the bundle scan already validated.
      Result<RecordVersion> next = next_version_with(
          w.type, w.id, current ? &*current : nullptr, now, last_updated, w.entry.method == "PUT",
          [&](std::string_view version_id, std::string_view stamp_time) {
            return rewrite_and_stamp(w.entry, references, w.id, version_id, stamp_time);
          });
      if (!next) return Status::invalid(where + next.status().message());
      r = std::move(*next);
    }
    const bool created = !current.has_value();
    // Each entry is decided on its own; one refusal refuses the whole Bundle. Patients first
    // registered by this Bundle are new (relations learn of them after the commit).
    const Decision d = authorize_write(caller, r, current ? &*current : nullptr);
    Statement s = write_statement(caller, r, created);
    if (!d.allowed) {
      return deny(caller, "transaction", {"Bundle", record_key(r.type, r.id)}, s.patients, d,
                  ledger_index);
    }
    note_decision(s, d);
    if (d.break_glass) {
      if (!broke_glass) broke_glass.emplace(s, d);
      std::vector<std::string>& all = broke_glass->first.patients;
      for (const std::string& p : s.patients) {
        if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
      }
      broke_glass_entries.push_back(i);
    }
    requests.push_back(request(std::move(s), r));
    written.push_back(Written{std::move(r), created});
  }
  if (requests.empty()) return written;
  Result<uint64_t> first = ledger.append_all(std::move(requests));
  if (!first) return first.status();
  if (ledger_index != nullptr) *ledger_index = *first;
  const std::string registrant = registrant_of(caller.who);
  for (size_t i = 0; i < written.size(); ++i) {
    written[i].version.ledger_index = *first + i;
    relations->apply(written[i].version, registrant);  // learn(), for many
  }
  if (broke_glass) {
    std::vector<uint64_t> indexes;
    for (size_t i : broke_glass_entries) indexes.push_back(*first + i);
    raise_break_glass(caller, broke_glass->first, broke_glass->second, std::move(indexes));
  }
  return written;
}

Result<std::vector<TrailEntry>> RecordService::access_trail(const Caller& caller,
                                                            std::string_view patient,
                                                            uint64_t offset, uint64_t count,
                                                            uint64_t* ledger_index) {
  Impl& m = *impl_;
  const std::string who = std::string(patient);
  if (!patient.starts_with("Patient/") || !is_valid_id(patient.substr(8))) {
    return Status::invalid("patient must be Patient/<id>");
  }
  const Decision d = decide_trail(caller.who, patient);
  if (!d.allowed) return m.deny(caller, "audit", {who}, {who}, d, ledger_index);
  Result<std::vector<uint64_t>> indexes =
      m.store.entries_with_key(patient, offset, std::min(count, m.options.max_page));
  if (!indexes) return indexes.status();
  std::vector<TrailEntry> trail;
  for (uint64_t index : *indexes) {
    Result<storage::EntryExtra> extra = m.store.read_extra(index);
    if (!extra && extra.status().code() == Code::kNotFound) continue;  // erased
    if (!extra) return extra.status();
    Result<Statement> s = parse_statement(extra->statement);
    if (!s) return Status::internal("entry " + std::to_string(index) + " has a malformed statement");
    const ledger::Entry entry{kind_of(*s), s->time_ms,
                              ledger::commitment(extra->salt, extra->statement)};
    trail.push_back(TrailEntry{index, entry, std::move(*s)});
  }
  Statement s = m.statement(caller, "audit", m.clock.now_ms());
  s.resources = {"AuditEvent?patient=" + who};
  s.patients = {who};
  s.rule = d.rule;
  Result<uint64_t> index = m.append(std::move(s), std::nullopt, std::nullopt, ledger_index);
  if (!index) return index.status();
  return trail;
}

Result<std::string> RecordService::Impl::receipt(const Caller& caller, uint64_t index,
                                                 uint64_t* ledger_index) {
  if (index >= ledger.head().size) {
    return Status::not_found("the ledger has no entry " + std::to_string(index));
  }
  Result<storage::EntryExtra> extra = store.read_extra(index);
  if (!extra) return extra.status();
  Result<Statement> target = parse_statement(extra->statement);
  const Statement* about = target ? &*target : nullptr;
  const std::string what = "ledger/" + std::to_string(index);
  std::vector<std::string> patients = about ? about->patients : std::vector<std::string>{};
  MEDSEAL_RETURN_IF_ERROR(relations_loaded);
  const Decision d = decide_receipt(caller.who, about, [&](const std::string& patient) {
    return authorize(caller, Operation::kRead, "", patient);
  });
  if (!d.allowed) return deny(caller, "receipt", {what}, std::move(patients), d, ledger_index);
  Result<std::string> r = ledger.receipt(index);
  if (!r) return r.status();
  Statement s = statement(caller, "receipt", clock.now_ms());
  s.resources = {what};
  s.patients = std::move(patients);
  note_decision(s, d);
  Result<uint64_t> appended = append(s, std::nullopt, std::nullopt, ledger_index);
  if (!appended) return appended.status();
  if (d.break_glass) raise_break_glass(caller, s, d, {*appended});
  return r;
}

Result<std::string> RecordService::receipt(const Caller& caller, uint64_t index,
                                           uint64_t* ledger_index) {
  return impl_->receipt(caller, index, ledger_index);
}

Result<std::string> RecordService::version_receipt(const Caller& caller, std::string_view type,
                                                   std::string_view id, uint64_t version,
                                                   uint64_t* ledger_index) {
  if (!is_r4_resource_type(type)) return Status::invalid("not a FHIR R4 resource type");
  if (!is_valid_id(id) || version == 0) return Status::invalid("not a valid FHIR id or version");
  Result<RecordVersion> r = impl_->store.read_record(type, id, version);
  if (!r) return r.status();
  return impl_->receipt(caller, r->ledger_index, ledger_index);
}

Result<std::vector<uint64_t>> RecordService::erase(const Caller& caller, std::string_view type,
                                                   std::string_view id, uint64_t* ledger_index) {
  Impl& m = *impl_;
  const std::string key = record_key(type, id);
  const Decision d = decide_erase(caller.who);
  if (!d.allowed) return m.deny(caller, "erase", {key}, {}, d, ledger_index);
  if (!is_r4_resource_type(type) || !is_valid_id(id)) return Status::invalid("not a FHIR record");
  RecordLocks::Held held = m.locks.lock({key});
  storage::Erasure erasure{std::string(type), std::string(id), {}};
  std::vector<std::string> patients;
  for (uint64_t offset = 0;;) {
    Result<storage::RecordPage> page = m.store.record_history(type, id, offset, 1000);
    if (!page) return page.status();
    for (const RecordVersion& r : page->records) {
      erasure.indexes.push_back(r.ledger_index);
      if (!r.compartment.empty() &&
          std::find(patients.begin(), patients.end(), r.compartment) == patients.end()) {
        patients.push_back(r.compartment);
      }
    }
    offset += page->records.size();
    if (page->records.empty() || offset >= page->total) break;
  }
  if (erasure.indexes.empty()) return Status::not_found(key + " does not exist");
  std::sort(erasure.indexes.begin(), erasure.indexes.end());
  Statement s = m.statement(caller, "erase", m.clock.now_ms());
  s.resources = {key};
  s.patients = std::move(patients);
  s.rule = d.rule;
  s.erased = erasure.indexes;
  std::vector<uint64_t> erased = erasure.indexes;
  Result<uint64_t> index = m.append(std::move(s), std::nullopt, std::move(erasure), ledger_index);
  if (!index) return index.status();
  RecordVersion gone;  // relations the record established go with it
  gone.type = std::string(type);
  gone.id = std::string(id);
  gone.deleted = true;
  m.relations->apply(gone, "");
  return erased;
}

Status RecordService::record_forensics(const Caller& caller, std::string_view query,
                                       std::vector<std::string> patients, uint64_t* ledger_index) {
  const std::string what = "forensics" + (query.empty() ? std::string() : "?" + std::string(query));
  return impl_->record_report_read(caller, "forensics", what, std::move(patients),
                                   decide_forensics(caller.who), ledger_index);
}

Status RecordService::record_integrity_read(const Caller& caller, uint64_t from, uint64_t count,
                                            uint64_t* ledger_index) {
  const std::string what = "ledger/" + std::to_string(from) + "+" + std::to_string(count);
  return impl_->record_report_read(caller, "integrity", what, {}, decide_integrity(caller.who),
                                   ledger_index);
}

Status RecordService::record_refusal(std::string_view who, std::string_view op,
                                     std::string_view target, std::string_view reason,
                                     uint64_t* ledger_index) {
  Impl& m = *impl_;
  Statement s;
  s.op = std::string(op);
  s.denied = true;
  s.time_ms = m.clock.now_ms();
  s.who = who.empty() ? "anonymous" : std::string(who);
  s.resources = {std::string(target)};
  s.rule = "unauthenticated";
  s.reason = std::string(reason);
  Result<uint64_t> index = m.append(std::move(s), std::nullopt, std::nullopt, ledger_index);
  return index ? Status::ok() : index.status();
}

}  // namespace medseal::records
