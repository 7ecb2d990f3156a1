#include "records/json_scan.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>

namespace medseal::records::json {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at `at`, or -1.
int32_t hex4(std::string_view t, size_t at) {
  if (at + 4 > t.size()) return -1;
  int32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    int d = hex_digit(t[at + i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

bool in(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

// The bytes a string holds as they are: printable ASCII other than '"' and '\\'. Strings are
// most of a FHIR document, so the scanner skips runs of these with one table lookup per byte.
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

// The length of the well-formed UTF-8 sequence starting at `at` (Unicode 15, table 3-7), 0 if
// it is not one: this rejects overlong forms, encoded surrogates and code points past U+10FFFF.
size_t utf8_length(std::string_view t, size_t at) {
  auto byte = [&](size_t k) -> unsigned char {
    return at + k < t.size() ? static_cast<unsigned char>(t[at + k]) : 0;
  };
  const unsigned char b0 = byte(0);
  auto cont = [&](size_t k) { return in(byte(k), 0x80, 0xBF); };
  if (in(b0, 0xC2, 0xDF)) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return in(byte(1), 0xA0, 0xBF) && cont(2) ? 3 : 0;
  if (in(b0, 0xE1, 0xEC) || in(b0, 0xEE, 0xEF)) return cont(1) && cont(2) ? 3 : 0;
  if (b0 == 0xED) return in(byte(1), 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b0 == 0xF0) return in(byte(1), 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
  if (in(b0, 0xF1, 0xF3)) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xF4) return in(byte(1), 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The value of a string literal that the scanner accepted; `literal` includes the quotes.
std::string unescape(std::string_view literal) {
  std::string_view s = literal.substr(1, literal.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        uint32_t cp = static_cast<uint32_t>(hex4(s, i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // the scanner checked that a low surrogate follows
          const uint32_t low = static_cast<uint32_t>(hex4(s, i + 3));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e); break;  // '"', '\\', '/'
    }
  }
  return out;
}

std::string_view inner(std::string_view literal) { return literal.substr(1, literal.size() - 2); }

}  // namespace

// Recursive descent over the text, appending nodes in document order (a container before its
// children), so a container's first child is always the node right after it.
class Scanner {
 public:
  Scanner(std::string_view text, size_t max_depth, Document& doc)
      : t_(text), max_depth_(max_depth), doc_(doc) {}

  Status run() {
    skip_ws();
    if (value(0, 0, 0, false)) {
      skip_ws();
      if (pos_ == t_.size()) return Status::ok();
      error("trailing data");
    }
    return Status::invalid("json: " + std::string(error_) + " at byte " + std::to_string(error_at_));
  }

 private:
  // The steps below return false on the first error, which error() records: a Status carries a
  // string, and building, moving and testing one per value was a fifth of the scan.
  bool error(const char* what) {
    error_ = what;
    error_at_ = pos_;
    return false;
  }
  void skip_ws() {
    while (pos_ < t_.size()) {
      // Pretty-printed documents are largely indentation: take spaces eight at a time.
      while (pos_ + 8 <= t_.size() && std::memcmp(t_.data() + pos_, "        ", 8) == 0) pos_ += 8;
      if (pos_ == t_.size() || !is_ws(t_[pos_])) return;
      ++pos_;
    }
  }
  bool at_end() const { return pos_ >= t_.size(); }

  bool value(size_t depth, size_t key_begin, size_t key_end, bool key_escaped) {
    if (at_end()) return error("expected a value");
    const uint32_t self = static_cast<uint32_t>(doc_.nodes_.size());
    Node n;
    n.begin = static_cast<uint32_t>(pos_);
    n.key_begin = static_cast<uint32_t>(key_begin);
    n.key_end = static_cast<uint32_t>(key_end);
    n.key_escaped = key_escaped;
    doc_.nodes_.push_back(n);
    if (!value_body(self, depth)) return false;
    doc_.nodes_[self].end = static_cast<uint32_t>(pos_);
    return true;
  }

  bool value_body(uint32_t self, size_t depth) {
    const char c = t_[pos_];
    Node& n = doc_.nodes_[self];
    switch (c) {
      case '{':
        n.kind = Kind::kObject;
        return container(self, depth + 1);
      case '[':
        n.kind = Kind::kArray;
        return container(self, depth + 1);
      case '"': {
        n.kind = Kind::kString;
        bool escaped = false;
        if (!string(&escaped)) return false;
        doc_.nodes_[self].value_escaped = escaped;
        return true;
      }
      case 't': n.kind = Kind::kTrue; return literal("true");
      case 'f': n.kind = Kind::kFalse; return literal("false");
      case 'n': n.kind = Kind::kNull; return literal("null");
      default:
        if (c == '-' || is_digit(c)) {
          n.kind = Kind::kNumber;
          return number();
        }
        return error("expected a value");
    }
  }

  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return error("invalid literal");
    pos_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number() {
    if (t_[pos_] == '-') ++pos_;
    if (at_end() || !is_digit(t_[pos_])) return error("invalid number");
    if (t_[pos_] == '0') {
      ++pos_;
    } else {
      skip_digits();
    }
    if (!at_end() && t_[pos_] == '.') {
      ++pos_;
      if (!skip_digits()) return error("invalid number");
    }
    if (!at_end() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (t_[pos_] == '+' || t_[pos_] == '-')) ++pos_;
      if (!skip_digits()) return error("invalid number");
    }
    return true;
  }
  bool skip_digits() {
    const size_t start = pos_;
    while (!at_end() && is_digit(t_[pos_])) ++pos_;
    return pos_ > start;
  }

  // At the opening quote; leaves pos_ after the closing one.
  bool string(bool* escaped) {
    ++pos_;
    for (;;) {
      skip_plain_words();
      while (pos_ < t_.size() && kPlainStringByte[static_cast<unsigned char>(t_[pos_])]) ++pos_;
      if (at_end()) return error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(t_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        *escaped = true;
        if (!escape()) return false;
      } else if (c < 0x20) {
        return error("control character in string");
      } else if (c < 0x80) {
        ++pos_;
      } else {
        const size_t len = utf8_length(t_, pos_);
        if (len == 0) return error("invalid UTF-8");
        pos_ += len;
      }
    }
  }

  // Skips eight bytes at a time while all of them are plain (kPlainStringByte): long strings,
  // such as narratives and base64 attachments, then cost a few operations per word, not per byte.
  void skip_plain_words() {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    // A byte's high bit is set in has_zero(x) when that byte of x is zero, and maybe in bytes
    // above a zero byte (borrows), never in a word without one: exact for "is any byte special".
    auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
    while (pos_ + 8 <= t_.size()) {
      uint64_t w;
      std::memcpy(&w, t_.data() + pos_, sizeof w);
      const uint64_t special = has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) |
                               ((w - kOnes * 0x20) & ~w & kHigh) |  // a byte below 0x20
                               (w & kHigh);                         // a byte of 0x80 or more
      if (special != 0) return;
      pos_ += 8;
    }
  }

  // At a backslash inside a string.
  bool escape() {
    if (pos_ + 1 >= t_.size()) return error("unterminated string");
    const char e = t_[pos_ + 1];
    if (e != 'u') {
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't') {
        return error("invalid escape");
      }
      pos_ += 2;
      return true;
    }
    const int32_t cp = hex4(t_, pos_ + 2);
    if (cp < 0) return error("invalid \\u escape");
    if (cp >= 0xDC00 && cp <= 0xDFFF) return error("unpaired surrogate escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      const bool paired = pos_ + 7 < t_.size() && t_[pos_ + 6] == '\\' && t_[pos_ + 7] == 'u';
      const int32_t low = paired ? hex4(t_, pos_ + 8) : -1;
      if (low < 0xDC00 || low > 0xDFFF) return error("unpaired surrogate escape");
      pos_ += 6;
    }
    pos_ += 6;
    return true;
  }

  bool container(uint32_t self, size_t depth) {
    if (depth > max_depth_) return error("nesting too deep");
    const bool is_object = t_[pos_] == '{';
    const char close = is_object ? '}' : ']';
    const size_t keys_base = keys_.size();
    ++pos_;
    skip_ws();
    if (!at_end() && t_[pos_] == close) {
      ++pos_;
      return true;
    }
    uint32_t prev = kNone;
    for (;;) {
      const uint32_t child = static_cast<uint32_t>(doc_.nodes_.size());
      if (!(is_object ? member(depth) : value(depth, 0, 0, false))) return false;
      if (prev == kNone) {
        doc_.nodes_[self].has_children = true;
      } else {
        doc_.nodes_[prev].next = child;
      }
      prev = child;
      skip_ws();
      if (at_end()) return error("unterminated container");
      if (t_[pos_] == close) break;
      if (t_[pos_] != ',') return error(is_object ? "expected ',' or '}'" : "expected ',' or ']'");
      ++pos_;
      skip_ws();
    }
    if (is_object && !check_unique_keys(keys_base)) return false;
    ++pos_;
    return true;
  }

  bool member(size_t depth) {
    if (at_end() || t_[pos_] != '"') return error("expected a member name");
    const size_t key_begin = pos_;
    bool escaped = false;
    if (!string(&escaped)) return false;
    const std::string_view literal = t_.substr(key_begin, pos_ - key_begin);
    if (escaped) {
      decoded_keys_.push_back(unescape(literal));
      keys_.push_back(decoded_keys_.back());
    } else {
      keys_.push_back(inner(literal));
    }
    const size_t key_end = pos_;
    skip_ws();
    if (at_end() || t_[pos_] != ':') return error("expected ':'");
    ++pos_;
    skip_ws();
    return value(depth, key_begin, key_end, escaped);
  }

  // The names pushed since `base` are the members of the object just closed; nested objects
  // have pushed and popped theirs already.
  bool check_unique_keys(size_t base) {
    const auto first = keys_.begin() + static_cast<ptrdiff_t>(base);
    bool duplicate = false;
    if (keys_.end() - first <= kFewMembers) {
      // Pairwise: most names differ in length or first byte, so this rarely calls memcmp,
      // unlike a sort.
      auto same = [](std::string_view x, std::string_view y) {
        return x.size() == y.size() && (x.empty() || (x[0] == y[0] && x == y));
      };
      for (auto a = first; a != keys_.end() && !duplicate; ++a) {
        duplicate = std::any_of(a + 1, keys_.end(), [&](std::string_view b) { return same(*a, b); });
      }
    } else {
      std::sort(first, keys_.end());
      duplicate = std::adjacent_find(first, keys_.end()) != keys_.end();
    }
    keys_.resize(base);
    if (duplicate) return error("duplicate member name in the object ending");
    return true;
  }

  static constexpr ptrdiff_t kFewMembers = 16;

  std::string_view t_;
  size_t max_depth_;
  Document& doc_;
  size_t pos_ = 0;
  std::vector<std::string_view> keys_;    // names of the members of the open objects
  std::deque<std::string> decoded_keys_;  // storage for names that had escapes
  const char* error_ = nullptr;           // the first error, at byte error_at_
  size_t error_at_ = 0;
};

Result<Document> Document::scan(std::string_view text, size_t max_depth) {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    return Status::invalid("json: document too large");
  }
  Document doc;
  doc.text_ = text;
  doc.nodes_.reserve(text.size() / 16 + 4);
  MEDSEAL_RETURN_IF_ERROR(Scanner(text, max_depth, doc).run());
  return doc;
}

uint32_t Document::member(uint32_t object, std::string_view name) const {
  if (nodes_[object].kind != Kind::kObject) return kNone;
  for (uint32_t c = first_child(object); c != kNone; c = next_sibling(c)) {
    if (key_equals(c, name)) return c;
  }
  return kNone;
}

std::string Document::string_value(uint32_t i) const {
  const Node& n = nodes_[i];
  if (n.kind != Kind::kString) return "";
  return n.value_escaped ? unescape(raw(i)) : std::string(inner(raw(i)));
}

std::string Document::key(uint32_t i) const {
  const Node& n = nodes_[i];
  const std::string_view literal = text_.substr(n.key_begin, n.key_end - n.key_begin);
  return n.key_escaped ? unescape(literal) : std::string(inner(literal));
}

bool Document::string_equals(uint32_t i, std::string_view want) const {
  const Node& n = nodes_[i];
  if (n.kind != Kind::kString) return false;
  return n.value_escaped ? unescape(raw(i)) == want : inner(raw(i)) == want;
}

size_t quoted_size(std::string_view value) {
  size_t size = value.size() + 2;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') size += 1;
    else if (c < 0x20) size += 5;  // \u00xx
  }
  return size;
}

std::string quote(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  append_quoted(out, value);
  return out;
}

void append_quoted(std::string& out, std::string_view value) {
  out.push_back('"');
  size_t plain = 0;  // start of the bytes not yet copied, which need no escape
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value, plain, i - plain);
    plain = i + 1;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    }
  }
  out.append(value, plain);
  out.push_back('"');
}

}  // namespace medseal::records::json
