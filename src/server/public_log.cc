#include "server/public_log.h"

#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "merkle/tile.h"
#include "server/json_log.h"

namespace medseal::server {
namespace {

constexpr std::string_view kTilePrefix = "tile/";

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Server Error" : "Client Error";
  }
}

// A storage fault is logged (without content) and reported as 500; nothing of it reaches clients.
Reply internal_error(std::string_view what, const Status& status) {
  log_json("error", what, {{"error", status.to_string()}});
  return text_reply(500, "the log could not be read");
}

Reply checkpoint_reply(storage::LogHead head) {
  return Reply{200, std::string(kTextPlain), std::string(kCheckpointCache), std::move(head.checkpoint)};
}

// True if the tree of `size` leaves has tile `id` at (at least) its width: a full tile once all
// its hashes exist, a partial tile of width W once the tile holds W or more.
bool tree_has(const merkle::TileId& id, uint64_t size) {
  uint32_t width = merkle::tile_width(id.level, id.index, size);
  return width != 0 && id.width <= width;
}

Reply not_in_tree() { return text_reply(404, "the tree has no such tile", "no-cache"); }

Reply tile_reply(const merkle::TileId& id, std::string bytes) {
  std::string_view cache = id.full() ? kImmutable : kPartialTileCache;
  return Reply{200, std::string(kOctetStream), std::string(cache), std::move(bytes)};
}

}  // namespace

Reply text_reply(int status, std::string_view message, std::string_view cache_control) {
  std::string body = std::to_string(status) + " " + std::string(reason_phrase(status)) + ": " +
                     std::string(message) + "\n";
  return Reply{status, std::string(kTextPlain), std::string(cache_control), std::move(body)};
}

// Full tiles by (entries, level, index), evicted oldest-inserted first once over the byte budget.
class PublicLog::TileCache {
 public:
  explicit TileCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  std::shared_ptr<const std::string> find(const merkle::TileId& id) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key(id));
    return it == map_.end() ? nullptr : it->second;
  }

  void insert(const merkle::TileId& id, std::shared_ptr<const std::string> bytes) {
    if (bytes->size() > max_bytes_) return;
    std::lock_guard lock(mu_);
    if (!map_.emplace(key(id), bytes).second) return;
    order_.push_back(key(id));
    bytes_ += bytes->size();
    while (bytes_ > max_bytes_) {
      auto oldest = map_.find(order_.front());
      bytes_ -= oldest->second->size();
      map_.erase(oldest);
      order_.pop_front();
    }
  }

 private:
  struct Key {
    uint64_t index;
    uint16_t kind;  // entries * 256 + level
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.index * 131 + k.kind); }
  };
  static Key key(const merkle::TileId& id) {
    return Key{id.index, static_cast<uint16_t>((id.entries ? 256 : 0) + id.level)};
  }

  std::mutex mu_;
  std::unordered_map<Key, std::shared_ptr<const std::string>, KeyHash> map_;
  std::deque<Key> order_;
  size_t bytes_ = 0;
  const size_t max_bytes_;
};

PublicLog::PublicLog(ledger::Ledger& ledger, size_t cache_bytes, CheckpointSource witnessed)
    : ledger_(ledger), witnessed_(std::move(witnessed)), cache_(std::make_unique<TileCache>(cache_bytes)) {}

PublicLog::~PublicLog() = default;

Reply PublicLog::get(std::string_view path) {
  if (path == "checkpoint") return checkpoint();
  if (path.starts_with(kTilePrefix)) return tile(path);
  return text_reply(404, "no such log resource", "no-cache");
}

Reply PublicLog::checkpoint() {
  if (witnessed_) {
    storage::LogHead head = witnessed_();
    if (!head.checkpoint.empty()) return checkpoint_reply(std::move(head));
  }
  storage::LogHead head = ledger_.head();
  if (head.checkpoint.empty()) return text_reply(503, "no checkpoint yet", "no-cache");
  if (witnessed_ && head.size > 0) return text_reply(503, "no witnessed checkpoint yet", "no-cache");
  return checkpoint_reply(std::move(head));
}

Reply PublicLog::tile(std::string_view path) {
  auto id = merkle::parse_tile_path(path);
  if (!id) return text_reply(400, "not a canonical tile path: " + id.status().message());
  if (!tree_has(*id, ledger_.head().size)) return not_in_tree();
  if (id->full()) {
    if (auto cached = cache_->find(*id)) return tile_reply(*id, *cached);
  }
  auto bytes = ledger_.read_tile(*id);
  if (!bytes) {
    if (bytes.status().code() == Code::kNotFound) return not_in_tree();
    return internal_error("cannot read tile", bytes.status());
  }
  if (id->full()) cache_->insert(*id, std::make_shared<const std::string>(*bytes));
  return tile_reply(*id, std::move(*bytes));
}

}  // namespace medseal::server
