// A strict JSON scanner (RFC 8259) that records where every value and member name lies in the
// text, so callers can read values and splice bytes without ever re-serializing a document.
//
// Strict means: one value, then only whitespace; valid UTF-8 everywhere (no overlong forms, no
// UTF-8-encoded surrogates, nothing above U+10FFFF); no unpaired \u surrogate escapes; no control
// characters inside strings; numbers exactly per the grammar (no leading zeros, no '+', no bare
// '.'); no duplicate member names in any object (compared after unescaping); containers nested at
// most `max_depth` deep (the outermost container is depth 1); a byte order mark is rejected.
// Error messages name a byte offset, never content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace medseal::records::json {

enum class Kind : uint8_t { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };

inline constexpr uint32_t kNone = 0;  // "no such node": node 0 is the root, never a child

// One value. Spans are byte offsets into the scanned text, end exclusive; a string's span
// includes its quotes. A value that is an object member also has its name's span (quotes included).
struct Node {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t key_begin = 0;  // equal to key_end when the value is not an object member
  uint32_t key_end = 0;
  uint32_t next = kNone;  // the next element or member of the same container
  Kind kind = Kind::kNull;
  bool has_children = false;   // for containers: the first child is the next node index
  bool value_escaped = false;  // a string value containing a backslash escape
  bool key_escaped = false;    // a member name containing a backslash escape

  bool is_member() const { return key_end != key_begin; }
};

// A scanned document. It refers to the text it was scanned from, which must outlive it.
class Document {
 public:
  // kInvalidArgument for anything that is not strict JSON, or text of 4 GiB or more.
  static Result<Document> scan(std::string_view text, size_t max_depth);

  std::string_view text() const { return text_; }
  static constexpr uint32_t root() { return 0; }
  const Node& node(uint32_t i) const { return nodes_[i]; }
  size_t node_count() const { return nodes_.size(); }

  // The first element or member of a container, kNone when empty or not a container.
  uint32_t first_child(uint32_t i) const { return nodes_[i].has_children ? i + 1 : kNone; }
  uint32_t next_sibling(uint32_t i) const { return nodes_[i].next; }
  // The member of object `object` named `name` (unescaped), kNone when absent or not an object.
  uint32_t member(uint32_t object, std::string_view name) const;

  std::string_view raw(uint32_t i) const {
    return text_.substr(nodes_[i].begin, nodes_[i].end - nodes_[i].begin);
  }
  // The unescaped value of a string node; "" for other kinds.
  std::string string_value(uint32_t i) const;
  // The unescaped name of a member node.
  std::string key(uint32_t i) const;
  // True when the unescaped name of member node `i` is `name` (key(i) == name, without a copy).
  // Inline: every lookup of a member by name compares it with most names of its object.
  bool key_equals(uint32_t i, std::string_view name) const {
    const Node& n = nodes_[i];
    if (n.key_escaped) return key(i) == name;
    return n.key_end - n.key_begin == name.size() + 2 &&
           text_.substr(n.key_begin + 1, name.size()) == name;
  }
  // True when node `i` is a string whose unescaped value equals `want`.
  bool string_equals(uint32_t i, std::string_view want) const;

 private:
  friend class Scanner;
  std::string_view text_;
  std::vector<Node> nodes_;
};

// `value` as a JSON string literal, quotes included (escapes '"', '\\' and control characters).
std::string quote(std::string_view value);
// Appends quote(value) to `out`.
void append_quoted(std::string& out, std::string_view value);
// quote(value).size(), without building it.
size_t quoted_size(std::string_view value);

}  // namespace medseal::records::json
