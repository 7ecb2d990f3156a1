#include "util/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace medseal {
namespace {

using Json = nlohmann::json;

// Tracks the keys of every open object, so a repeated key is seen when it is parsed.
class DuplicateKeyGuard {
 public:
  explicit DuplicateKeyGuard(size_t max_depth) : max_depth_(max_depth) {}

  bool on_event(int depth, Json::parse_event_t event, const Json& parsed) {
    if (too_deep_) return false;  // the result is refused anyway; keep no more state
    if (static_cast<size_t>(depth) > max_depth_) {
      too_deep_ = true;
      return false;
    }
    switch (event) {
      case Json::parse_event_t::object_start:
        keys_.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys_.empty()) keys_.pop_back();
        break;
      case Json::parse_event_t::key:
        if (keys_.empty() || !keys_.back().insert(parsed.get<std::string>()).second) duplicate_ = true;
        break;
      default:
        break;
    }
    return true;
  }

  bool duplicate() const { return duplicate_; }
  bool too_deep() const { return too_deep_; }

 private:
  size_t max_depth_;
  std::vector<std::set<std::string>> keys_;
  bool duplicate_ = false;
  bool too_deep_ = false;
};

}  // namespace

Result<nlohmann::json> parse_strict_json(std::string_view text, size_t max_depth) {
  DuplicateKeyGuard guard(max_depth);
  Json value;
  try {
    value = Json::parse(text, [&guard](int depth, Json::parse_event_t event, Json& parsed) {
      return guard.on_event(depth, event, parsed);
    });
  } catch (const Json::parse_error& e) {
    return Status::invalid("invalid JSON at byte " + std::to_string(e.byte));
  } catch (const Json::exception&) {
    return Status::invalid("invalid JSON");
  }
  if (guard.too_deep()) return Status::invalid("JSON nested deeper than " + std::to_string(max_depth));
  if (guard.duplicate()) return Status::invalid("JSON object with a repeated key");
  return value;
}

bool is_sha256_hex(std::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace medseal
