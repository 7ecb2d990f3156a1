#include "records/resource.h"

#include <algorithm>
#include <array>
#include <optional>

#include "records/json_scan.h"

namespace medseal::records {
namespace {

using json::Document;
using json::Kind;
using json::kNone;

constexpr uint32_t kRoot = Document::root();

constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_alpha(char c) { return is_upper(c) || (c >= 'a' && c <= 'z'); }
constexpr bool is_id_char(char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
constexpr bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Every string a write reads is checked with these, so they are one lookup per byte.
template <bool (*Accepts)(char)>
constexpr std::array<bool, 256> kTableOf = [] {
  std::array<bool, 256> table{};
  for (size_t c = 0; c < table.size(); ++c) table[c] = Accepts(static_cast<char>(c));
  return table;
}();

template <bool (*Accepts)(char)>
bool all_of(std::string_view text) {
  for (const char c : text) {
    if (!kTableOf<Accepts>[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

Result<Document> scan_object(std::string_view bytes, size_t max_depth, const char* what) {
  Result<Document> doc = Document::scan(bytes, max_depth);
  if (!doc) return doc.status();
  if (doc->node(kRoot).kind != Kind::kObject) {
    return Status::invalid(std::string(what) + ": not a JSON object");
  }
  return doc;
}

// The spans of a scanned resource, relative to the resource's first byte.
class SiteFinder {
 public:
  SiteFinder(const Document& doc, uint32_t resource)
      : doc_(doc), resource_(resource), base_(doc.node(resource).begin) {}

  StampSites find() const {
    StampSites sites;
    sites.verdict = resource_info(sites.info);
    if (!sites.verdict) return sites;
    sites.type = site(doc_.member(resource_, "resourceType"));
    sites.id = optional_site(resource_, "id");
    const uint32_t meta = doc_.member(resource_, "meta");
    if (meta != kNone) {
      sites.meta = site(meta);
      sites.meta_is_object = doc_.node(meta).kind == Kind::kObject;
    }
    if (sites.meta_is_object) {
      sites.version_id = optional_site(meta, "versionId");
      sites.last_updated = optional_site(meta, "lastUpdated");
      uint32_t last = kNone;
      for (uint32_t c = doc_.first_child(meta); c != kNone; c = doc_.next_sibling(c)) last = c;
      if (last != kNone) sites.meta_last = site(last);
    }
    sites.references = references();
    return sites;
  }

 private:
  TextSpan span(uint32_t begin, uint32_t end) const { return {begin - base_, end - base_}; }
  std::string at_byte(uint32_t node) const {
    return " at byte " + std::to_string(doc_.node(node).begin - base_);
  }

  Status resource_info(ResourceInfo& info) const {
    const uint32_t type = doc_.member(resource_, "resourceType");
    if (type == kNone) return Status::invalid("resource: no resourceType");
    if (doc_.node(type).kind != Kind::kString || !is_valid_type_name(doc_.string_value(type))) {
      return Status::invalid("resource: invalid resourceType" + at_byte(type));
    }
    info.type = doc_.string_value(type);
    if (const uint32_t id = doc_.member(resource_, "id"); id != kNone) {
      if (doc_.node(id).kind != Kind::kString || !is_valid_id(doc_.string_value(id))) {
        return Status::invalid("resource: invalid id" + at_byte(id));
      }
      info.id = doc_.string_value(id);
    }
    return Status::ok();
  }

  MemberSite site(uint32_t member) const {
    const json::Node& n = doc_.node(member);
    uint32_t start = n.key_begin;
    while (start > 0 && is_json_whitespace(doc_.text()[start - 1])) --start;
    return {span(n.begin, n.end), span(start, n.key_begin), span(n.key_end, n.begin)};
  }

  std::optional<MemberSite> optional_site(uint32_t object, std::string_view name) const {
    const uint32_t member = doc_.member(object, name);
    if (member == kNone) return std::nullopt;
    return site(member);
  }

  std::vector<StampSites::Reference> references() const {
    std::vector<StampSites::Reference> out;
    for (uint32_t c = doc_.first_child(resource_); c != kNone; c = doc_.next_sibling(c)) {
      if (!doc_.key_equals(c, "subject") && !doc_.key_equals(c, "patient") &&
          !doc_.key_equals(c, "beneficiary")) {
        continue;
      }
      const uint32_t reference = doc_.member(c, "reference");
      if (reference == kNone || doc_.node(reference).kind != Kind::kString) continue;
      out.push_back({span(doc_.node(reference).begin, doc_.node(reference).end),
                     doc_.string_value(reference)});
    }
    return out;
  }

  const Document& doc_;
  const uint32_t resource_;
  const uint32_t base_;
};

// One change to the text: `erase` bytes at `at` replaced by `text`, then by `quoted` as a JSON
// string, which is written straight into the result (a reference rewrite or a stamp is one of
// these, and needs no string of its own); `quoted` must outlive the edit.
struct Edit {
  size_t at;
  size_t erase;
  std::string text;
  std::optional<std::string_view> quoted = std::nullopt;

  size_t size() const { return text.size() + (quoted ? json::quoted_size(*quoted) : 0); }
};

// `text` with `edits` applied; edits must not overlap, and those at the same offset apply in
// the order given.
std::string apply(std::string_view text, std::vector<Edit> edits) {
  // A stable insertion sort: the edits come nearly in order (rewrites in document order, then a
  // few stamps), and std::stable_sort would allocate a buffer for them.
  for (size_t i = 1; i < edits.size(); ++i) {
    for (size_t j = i; j > 0 && edits[j].at < edits[j - 1].at; --j) std::swap(edits[j], edits[j - 1]);
  }
  std::string out;
  size_t grow = 0;
  for (const Edit& e : edits) grow += e.size();
  out.reserve(text.size() + grow);
  size_t copied = 0;
  for (const Edit& e : edits) {
    out.append(text, copied, e.at - copied);
    out += e.text;
    if (e.quoted) json::append_quoted(out, *e.quoted);
    copied = e.at + e.erase;
  }
  out.append(text, copied);
  return out;
}

// `span` (a JSON value) replaced by the JSON string `new_value`, which must outlive the edit.
Edit replace_value(TextSpan span, std::string_view new_value) {
  return {span.begin, span.end - span.begin, {}, new_value};
}

// How a member is laid out: the whitespace before its name, and what lies between its name and
// its value (": " or ":"). New members copy a neighbour's layout.
struct Layout {
  std::string_view indent;
  std::string_view colon;
};

std::string_view text_at(std::string_view text, TextSpan span) {
  return text.substr(span.begin, span.end - span.begin);
}

Layout layout_of(std::string_view text, const MemberSite& member) {
  return {text_at(text, member.indent), text_at(text, member.colon)};
}

// `"name": value` pairs laid out like a neighbour, each preceded by a comma and the indent.
using Members = std::vector<std::pair<std::string, std::string>>;  // name, JSON value

std::string members_text(const Layout& like, const Members& members) {
  std::string out;
  for (const auto& [name, value] : members) {
    out += ',';
    out += like.indent;
    out += json::quote(name);
    out += like.colon;
    out += value;
  }
  return out;
}

// Adds the missing ones of `members` at the end of the object meta.
void append_to_meta(std::string_view text, const StampSites& sites, const Members& members,
                    std::vector<Edit>& edits) {
  if (members.empty()) return;
  if (sites.meta_last) {
    edits.push_back({sites.meta_last->value.end, 0,
                     members_text(layout_of(text, *sites.meta_last), members)});
    return;
  }
  // An empty object has no neighbour to copy: write the members compactly after the '{'.
  std::string compact = members_text(Layout{"", ":"}, members);
  edits.push_back({sites.meta->value.begin + size_t{1}, 0, compact.substr(1)});
}

Status stamp_meta(std::string_view text, const StampSites& sites, const MemberSite& id_or_type,
                  std::string_view version_id, std::string_view last_updated,
                  std::vector<Edit>& edits) {
  if (!sites.meta) {
    const Layout like = layout_of(text, id_or_type);
    const std::string gap = like.colon.ends_with(' ') ? ", " : ",";
    std::string value = "{" + json::quote("versionId") + std::string(like.colon) +
                        json::quote(version_id) + gap + json::quote("lastUpdated") +
                        std::string(like.colon) + json::quote(last_updated) + "}";
    edits.push_back({id_or_type.value.end, 0, members_text(like, {{"meta", value}})});
    return Status::ok();
  }
  if (!sites.meta_is_object) {
    return Status::invalid("resource: meta is not an object at byte " +
                           std::to_string(sites.meta->value.begin));
  }
  Members missing;
  const std::tuple<const char*, const std::optional<MemberSite>&, std::string_view> stamps[] = {
      {"versionId", sites.version_id, version_id}, {"lastUpdated", sites.last_updated, last_updated}};
  for (const auto& [name, existing, value] : stamps) {
    if (existing) {
      edits.push_back(replace_value(existing->value, value));
    } else {
      missing.emplace_back(name, json::quote(value));
    }
  }
  append_to_meta(text, sites, missing, edits);
  return Status::ok();
}

// "Patient/<id>" when `reference` is a relative or absolute reference to a Patient, else "".
std::string patient_of_reference(std::string_view reference) {
  constexpr std::string_view kPrefix = "Patient/";
  std::string_view id;
  if (reference.starts_with(kPrefix)) {
    id = reference.substr(kPrefix.size());
  } else if (const size_t at = reference.rfind("/Patient/"); at != std::string_view::npos) {
    id = reference.substr(at + 1 + kPrefix.size());
  }
  return is_valid_id(id) ? std::string(kPrefix) + std::string(id) : "";
}

// The patient of the first reference naming one, each read as it is after `rewrites` (which are
// in document order).
std::string referenced_patient(const StampSites& sites, const std::vector<UuidRewrite>& rewrites) {
  for (const StampSites::Reference& r : sites.references) {
    const auto rewritten = std::lower_bound(
        rewrites.begin(), rewrites.end(), r.span.begin,
        [](const UuidRewrite& w, uint32_t at) { return w.span.begin < at; });
    const bool hit = rewritten != rewrites.end() && rewritten->span.begin == r.span.begin;
    std::string patient = patient_of_reference(hit ? *rewritten->value : r.value);
    if (!patient.empty()) return patient;
  }
  return "";
}

// True when `inner` lies within the value of `member`.
bool inside(TextSpan inner, const std::optional<MemberSite>& member) {
  return member && inner.begin >= member->value.begin && inner.end <= member->value.end;
}

Status check_stamp_ids(std::string_view id, std::string_view version_id) {
  if (!is_valid_id(id) || !is_valid_id(version_id)) {
    return Status::invalid("stamp: id and versionId must be valid ids");
  }
  return Status::ok();
}

// stamp_and_inspect of `text` whose sites are `sites`, after `rewrites` (in document order):
// one pass that applies the rewrites and the stamps together.
Result<StampedResource> stamp_at_sites(std::string_view text, const StampSites& sites,
                                       const std::vector<UuidRewrite>& rewrites, std::string_view id,
                                       std::string_view version_id,
                                       std::string_view last_updated) {
  MEDSEAL_RETURN_IF_ERROR(check_stamp_ids(id, version_id));
  if (!sites.verdict) return sites.verdict;
  std::vector<Edit> edits;
  edits.reserve(rewrites.size() + 3);
  for (const UuidRewrite& w : rewrites) {
    // A value that stamping replaces whole is not rewritten first (the id never is: a
    // urn:uuid is no valid id).
    if (inside(w.span, sites.version_id) || inside(w.span, sites.last_updated)) continue;
    edits.push_back(replace_value(w.span, *w.value));
  }
  if (sites.id) {
    edits.push_back(replace_value(sites.id->value, id));
  } else {
    edits.push_back({sites.type.value.end, 0,
                     members_text(layout_of(text, sites.type), {{"id", json::quote(id)}})});
  }
  // A new meta goes after the id; when the id is new too, both edits sit at the end of
  // resourceType and apply in order, id first.
  const MemberSite& meta_anchor = sites.id ? *sites.id : sites.type;
  MEDSEAL_RETURN_IF_ERROR(stamp_meta(text, sites, meta_anchor, version_id, last_updated, edits));
  // Stamping changes no reference, only the id a Patient's compartment is named by.
  std::string compartment = sites.info.type == "Patient" ? "Patient/" + std::string(id)
                                                         : referenced_patient(sites, rewrites);
  return StampedResource{sites.info, apply(text, std::move(edits)), std::move(compartment)};
}

// The string values inside `value` that start with "urn:uuid:" and hold no escapes, as spans
// relative to the value's first byte. Nodes are in document order, so a value's descendants are
// the nodes right after it that begin before it ends.
std::vector<TextSpan> uuid_strings_in(const Document& doc, uint32_t value) {
  constexpr std::string_view kPrefix = "\"urn:uuid:";
  std::vector<TextSpan> spans;
  const uint32_t base = doc.node(value).begin;
  const uint32_t end = doc.node(value).end;
  for (uint32_t i = value + 1; i < doc.node_count() && doc.node(i).begin < end; ++i) {
    const json::Node& n = doc.node(i);
    if (n.kind == Kind::kString && !n.value_escaped && doc.raw(i).starts_with(kPrefix)) {
      spans.push_back({n.begin - base, n.end - base});
    }
  }
  return spans;
}

Result<BundleEntry> parse_entry(const Document& doc, uint32_t entry, size_t index) {
  const std::string where = "bundle: entry " + std::to_string(index);
  if (doc.node(entry).kind != Kind::kObject) return Status::invalid(where + " is not an object");
  BundleEntry out;
  auto read_string = [&](uint32_t object, std::string_view name, std::string* value) -> Status {
    const uint32_t n = doc.member(object, name);
    if (n == kNone) return Status::ok();
    if (doc.node(n).kind != Kind::kString) {
      return Status::invalid(where + ": " + std::string(name) + " is not a string");
    }
    *value = doc.string_value(n);
    return Status::ok();
  };
  MEDSEAL_RETURN_IF_ERROR(read_string(entry, "fullUrl", &out.full_url));
  const uint32_t request = doc.member(entry, "request");
  if (request == kNone || doc.node(request).kind != Kind::kObject) {
    return Status::invalid(where + " has no request");
  }
  MEDSEAL_RETURN_IF_ERROR(read_string(request, "method", &out.method));
  MEDSEAL_RETURN_IF_ERROR(read_string(request, "url", &out.url));
  MEDSEAL_RETURN_IF_ERROR(read_string(request, "ifMatch", &out.if_match));
  // Conditional requests (ifNoneExist, ifNoneMatch, ifModifiedSince) are not supported; ignoring
  // them would silently turn a conditional create into a plain one.
  for (uint32_t c = doc.first_child(request); c != kNone; c = doc.next_sibling(c)) {
    if (!doc.key_equals(c, "method") && !doc.key_equals(c, "url") && !doc.key_equals(c, "ifMatch")) {
      return Status::invalid(where + ": unsupported request member at byte " +
                             std::to_string(doc.node(c).begin));
    }
  }
  if (out.method != "POST" && out.method != "PUT" && out.method != "DELETE") {
    return Status::invalid(where + ": method must be POST, PUT or DELETE");
  }
  if (out.url.empty()) return Status::invalid(where + ": request has no url");
  const uint32_t resource = doc.member(entry, "resource");
  const bool wants_resource = out.method != "DELETE";
  if ((resource != kNone) != wants_resource) {
    return Status::invalid(
        where + (wants_resource ? ": POST and PUT need a resource" : ": DELETE takes no resource"));
  }
  if (resource != kNone) {
    if (doc.node(resource).kind != Kind::kObject) {
      return Status::invalid(where + ": resource is not an object");
    }
    out.resource = doc.raw(resource);
    out.uuid_strings = uuid_strings_in(doc, resource);
    out.sites = SiteFinder(doc, resource).find();
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parse_version_id(std::string_view text) {
  if (text.empty() || text.size() > 18 || text[0] == '0') return std::nullopt;
  uint64_t version = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    version = version * 10 + static_cast<uint64_t>(c - '0');
  }
  return version;
}

std::optional<uint64_t> parse_version_etag(std::string_view value) {
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() < 3 || value.front() != '"' || value.back() != '"') return std::nullopt;
  return parse_version_id(value.substr(1, value.size() - 2));
}

bool is_valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && all_of<is_id_char>(id);
}

bool is_valid_type_name(std::string_view type) {
  return !type.empty() && type.size() <= 64 && is_upper(type[0]) &&
         all_of<is_alpha>(type);
}

Result<ResourceInfo> inspect_resource(std::string_view bytes) {
  Result<Document> doc = scan_object(bytes, kMaxDepth, "resource");
  if (!doc) return doc.status();
  StampSites sites = SiteFinder(*doc, kRoot).find();
  if (!sites.verdict) return sites.verdict;
  return std::move(sites.info);
}

Result<StampedResource> stamp_and_inspect(std::string_view bytes, std::string_view id,
                                          std::string_view version_id,
                                          std::string_view last_updated) {
  MEDSEAL_RETURN_IF_ERROR(check_stamp_ids(id, version_id));
  Result<Document> doc = scan_object(bytes, kMaxDepth, "resource");
  if (!doc) return doc.status();
  // The sites are relative to the object's first byte; whitespace before it is kept as sent.
  const size_t start = doc->node(kRoot).begin;
  Result<StampedResource> stamped = stamp_at_sites(bytes.substr(start), SiteFinder(*doc, kRoot).find(),
                                                   {}, id, version_id, last_updated);
  if (stamped && start > 0) stamped->bytes.insert(0, bytes.substr(0, start));
  return stamped;
}

Result<std::string> stamp_resource(std::string_view bytes, std::string_view id,
                                   std::string_view version_id, std::string_view last_updated) {
  Result<StampedResource> stamped = stamp_and_inspect(bytes, id, version_id, last_updated);
  if (!stamped) return stamped.status();
  return std::move(stamped->bytes);
}

std::string patient_compartment(std::string_view bytes) {
  Result<Document> doc = scan_object(bytes, kMaxDepth, "resource");
  if (!doc) return "";
  const StampSites sites = SiteFinder(*doc, kRoot).find();
  if (!sites.verdict) return "";
  if (sites.info.type == "Patient") return sites.info.id.empty() ? "" : "Patient/" + sites.info.id;
  return referenced_patient(sites, {});
}

Result<std::vector<BundleEntry>> parse_transaction(std::string_view bytes, size_t max_entries) {
  // The Bundle, entry[] and entry{} add three levels above each resource.
  Result<Document> doc = scan_object(bytes, kMaxDepth + 3, "bundle");
  if (!doc) return doc.status();
  const uint32_t type = doc->member(kRoot, "resourceType");
  if (type == kNone || !doc->string_equals(type, "Bundle")) {
    return Status::invalid("bundle: resourceType is not Bundle");
  }
  const uint32_t bundle_type = doc->member(kRoot, "type");
  if (bundle_type == kNone || !doc->string_equals(bundle_type, "transaction")) {
    return Status::invalid("bundle: type is not transaction");
  }
  std::vector<BundleEntry> entries;
  const uint32_t list = doc->member(kRoot, "entry");
  if (list == kNone) return entries;
  if (doc->node(list).kind != Kind::kArray) return Status::invalid("bundle: entry is not an array");
  size_t count = 0;
  for (uint32_t e = doc->first_child(list); e != kNone && count <= max_entries; e = doc->next_sibling(e)) ++count;
  entries.reserve(std::min(count, max_entries));
  for (uint32_t e = doc->first_child(list); e != kNone; e = doc->next_sibling(e)) {
    if (entries.size() == max_entries) return Status::invalid("bundle: too many entries");
    Result<BundleEntry> entry = parse_entry(*doc, e, entries.size());
    if (!entry) return entry.status();
    entries.push_back(std::move(*entry));
  }
  return entries;
}

namespace {

template <typename Map>
std::vector<UuidRewrite> uuid_rewrites_in(const BundleEntry& entry, const Map& rewrites) {
  std::vector<UuidRewrite> out;
  if (rewrites.empty()) return out;
  std::string key;  // one buffer for every lookup: a urn:uuid is too long to be stored inline
  for (const TextSpan& span : entry.uuid_strings) {
    key.assign(entry.resource.data() + span.begin + 1, span.end - span.begin - 2);
    const auto found = rewrites.find(key);
    if (found != rewrites.end()) out.push_back({span, &found->second});
  }
  return out;
}

}  // namespace

std::vector<UuidRewrite> uuid_rewrites(const BundleEntry& entry,
                                       const std::map<std::string, std::string>& rewrites) {
  return uuid_rewrites_in(entry, rewrites);
}

std::vector<UuidRewrite> uuid_rewrites(
    const BundleEntry& entry, const std::unordered_map<std::string, std::string>& rewrites) {
  return uuid_rewrites_in(entry, rewrites);
}

std::string rewrite_uuid_references(const BundleEntry& entry,
                                    const std::map<std::string, std::string>& rewrites) {
  std::vector<Edit> edits;
  for (const UuidRewrite& w : uuid_rewrites(entry, rewrites)) {
    edits.push_back(replace_value(w.span, *w.value));
  }
  return apply(std::string_view(entry.resource), std::move(edits));
}

size_t rewritten_size(const BundleEntry& entry,
                      const std::map<std::string, std::string>& rewrites) {
  return rewritten_size(entry, uuid_rewrites(entry, rewrites));
}

size_t rewritten_size(const BundleEntry& entry, const std::vector<UuidRewrite>& rewrites) {
  size_t size = entry.resource.size();
  for (const UuidRewrite& w : rewrites) {
    size = size - (w.span.end - w.span.begin) + json::quoted_size(*w.value);
  }
  return size;
}

Result<StampedResource> rewrite_and_stamp(const BundleEntry& entry,
                                          const std::map<std::string, std::string>& rewrites,
                                          std::string_view id, std::string_view version_id,
                                          std::string_view last_updated) {
  return rewrite_and_stamp(entry, uuid_rewrites(entry, rewrites), id, version_id, last_updated);
}

Result<StampedResource> rewrite_and_stamp(const BundleEntry& entry,
                                          const std::vector<UuidRewrite>& rewrites,
                                          std::string_view id, std::string_view version_id,
                                          std::string_view last_updated) {
  return stamp_at_sites(entry.resource, entry.sites, rewrites, id, version_id, last_updated);
}

Result<std::string> rewrite_references(std::string_view resource,
                                       const std::map<std::string, std::string>& rewrites) {
  Result<Document> doc = Document::scan(resource, kMaxDepth);
  if (!doc) return doc.status();
  // Most strings cannot match on length alone; skip them without building a key.
  size_t shortest = SIZE_MAX;
  size_t longest = 0;
  for (const auto& [from, to] : rewrites) {
    shortest = std::min(shortest, from.size());
    longest = std::max(longest, from.size());
  }
  std::vector<Edit> edits;
  for (uint32_t i = 0; i < doc->node_count(); ++i) {
    const json::Node& n = doc->node(i);
    if (n.kind != Kind::kString) continue;
    const size_t raw_length = n.end - n.begin - 2;  // unescaping only shortens a string
    if (raw_length < shortest || (!n.value_escaped && raw_length > longest)) continue;
    const auto found = rewrites.find(doc->string_value(i));
    if (found != rewrites.end()) edits.push_back(replace_value({n.begin, n.end}, found->second));
  }
  return apply(resource, std::move(edits));
}

}  // namespace medseal::records
