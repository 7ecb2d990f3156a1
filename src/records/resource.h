// FHIR R4 JSON resources as exact bytes. A resource is stored and served as the bytes the client
// sent, except for the members the server owns (`id`, `meta.versionId`, `meta.lastUpdated`), which
// are spliced in. Nothing is re-serialized and no number goes through a double, so key order,
// decimals such as 1.00 or 1E-22 and non-ASCII text come back exactly as sent.
//
// The parser is strict (RFC 8259, see records/json_scan.h): valid UTF-8, no duplicate keys in any
// object, no trailing data, nesting at most kMaxDepth. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/status.h"

namespace medseal::records {

inline constexpr size_t kMaxDepth = 100;

// True for a FHIR id: 1..64 of [A-Za-z0-9-.].
bool is_valid_id(std::string_view id);
// True for a resource type name as FHIR spells them: [A-Z][A-Za-z]{0,63}.
bool is_valid_type_name(std::string_view type);

// A version id as medseal writes them: a decimal of 1..18 digits without leading zeros, so never
// 0; nullopt for anything else.
std::optional<uint64_t> parse_version_id(std::string_view text);
// The version in an ETag or If-Match value: W/"3" or "3" gives 3; nullopt for anything else.
std::optional<uint64_t> parse_version_etag(std::string_view etag);

// True for the 146 resource types of FHIR R4 (4.0.1), e.g. "Patient"; false for anything else.
bool is_r4_resource_type(std::string_view type);
// All 146 of them, sorted.
std::span<const std::string_view> r4_resource_types();

struct ResourceInfo {
  std::string type;  // resourceType
  std::string id;    // "" when the resource has no id
};

// Checks that `bytes` is one JSON object with a string `resourceType` of valid form and, if
// present, a string `id` that is a valid id. kInvalidArgument with a one-line reason otherwise
// (the reason names a byte offset, never content).
Result<ResourceInfo> inspect_resource(std::string_view bytes);

// `bytes` (which inspect_resource accepts) with `id` set, and `meta.versionId` and
// `meta.lastUpdated` set (as JSON strings); every other byte unchanged. An existing member is
// replaced where it stands; a missing `id` goes right after `resourceType`, a missing `meta` right
// after `id`, missing meta members at the end of `meta`. Inserted members copy the whitespace
// that precedes their neighbour, so pretty-printed input stays pretty. kInvalidArgument when
// `bytes` is not accepted, `meta` is not an object, or `id` or `version_id` is not a valid id.
Result<std::string> stamp_resource(std::string_view bytes, std::string_view id,
                                   std::string_view version_id, std::string_view last_updated);

// stamp_resource, inspect_resource and patient_compartment (of the stamped resource) from one
// scan of `bytes`: what a write needs, at a third of the cost of calling them one by one.
struct StampedResource {
  ResourceInfo info;        // as sent: its resourceType and the id it carried ("" if none)
  std::string bytes;        // stamped
  std::string compartment;  // patient_compartment(bytes)
};
Result<StampedResource> stamp_and_inspect(std::string_view bytes, std::string_view id,
                                          std::string_view version_id,
                                          std::string_view last_updated);

// The patient compartment a resource belongs to: "Patient/<id>" for a Patient; otherwise the
// first (in document order) top-level `subject`, `patient` or `beneficiary` whose `reference` is
// "Patient/<id>" (relative or ending in "/Patient/<id>"); "" when there is none, including for
// bytes that inspect_resource would not accept.
std::string patient_compartment(std::string_view bytes);

// Bytes [begin, end) of a text.
struct TextSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// One member of a resource as stamping sees it: its value, the whitespace before its name and
// what lies between its name and its value (new members copy this layout).
struct MemberSite {
  TextSpan value;
  TextSpan indent;
  TextSpan colon;
};

// Where stamp_and_inspect edits a resource and what it reads there, as spans relative to the
// resource's first byte, found by the scan that parsed it (see BundleEntry), so the resource can
// be stamped without another scan.
struct StampSites {
  Status verdict;     // inspect_resource's verdict on the resource
  ResourceInfo info;  // when the verdict is ok
  MemberSite type;    // resourceType, when the verdict is ok
  std::optional<MemberSite> id, meta;
  bool meta_is_object = false;
  std::optional<MemberSite> version_id, last_updated;  // members of meta
  std::optional<MemberSite> meta_last;                 // the last member of meta
  // The string `reference`s of the top-level subject, patient and beneficiary members, in
  // document order, with their unescaped values: where the patient compartment is found.
  struct Reference {
    TextSpan span;
    std::string value;
  };
  std::vector<Reference> references;
};

// One entry of a transaction Bundle.
struct BundleEntry {
  std::string full_url;  // "" when absent
  std::string method;    // "POST", "PUT" or "DELETE"
  std::string url;       // request.url as sent: "Patient" or "Patient/123"
  std::string if_match;  // request.ifMatch, "" when absent
  // The exact bytes of entry.resource ("" for DELETE), within the bytes parse_transaction read,
  // which must outlive the entry: a Bundle's resources are not copied to be read.
  std::string_view resource;
  // The string values in `resource` that start with "urn:uuid:" (quotes included, no escapes),
  // found while the bundle was parsed, so references can be rewritten without another scan.
  std::vector<TextSpan> uuid_strings;
  StampSites sites;  // of `resource`, found while the bundle was parsed
};

// The entries of a Bundle of type "transaction", in order; they refer to `bytes`, which must
// outlive them. kInvalidArgument for anything else:
// not a Bundle, another type, an entry without request, a method other than POST/PUT/DELETE, a
// POST or PUT without a resource, a DELETE with one, a request member other than method, url
// and ifMatch (conditional requests are not supported). At most `max_entries` entries. Nesting may
// be kMaxDepth deep inside each entry's resource (kMaxDepth + 3 for the whole Bundle).
Result<std::vector<BundleEntry>> parse_transaction(std::string_view bytes,
                                                   size_t max_entries = 100'000);

// entry.resource with each of its uuid_strings that is a key of `rewrites` replaced by the mapped
// value, as rewrite_references would, without scanning the resource again.
std::string rewrite_uuid_references(const BundleEntry& entry,
                                    const std::map<std::string, std::string>& rewrites);

// One of entry.uuid_strings that a map of rewrites replaces: its span and the new value, which
// points into the map (the map must outlive it).
struct UuidRewrite {
  TextSpan span;
  const std::string* value;
};
// The uuid_strings of `entry` that `rewrites` replaces, in document order: looked up once for
// both rewritten_size and rewrite_and_stamp below, which a write needs one after the other.
std::vector<UuidRewrite> uuid_rewrites(const BundleEntry& entry,
                                       const std::map<std::string, std::string>& rewrites);
// The same from a hash map: a Bundle's urn:uuids share their first nine bytes, which every
// comparison in an ordered map reads again.
std::vector<UuidRewrite> uuid_rewrites(const BundleEntry& entry,
                                       const std::unordered_map<std::string, std::string>& rewrites);

// The size of rewrite_uuid_references(entry, rewrites), without building it.
size_t rewritten_size(const BundleEntry& entry, const std::map<std::string, std::string>& rewrites);
size_t rewritten_size(const BundleEntry& entry, const std::vector<UuidRewrite>& rewrites);

// stamp_and_inspect(rewrite_uuid_references(entry, rewrites), id, version_id, last_updated), in
// one pass over entry.resource with no second scan. Byte offsets in error messages are those of
// entry.resource.
Result<StampedResource> rewrite_and_stamp(const BundleEntry& entry,
                                          const std::map<std::string, std::string>& rewrites,
                                          std::string_view id, std::string_view version_id,
                                          std::string_view last_updated);
// The same with `rewrites` from uuid_rewrites(entry, map).
Result<StampedResource> rewrite_and_stamp(const BundleEntry& entry,
                                          const std::vector<UuidRewrite>& rewrites,
                                          std::string_view id, std::string_view version_id,
                                          std::string_view last_updated);

// `resource` with every JSON string value equal to a key of `rewrites` (such as
// "urn:uuid:...") replaced by the mapped value ("Patient/123"), anywhere in the document; every
// other byte unchanged. Member names are never rewritten; values are compared unescaped.
Result<std::string> rewrite_references(std::string_view resource,
                                       const std::map<std::string, std::string>& rewrites);

}  // namespace medseal::records
