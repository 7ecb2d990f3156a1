#include "records/statement.h"

#include <algorithm>
#include <array>
#include <span>

#include <nlohmann/json.hpp>

#include "identity/identity.h"
#include "util/strict_json.h"

namespace medseal::records {
namespace {

using Json = nlohmann::json;

constexpr int kVersion = 1;
// A search lists every resource it returned and an erasure every index it erased; far below this.
constexpr size_t kMaxStatementBytes = 16 << 20;
constexpr size_t kMaxDeniedOpBytes = 64;
constexpr std::array<std::string_view, 13> kOps = {"create", "update", "delete", "read",
                                                   "vread",  "history", "search", "audit",
                                                   "receipt", "erase", "token", "forensics",
                                                   "integrity"};
constexpr std::array<std::string_view, 13> kFields = {
    "v",      "op",       "outcome", "time", "who",    "role",  "purpose",
    "resources", "sha256", "patients", "rule", "reason", "erased"};

bool known(std::string_view value, std::span<const std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (a == value) return true;
  }
  return false;
}

Status bad(const std::string& field, std::string_view what) {
  return Status::invalid("statement field \"" + field + "\" " + std::string(what));
}

Status read_string(const Json& j, const char* field, std::string* out) {
  auto it = j.find(field);
  if (it == j.end()) return Status::ok();
  if (!it->is_string()) return bad(field, "is not a string");
  *out = it->get<std::string>();
  return Status::ok();
}

Status read_strings(const Json& j, const char* field, std::vector<std::string>* out) {
  auto it = j.find(field);
  if (it == j.end()) return Status::ok();
  if (!it->is_array()) return bad(field, "is not an array");
  for (const Json& item : *it) {
    if (!item.is_string()) return bad(field, "holds something other than strings");
    out->push_back(item.get<std::string>());
  }
  return Status::ok();
}

Status read_numbers(const Json& j, const char* field, std::vector<uint64_t>* out) {
  auto it = j.find(field);
  if (it == j.end()) return Status::ok();
  if (!it->is_array()) return bad(field, "is not an array");
  for (const Json& item : *it) {
    if (!item.is_number_unsigned()) return bad(field, "holds something other than unsigned integers");
    out->push_back(item.get<uint64_t>());
  }
  return Status::ok();
}

Status check_members(const Json& j) {
  if (!j.is_object()) return Status::invalid("a statement is a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!known(it.key(), kFields)) return Status::invalid("statement has an unknown field");
  }
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_unsigned() || v->get<uint64_t>() != kVersion) {
    return Status::invalid("statement version \"v\" is not 1");
  }
  auto time = j.find("time");
  if (time == j.end() || !time->is_number_unsigned()) return bad("time", "is not Unix milliseconds");
  return Status::ok();
}

Status read_fields(const Json& j, Statement* s) {
  MEDSEAL_RETURN_IF_ERROR(check_members(j));
  s->time_ms = j.find("time")->get<uint64_t>();
  std::string outcome;
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "op", &s->op));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "outcome", &outcome));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "who", &s->who));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "role", &s->role));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "purpose", &s->purpose));
  MEDSEAL_RETURN_IF_ERROR(read_strings(j, "resources", &s->resources));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "sha256", &s->sha256));
  MEDSEAL_RETURN_IF_ERROR(read_strings(j, "patients", &s->patients));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "rule", &s->rule));
  MEDSEAL_RETURN_IF_ERROR(read_string(j, "reason", &s->reason));
  MEDSEAL_RETURN_IF_ERROR(read_numbers(j, "erased", &s->erased));
  if (outcome != "ok" && outcome != "denied") return bad("outcome", "is neither \"ok\" nor \"denied\"");
  s->denied = outcome == "denied";
  // A refused request is recorded with whatever operation it asked for (record_refusal).
  const bool op_ok = s->denied ? !s->op.empty() && s->op.size() <= kMaxDeniedOpBytes : known(s->op, kOps);
  if (!op_ok) return bad("op", "is not a known operation");
  return Status::ok();
}

Status check_values(const Statement& s) {
  if (!s.role.empty() && !identity::parse_role(s.role)) return bad("role", "is not a known role");
  if (!s.sha256.empty() && !is_sha256_hex(s.sha256)) return bad("sha256", "is not 64 lower-case hex digits");
  return Status::ok();
}

}  // namespace

namespace {

// The general form: nlohmann's serializer, whose escaping defines the canonical spelling.
std::string format_with_nlohmann(const Statement& s) {
  nlohmann::ordered_json j;
  j["v"] = kVersion;
  j["op"] = s.op;
  j["outcome"] = s.denied ? "denied" : "ok";
  j["time"] = s.time_ms;
  if (!s.who.empty()) j["who"] = s.who;
  if (!s.role.empty()) j["role"] = s.role;
  if (!s.purpose.empty()) j["purpose"] = s.purpose;
  if (!s.resources.empty()) j["resources"] = s.resources;
  if (!s.sha256.empty()) j["sha256"] = s.sha256;
  if (!s.patients.empty()) j["patients"] = s.patients;
  if (!s.rule.empty()) j["rule"] = s.rule;
  if (!s.reason.empty()) j["reason"] = s.reason;
  if (!s.erased.empty()) j["erased"] = s.erased;
  // Invalid UTF-8 in a string is replaced, never thrown about: the record layer's inputs are
  // checked before they get here, and a statement must always be writable.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Printable ASCII other than '"' and '\\': the strings nlohmann writes as they are.
bool is_plain(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

bool all_plain(const Statement& s) {
  for (const std::string* t : {&s.op, &s.who, &s.role, &s.purpose, &s.sha256, &s.rule, &s.reason}) {
    if (!is_plain(*t)) return false;
  }
  auto plain_list = [](const std::vector<std::string>& list) {
    return std::all_of(list.begin(), list.end(), [](const std::string& t) { return is_plain(t); });
  };
  return plain_list(s.resources) && plain_list(s.patients);
}

// Writes `,"name":` (no comma before the first member).
void open_member(std::string& out, std::string_view name) {
  out += out.size() > 1 ? ",\"" : "\"";
  out += name;
  out += "\":";
}

void put_string(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  open_member(out, name);
  out += '"';
  out += value;
  out += '"';
}

template <typename Item, typename Put>
void put_list(std::string& out, std::string_view name, const std::vector<Item>& items, Put put) {
  if (items.empty()) return;
  open_member(out, name);
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    put(items[i]);
  }
  out += ']';
}

// The same bytes as format_with_nlohmann for a statement whose strings are all plain, written
// directly: every record write formats one, and the general serializer costs several times more.
std::string format_plain(const Statement& s) {
  std::string out;
  out.reserve(160 + s.sha256.size() + s.reason.size() + 40 * (s.resources.size() + s.patients.size()));
  out += '{';
  open_member(out, "v");
  out += std::to_string(kVersion);
  put_string(out, "op", s.op);
  put_string(out, "outcome", s.denied ? "denied" : "ok");
  open_member(out, "time");
  out += std::to_string(s.time_ms);
  put_string(out, "who", s.who);
  put_string(out, "role", s.role);
  put_string(out, "purpose", s.purpose);
  auto quoted = [&](const std::string& t) { out += '"'; out += t; out += '"'; };
  put_list(out, "resources", s.resources, quoted);
  put_string(out, "sha256", s.sha256);
  put_list(out, "patients", s.patients, quoted);
  put_string(out, "rule", s.rule);
  put_string(out, "reason", s.reason);
  put_list(out, "erased", s.erased, [&](uint64_t i) { out += std::to_string(i); });
  out += '}';
  return out;
}

}  // namespace

std::string format_statement(const Statement& s) {
  // An empty op is written too ("op":""), which put_string would leave out.
  if (s.op.empty() || !all_plain(s)) return format_with_nlohmann(s);
  return format_plain(s);
}

Result<Statement> parse_statement(std::string_view json) {
  if (json.size() > kMaxStatementBytes) return Status::invalid("statement is too large");
  Result<Json> parsed = parse_strict_json(json, 2);
  if (!parsed) return Status::invalid("statement: " + parsed.status().message());
  Statement s;
  MEDSEAL_RETURN_IF_ERROR(read_fields(*parsed, &s));
  MEDSEAL_RETURN_IF_ERROR(check_values(s));
  // What format_statement writes, byte for byte: field order, no whitespace, no empty members,
  // no escapes it would not use. One statement has one spelling.
  if (format_statement(s) != json) return Status::invalid("statement is not in its canonical form");
  return s;
}

}  // namespace medseal::records
