#include "ledger/publication.h"

#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <span>

#include "crypto/base64.h"
#include "note/keys.h"
#include "note/note.h"
#include "util/strict_json.h"
#include "util/time_format.h"

namespace medseal::ledger {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kRootChars = 52;   // ceil(256 / 5)
constexpr size_t kGroupChars = 4;
constexpr size_t kCheckChars = 3;
constexpr uint32_t kCheckPrime = 32749;
constexpr size_t kMaxSizeDigits = 20;  // 2^64 - 1 has 20

// The 5-bit value of a Crockford character, or -1. Case-insensitive; I and L read as 1, O as 0.
int crockford_value(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'I' || c == 'L') return 1;
  if (c == 'O') return 0;
  size_t at = kCrockford.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::string base32_root(const Hash& root) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : root) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kCrockford[(buffer >> bits) & 31];
    }
  }
  out += kCrockford[(buffer << (5 - bits)) & 31];  // the last bit, padded with zeros
  return out;
}

// `chars` holds kRootChars canonical characters.
Result<Hash> root_from_base32(std::string_view chars) {
  Hash root{};
  uint32_t buffer = 0;
  int bits = 0;
  size_t out = 0;
  for (char c : chars) {
    buffer = (buffer << 5) | static_cast<uint32_t>(crockford_value(c));
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (out < root.size()) root[out++] = static_cast<uint8_t>(buffer >> bits);
    }
    buffer &= (1u << bits) - 1;
  }
  if (buffer != 0) return Status::invalid("publication code: the root's last character is not canonical");
  return root;
}

std::string canonical_text(const Publication& p, std::string_view root_chars) {
  return p.origin + " " + std::to_string(p.size) + " " + std::string(root_chars);
}

uint32_t check_value(std::string_view canonical) {
  uint64_t sum = 0;
  for (size_t i = 0; i < canonical.size(); ++i) {
    sum = (sum + (i + 1) * static_cast<uint8_t>(canonical[i])) % kCheckPrime;
  }
  return static_cast<uint32_t>(sum);
}

std::string check_chars(uint32_t value) {
  std::string out;
  for (int shift = 10; shift >= 0; shift -= 5) out += kCrockford[(value >> shift) & 31];
  return out;
}

bool printable_origin(std::string_view origin) {
  if (origin.size() > kMaxPublishedOriginBytes || !note::valid_key_name(origin)) return false;
  for (char c : origin) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

Result<uint64_t> parse_size(std::string_view text) {
  const Status bad = Status::invalid("publication code: the size is not a decimal number without leading zeros");
  if (text.empty() || text.size() > kMaxSizeDigits || (text.size() > 1 && text[0] == '0')) return bad;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return bad;
    value = value * 10 + digit;
  }
  return value;
}

// The root's canonical characters from the fields between size and check (dashes dropped).
Result<std::string> root_chars(std::span<const std::string_view> fields) {
  std::string chars;
  for (std::string_view field : fields) {
    for (char c : field) {
      if (c == '-') continue;
      int value = crockford_value(c);
      if (value < 0) {
        return Status::invalid("publication code: root character " + std::to_string(chars.size() + 1) +
                               " is not Crockford base32");
      }
      chars += kCrockford[static_cast<size_t>(value)];
      if (chars.size() > kRootChars) break;
    }
  }
  if (chars.size() != kRootChars) {
    return Status::invalid("publication code: the root has " + std::string(chars.size() > kRootChars ? "more" : "fewer") +
                           " than " + std::to_string(kRootChars) + " characters");
  }
  return chars;
}

Result<uint32_t> parse_check(std::string_view field) {
  const Status bad = Status::invalid("publication code: the check is not 3 Crockford base32 characters");
  if (field.size() != kCheckChars) return bad;
  uint32_t value = 0;
  for (char c : field) {
    int v = crockford_value(c);
    if (v < 0) return bad;
    value = value * 32 + static_cast<uint32_t>(v);
  }
  return value;
}

Status check_printable(std::string_view code) {
  if (code.size() > kMaxPublicationCodeBytes) return Status::invalid("publication code is too long");
  for (size_t i = 0; i < code.size(); ++i) {
    char c = code[i];
    if (!is_space(c) && (c < 0x21 || c > 0x7e)) {
      return Status::invalid("publication code: character at offset " + std::to_string(i) +
                             " is not printable ASCII");
    }
  }
  return Status::ok();
}

}  // namespace

Publication publication_of(const note::Checkpoint& checkpoint) {
  return Publication{checkpoint.origin, checkpoint.size, checkpoint.root};
}

note::Checkpoint checkpoint_of(const Publication& publication) {
  return note::Checkpoint{publication.origin, publication.size, publication.root, {}};
}

Result<std::string> format_publication_code(const Publication& publication) {
  if (!printable_origin(publication.origin)) {
    return Status::invalid("a publication's origin must be a key name of at most " +
                           std::to_string(kMaxPublishedOriginBytes) + " printable ASCII characters");
  }
  const std::string root = base32_root(publication.root);
  std::string grouped;
  for (size_t i = 0; i < root.size(); i += kGroupChars) {
    if (i > 0) grouped += '-';
    grouped += root.substr(i, kGroupChars);
  }
  return publication.origin + " " + std::to_string(publication.size) + " " + grouped + " " +
         check_chars(check_value(canonical_text(publication, root)));
}

Result<Publication> parse_publication_code(std::string_view code) {
  MEDSEAL_RETURN_IF_ERROR(check_printable(code));
  std::vector<std::string_view> fields = split_fields(code);
  if (fields.size() < 4) {
    return Status::invalid("publication code: want origin, size, root and check, found " +
                           std::to_string(fields.size()) + " fields");
  }
  Publication p;
  if (!printable_origin(fields[0])) return Status::invalid("publication code: the origin is not a printable key name");
  p.origin = std::string(fields[0]);
  auto size = parse_size(fields[1]);
  if (!size) return size.status();
  p.size = *size;
  auto root = root_chars(std::span(fields).subspan(2, fields.size() - 3));
  if (!root) return root.status();
  auto check = parse_check(fields.back());
  if (!check) return check.status();
  if (*check != check_value(canonical_text(p, *root))) {
    return Status::invalid("publication code: the check does not match; a character is mistyped");
  }
  auto hash = root_from_base32(*root);
  if (!hash) return hash.status();
  p.root = *hash;
  return p;
}

Result<PublicationRecord> make_publication_record(std::string_view checkpoint_note, uint64_t published_ms) {
  auto parsed = note::parse_note(checkpoint_note);
  if (!parsed) return Status::invalid("published checkpoint: " + parsed.status().message());
  auto checkpoint = note::parse_checkpoint(parsed->text);
  if (!checkpoint) return Status::invalid("published checkpoint: " + checkpoint.status().message());
  Publication p = publication_of(*checkpoint);
  auto code = format_publication_code(p);
  if (!code) return code.status();
  return PublicationRecord{std::move(p), std::move(*code), std::string(checkpoint_note), published_ms};
}

std::string format_publication_record(const PublicationRecord& r) {
  nlohmann::ordered_json line = {{"origin", r.publication.origin},
                                 {"size", r.publication.size},
                                 {"root", crypto::base64_encode(as_view(r.publication.root))},
                                 {"code", r.code},
                                 {"checkpoint", r.checkpoint_note},
                                 {"published", format_instant(r.published_ms)}};
  return line.dump() + "\n";
}

namespace {

// Inverse of format_instant, exactly: anything format_instant would not write is refused.
std::optional<uint64_t> parse_instant(const std::string& text) {
  int year, month, day, hour, minute, second, ms;
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &year, &month, &day, &hour, &minute,
                  &second, &ms, &z) != 8 || z != 'Z' || year < 1970) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t secs = timegm(&tm);
  if (secs < 0 || ms < 0) return std::nullopt;
  uint64_t value = static_cast<uint64_t>(secs) * 1000 + static_cast<uint64_t>(ms);
  if (format_instant(value) != text) return std::nullopt;
  return value;
}

Result<PublicationRecord> parse_record(std::string_view line) {
  auto json = parse_strict_json(line, 2);
  if (!json) return json.status();
  const nlohmann::json& j = *json;
  static const char* kKeys[] = {"origin", "size", "root", "code", "checkpoint", "published"};
  if (!j.is_object() || j.size() != std::size(kKeys)) return Status::invalid("not an object of the six publication keys");
  for (const char* key : kKeys) {
    if (!j.contains(key)) return Status::invalid(std::string("no \"") + key + "\"");
    if (std::string_view(key) != "size" && !j[key].is_string()) return Status::invalid(std::string("\"") + key + "\" is not a string");
  }
  if (!j["size"].is_number_unsigned()) return Status::invalid("\"size\" is not an unsigned integer");
  auto published = parse_instant(j["published"].get<std::string>());
  if (!published) return Status::invalid("\"published\" is not a UTC instant like 2026-11-27T12:00:00.000Z");
  auto record = make_publication_record(j["checkpoint"].get<std::string>(), *published);
  if (!record) return record.status();
  auto code = parse_publication_code(j["code"].get<std::string>());
  if (!code) return code.status();
  auto root = crypto::base64_decode(j["root"].get<std::string>());
  std::optional<Hash> root_hash = root ? hash_from(*root) : std::nullopt;
  const Publication& p = record->publication;
  if (!root_hash || *root_hash != p.root || j["origin"].get<std::string>() != p.origin ||
      j["size"].get<uint64_t>() != p.size || *code != p) {
    return Status::invalid("origin, size, root, code and checkpoint do not all agree");
  }
  return record;
}

// For one origin, sizes only grow and one size has one root.
Status check_history(const PublicationRecord& earlier, const PublicationRecord& later, size_t line) {
  const Publication& a = earlier.publication;
  const Publication& b = later.publication;
  if (b.size < a.size || (b.size == a.size && b.root != a.root)) {
    return Status::verification("publications line " + std::to_string(line) + ": size " + std::to_string(b.size) +
                                " contradicts the earlier publication of size " + std::to_string(a.size) +
                                " (the log rolled back or forked)");
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<PublicationRecord>> parse_publications_file(std::string_view text) {
  std::vector<PublicationRecord> records;
  std::map<std::string, size_t> latest;  // origin -> its latest record
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    auto record = parse_record(line);
    if (!record) {
      return Status::invalid("publications line " + std::to_string(line_no) + ": " + record.status().message());
    }
    auto last = latest.find(record->publication.origin);
    if (last != latest.end()) MEDSEAL_RETURN_IF_ERROR(check_history(records[last->second], *record, line_no));
    latest[record->publication.origin] = records.size();
    records.push_back(std::move(*record));
  }
  return records;
}

}  // namespace medseal::ledger
