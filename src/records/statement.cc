#include "records/statement.h"

#include <array>
#include <charconv>
#include <optional>
#include <span>

#include <nlohmann/json.hpp>

#include "identity/identity.h"
#include "note/text.h"
#include "records/json_scan.h"
#include "util/strict_json.h"

namespace medseal::records {
namespace {

constexpr int kVersion = 1;
// A search lists every resource it returned and an erasure every index it erased; far below this.
constexpr size_t kMaxStatementBytes = 16 << 20;
constexpr size_t kMaxDeniedOpBytes = 64;
constexpr std::array<std::string_view, 13> kOps = {"create", "update", "delete", "read",
                                                   "vread",  "history", "search", "audit",
                                                   "receipt", "erase", "token", "forensics",
                                                   "integrity"};

bool known(std::string_view value, std::span<const std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (a == value) return true;
  }
  return false;
}

Status bad(const std::string& field, std::string_view what) {
  return Status::invalid("statement field \"" + field + "\" " + std::string(what));
}

// The statement is read with the strict scanner (json_scan.h) rather than into a DOM: the
// sentinel parses every statement the server commits, and the canonical-form check below makes
// anything but format_statement's own spelling fail anyway.
using json::Document;
using json::Kind;

Result<uint64_t> read_unsigned(const Document& d, uint32_t node, const std::string& field) {
  const std::string_view digits = d.raw(node);
  uint64_t value = 0;
  const bool plain = d.node(node).kind == Kind::kNumber && !digits.empty() &&
                     digits.find_first_not_of("0123456789") == std::string_view::npos;
  const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (!plain || err != std::errc() || end != digits.data() + digits.size()) {
    return bad(field, "is not an unsigned integer");
  }
  return value;
}

Status read_string(const Document& d, uint32_t node, const std::string& field, std::string* out) {
  if (d.node(node).kind != Kind::kString) return bad(field, "is not a string");
  *out = d.string_value(node);
  return Status::ok();
}

Status read_strings(const Document& d, uint32_t node, const std::string& field,
                    std::vector<std::string>* out) {
  if (d.node(node).kind != Kind::kArray) return bad(field, "is not an array");
  for (uint32_t c = d.first_child(node); c != json::kNone; c = d.next_sibling(c)) {
    if (d.node(c).kind != Kind::kString) return bad(field, "holds something other than strings");
    out->push_back(d.string_value(c));
  }
  return Status::ok();
}

Status read_numbers(const Document& d, uint32_t node, const std::string& field,
                    std::vector<uint64_t>* out) {
  if (d.node(node).kind != Kind::kArray) return bad(field, "is not an array");
  for (uint32_t c = d.first_child(node); c != json::kNone; c = d.next_sibling(c)) {
    Result<uint64_t> n = read_unsigned(d, c, field);
    if (!n) return bad(field, "holds something other than unsigned integers");
    out->push_back(*n);
  }
  return Status::ok();
}

// One member into its field of `s`; `outcome` and `version` are checked by the caller.
Status read_member(const Document& d, uint32_t node, const std::string& name, Statement* s,
                   std::string* outcome, std::optional<uint64_t>* version) {
  if (name == "v" || name == "time") {
    Result<uint64_t> n = read_unsigned(d, node, name);
    if (!n) return name == "v" ? Status::invalid("statement version \"v\" is not 1")
                               : bad("time", "is not Unix milliseconds");
    if (name == "v") *version = *n; else s->time_ms = *n;
    return Status::ok();
  }
  if (name == "op") return read_string(d, node, name, &s->op);
  if (name == "outcome") return read_string(d, node, name, outcome);
  if (name == "who") return read_string(d, node, name, &s->who);
  if (name == "role") return read_string(d, node, name, &s->role);
  if (name == "purpose") return read_string(d, node, name, &s->purpose);
  if (name == "resources") return read_strings(d, node, name, &s->resources);
  if (name == "sha256") return read_string(d, node, name, &s->sha256);
  if (name == "patients") return read_strings(d, node, name, &s->patients);
  if (name == "rule") return read_string(d, node, name, &s->rule);
  if (name == "reason") return read_string(d, node, name, &s->reason);
  if (name == "erased") return read_numbers(d, node, name, &s->erased);
  return Status::invalid("statement has an unknown field");
}

Status read_fields(const Document& d, Statement* s) {
  if (d.node(Document::root()).kind != Kind::kObject) {
    return Status::invalid("a statement is a JSON object");
  }
  std::string outcome;
  std::optional<uint64_t> version;
  bool timed = false;
  for (uint32_t c = d.first_child(Document::root()); c != json::kNone; c = d.next_sibling(c)) {
    const std::string name = d.key(c);
    timed = timed || name == "time";
    MEDSEAL_RETURN_IF_ERROR(read_member(d, c, name, s, &outcome, &version));
  }
  if (version != static_cast<uint64_t>(kVersion)) {
    return Status::invalid("statement version \"v\" is not 1");
  }
  if (!timed) return bad("time", "is not Unix milliseconds");
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

// True for strict UTF-8 (note/text.h: no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::optional<note::text::Rune> rune = note::text::decode_rune(text.substr(i));
    if (!rune) return false;
    i += rune->size;
  }
  return true;
}

// `value` as nlohmann::json::dump(-1, ' ', false, replace) writes it: for valid UTF-8 the short
// escapes for \b \f \n \r \t, \u00xx for the other control characters, everything else as it
// is. Invalid UTF-8 (never in what the record layer checked) is left to nlohmann, whose
// replacement characters the spelling has always had.
void append_quoted(std::string& out, std::string_view value) {
  if (!valid_utf8(value)) {
    out += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t plain = 0;  // start of the bytes not yet copied, which need no escape
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value.substr(plain, i - plain));
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(value.substr(plain));
  out.push_back('"');
}

void append_member(std::string& out, std::string_view name) {
  out.push_back(',');
  append_quoted(out, name);
  out.push_back(':');
}

void append_strings(std::string& out, std::string_view name, const std::vector<std::string>& values) {
  if (values.empty()) return;
  append_member(out, name);
  out.push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_quoted(out, values[i]);
  }
  out.push_back(']');
}

void append_string(std::string& out, std::string_view name, const std::string& value) {
  if (value.empty()) return;
  append_member(out, name);
  append_quoted(out, value);
}

}  // namespace

// Written directly rather than through an ordered_json: every request formats one, and the
// sentinel formats every statement it verifies again (the canonical-form check). The output is
// byte for byte what the ordered_json's dump gave (records_statement_test compares the two).
std::string format_statement(const Statement& s) {
  std::string out;
  out.reserve(256);
  out += "{\"v\":" + std::to_string(kVersion);
  append_member(out, "op");
  append_quoted(out, s.op);
  out += s.denied ? ",\"outcome\":\"denied\"" : ",\"outcome\":\"ok\"";
  append_member(out, "time");
  out += std::to_string(s.time_ms);
  append_string(out, "who", s.who);
  append_string(out, "role", s.role);
  append_string(out, "purpose", s.purpose);
  append_strings(out, "resources", s.resources);
  append_string(out, "sha256", s.sha256);
  append_strings(out, "patients", s.patients);
  append_string(out, "rule", s.rule);
  append_string(out, "reason", s.reason);
  if (!s.erased.empty()) {
    append_member(out, "erased");
    out.push_back('[');
    for (size_t i = 0; i < s.erased.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += std::to_string(s.erased[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

Result<Statement> parse_statement(std::string_view json) {
  if (json.size() > kMaxStatementBytes) return Status::invalid("statement is too large");
  Result<Document> parsed = Document::scan(json, 2);
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
