#include "sentinel/integrity_page.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "storage/extras_codec.h"
#include "util/bytes.h"
#include "util/strict_json.h"

namespace medseal::sentinel {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// The run of `rows` holding `index`, or null.
const ExtrasRow* run_holding(const std::vector<ExtrasRow>& rows, uint64_t index) {
  for (const ExtrasRow& r : rows) {
    if (r.first_index <= index && index - r.first_index < r.count) return &r;
  }
  return nullptr;
}

OrderedJson entry_json(uint64_t index, const std::vector<ExtrasRow>& rows) {
  OrderedJson e = {{"index", index}};
  const ExtrasRow* run = run_holding(rows, index);
  if (run == nullptr) return e;
  Result<storage::EntryExtra> extra = storage::decode_extra_at(run->data, index - run->first_index);
  if (extra) {
    e["salt"] = crypto::base64_encode(extra->salt);
    e["statement"] = crypto::base64_encode(extra->statement);
  } else if (extra.status().code() == Code::kNotFound) {
    e["erased"] = true;  // the run holds the index but marks it erased
  } else {
    e["malformed"] = true;
  }
  return e;
}

Result<std::string> read_page(SentinelView& view, uint64_t from, uint64_t count) {
  Result<storage::LogHead> head = view.head();
  if (!head) return head.status();
  uint64_t to = from >= head->size ? from : std::min(head->size, from + count);
  Result<std::vector<ExtrasRow>> extras = view.extras(from, to);
  if (!extras) return extras.status();
  OrderedJson entries = OrderedJson::array();
  size_t budget = 0;
  for (uint64_t i = from; i < to; ++i) {
    if (budget >= kPageBudgetBytes) {
      to = i;
      break;
    }
    entries.push_back(entry_json(i, *extras));
    const OrderedJson& e = entries.back();
    budget += 64 + (e.contains("statement") ? e["statement"].get_ref<const std::string&>().size() : 0);
  }
  Result<std::vector<RecordRow>> records = view.records(from, to);
  if (!records) return records.status();
  Result<std::vector<KeyRow>> keys = view.keys(from, to);
  if (!keys) return keys.status();
  OrderedJson page = {{"from", from}, {"to", to}, {"size", head->size},
                      {"checkpoint", head->checkpoint}, {"entries", std::move(entries)},
                      {"records", OrderedJson::array()}, {"keys", OrderedJson::array()}};
  for (const RecordRow& r : *records) {
    page["records"].push_back({{"index", r.ledger_index}, {"type", r.type}, {"id", r.id},
                               {"version", r.version}, {"updated_ms", r.updated_ms},
                               {"deleted", r.deleted}, {"size", r.bytes_size},
                               {"sha256", hex_encode(r.bytes_sha256)}});
  }
  for (const KeyRow& k : *keys) page["keys"].push_back({{"index", k.index}, {"key", k.key}});
  // Rows written behind the server's back may hold bytes that are not UTF-8: replaced, not thrown.
  return page.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// --- parsing

Status bad(std::string_view what) { return Status::invalid("statements page: " + std::string(what)); }

bool only_fields(const Json& j, std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) return false;
  }
  return true;
}

Result<uint64_t> get_uint(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_unsigned()) return bad(std::string(field) + " is not a number");
  return it->get<uint64_t>();
}

Result<std::string> get_string(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return bad(std::string(field) + " is not a string");
  return it->get<std::string>();
}

Result<std::string> get_base64(const Json& j, const char* field) {
  Result<std::string> text = get_string(j, field);
  if (!text) return text.status();
  std::optional<std::string> bytes = crypto::base64_decode(*text);
  if (!bytes) return bad(std::string(field) + " is not base64");
  return std::move(*bytes);
}

bool is_true(const Json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

Result<PageEntry> parse_entry(const Json& j) {
  if (!only_fields(j, {"index", "salt", "statement", "erased", "malformed"})) return bad("entry fields");
  PageEntry e;
  Result<uint64_t> index = get_uint(j, "index");
  if (!index) return index.status();
  e.index = *index;
  const size_t n = j.size();
  if (n == 1) return e;  // kMissing
  if (n == 2 && is_true(j, "erased")) e.state = PageEntry::State::kErased;
  else if (n == 2 && is_true(j, "malformed")) e.state = PageEntry::State::kMalformed;
  else if (n == 3 && j.contains("salt") && j.contains("statement")) {
    Result<std::string> salt = get_base64(j, "salt");
    Result<std::string> statement = salt ? get_base64(j, "statement") : salt.status();
    if (!statement) return statement.status();
    e.state = PageEntry::State::kPresent;
    e.salt = std::move(*salt);
    e.statement = std::move(*statement);
  } else {
    return bad("an entry is neither present, erased, malformed nor missing");
  }
  return e;
}

Result<RecordRow> parse_record(const Json& j) {
  if (!only_fields(j, {"index", "type", "id", "version", "updated_ms", "deleted", "size", "sha256"}) ||
      j.size() != 8 || !j["deleted"].is_boolean()) {
    return bad("record fields");
  }
  RecordRow r;
  Result<uint64_t> index = get_uint(j, "index"), version = get_uint(j, "version"),
                   updated = get_uint(j, "updated_ms"), size = get_uint(j, "size");
  Result<std::string> type = get_string(j, "type"), id = get_string(j, "id"),
                      sha = get_string(j, "sha256");
  for (const Status& s : {index.status(), version.status(), updated.status(), size.status(),
                          type.status(), id.status(), sha.status()}) {
    MEDSEAL_RETURN_IF_ERROR(s);
  }
  std::optional<std::string> hash = is_sha256_hex(*sha) ? hex_decode(*sha) : std::nullopt;
  if (!hash) return bad("a record's sha256 is not 64 hex digits");
  r.ledger_index = *index;
  r.type = std::move(*type);
  r.id = std::move(*id);
  r.version = *version;
  r.updated_ms = *updated;
  r.deleted = j["deleted"].get<bool>();
  r.bytes_size = static_cast<size_t>(*size);
  std::copy(hash->begin(), hash->end(), reinterpret_cast<char*>(r.bytes_sha256.data()));
  return r;
}

Result<KeyRow> parse_key(const Json& j) {
  if (!only_fields(j, {"index", "key"}) || j.size() != 2) return bad("key fields");
  Result<uint64_t> index = get_uint(j, "index");
  Result<std::string> key = get_string(j, "key");
  if (!index) return index.status();
  if (!key) return key.status();
  return KeyRow{std::move(*key), *index};
}

Status parse_rows(const Json& page, IntegrityPage& out) {
  uint64_t next = out.from;
  for (const Json& j : page["entries"]) {
    Result<PageEntry> e = parse_entry(j);
    if (!e) return e.status();
    if (e->index != next++) return bad("entries are not in index order");
    out.entries.push_back(std::move(*e));
  }
  if (next != out.to) return bad("the entries do not cover [from, to)");
  auto inside = [&out](uint64_t index) { return index >= out.from && index < out.to; };
  for (const Json& j : page["records"]) {
    Result<RecordRow> r = parse_record(j);
    if (!r) return r.status();
    if (!inside(r->ledger_index)) return bad("a record row lies outside the page");
    out.records.push_back(std::move(*r));
  }
  for (const Json& j : page["keys"]) {
    Result<KeyRow> k = parse_key(j);
    if (!k) return k.status();
    if (!inside(k->index)) return bad("a key row lies outside the page");
    out.keys.push_back(std::move(*k));
  }
  return Status::ok();
}

}  // namespace

Result<std::string> read_integrity_page(SentinelView& view, uint64_t from, uint64_t count) {
  if (count == 0 || count > kMaxPageEntries) {
    return Status::invalid("count must be 1.." + std::to_string(kMaxPageEntries));
  }
  MEDSEAL_RETURN_IF_ERROR(view.begin_snapshot());
  Result<std::string> page = read_page(view, from, count);
  view.end_snapshot();
  return page;
}

Result<IntegrityPage> parse_integrity_page(std::string_view json) {
  if (json.size() > kMaxPageBytes) return bad("too large");
  Result<Json> parsed = parse_strict_json(json, 4);
  if (!parsed) return bad(parsed.status().message());
  const Json& j = *parsed;
  if (!only_fields(j, {"from", "to", "size", "checkpoint", "entries", "records", "keys"}) ||
      j.size() != 7 || !j["entries"].is_array() || !j["records"].is_array() || !j["keys"].is_array()) {
    return bad("page fields");
  }
  IntegrityPage page;
  Result<uint64_t> from = get_uint(j, "from"), to = get_uint(j, "to"), size = get_uint(j, "size");
  Result<std::string> checkpoint = get_string(j, "checkpoint");
  for (const Status& s : {from.status(), to.status(), size.status(), checkpoint.status()}) {
    MEDSEAL_RETURN_IF_ERROR(s);
  }
  if (*to < *from || *to - *from > kMaxPageEntries) return bad("from and to");
  page.from = *from;
  page.to = *to;
  page.head = storage::LogHead{*size, std::move(*checkpoint)};
  MEDSEAL_RETURN_IF_ERROR(parse_rows(j, page));
  return page;
}

Result<std::optional<storage::StoredTile>> PageRows::tile(bool entries, uint8_t level,
                                                          uint64_t index) {
  const uint32_t width = merkle::tile_width(level, index, size_);
  if (width == 0) return std::optional<storage::StoredTile>();
  Result<std::string> bytes = read_tile_(merkle::TileId{entries, level, index, width});
  if (!bytes && bytes.status().code() == Code::kNotFound) return std::optional<storage::StoredTile>();
  if (!bytes) return bytes.status();
  return std::optional<storage::StoredTile>(storage::StoredTile{width, std::move(*bytes), ""});
}

Result<std::vector<ExtrasRow>> PageRows::extras(uint64_t from, uint64_t to) {
  std::vector<ExtrasRow> out;
  for (const PageEntry& e : page_.entries) {
    if (e.index < from || e.index >= to) continue;
    if (e.state == PageEntry::State::kMissing) continue;  // no row: a gap, as in the store
    // One row per entry, in the codec's encoding, so EntryChecker decodes what the store held.
    const storage::EntryExtra extra =
        e.state == PageEntry::State::kPresent ? storage::EntryExtra{e.salt, e.statement}
                                              : storage::EntryExtra{std::string(32, '\0'), ""};
    Result<std::vector<storage::ExtrasRun>> runs = storage::encode_extras_runs(e.index, {&extra, 1});
    std::string data;
    if (!runs || e.state == PageEntry::State::kMalformed) {
      data = std::string(1, '\x02');  // a flags byte the codec refuses: reported malformed
    } else if (e.state == PageEntry::State::kErased) {
      Result<std::string> erased = storage::erase_extra_at(runs->front().data, 0);
      if (!erased) return erased.status();
      data = std::move(*erased);
    } else {
      data = std::move(runs->front().data);
    }
    out.push_back(ExtrasRow{e.index, 1, std::move(data)});
  }
  return out;
}

Result<std::vector<RecordRow>> PageRows::records(uint64_t from, uint64_t to) {
  std::vector<RecordRow> out;
  for (const RecordRow& r : page_.records) {
    if (r.ledger_index >= from && r.ledger_index < to) out.push_back(r);
  }
  return out;
}

Result<std::vector<KeyRow>> PageRows::keys(uint64_t from, uint64_t to) {
  std::vector<KeyRow> out;
  for (const KeyRow& k : page_.keys) {
    if (k.index >= from && k.index < to) out.push_back(k);
  }
  return out;
}

}  // namespace medseal::sentinel
