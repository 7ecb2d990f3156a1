// The public log over HTTP (tlog-tiles v0.1.0), as plain request -> reply functions:
// what to answer lives here, how to speak HTTP in http_server.cc.
//
//   /log/checkpoint                   text/plain; charset=utf-8, no-cache (it changes every batch)
//   /log/tile/<L>/<N>[.p/<W>]         application/octet-stream, full tiles immutable for a year
//   /log/tile/entries/<N>[.p/<W>]     the same for entry bundles
//
// Entry bundles are sent uncompressed although tlog-tiles says they SHOULD be compressed: medseal
// entries are 32 random bytes of commitment in 44, so gzip saves only ~23% (11264 -> 8718 bytes
// for a full bundle) at a CPU cost per request; caches and CDNs can still compress them.
//
// Paths are checked before the ledger is asked anything: a non-canonical tile path is 400, a tile
// the current tree does not have (including a partial tile wider than the tree) is 404.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/ledger.h"

namespace medseal::server {

struct Reply {
  int status = 200;
  std::string content_type;
  std::string cache_control;  // empty: no Cache-Control header
  std::string body;
};

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
inline constexpr std::string_view kOctetStream = "application/octet-stream";
inline constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
// A partial tile's bytes never change either, but it may be deleted once its full tile exists.
inline constexpr std::string_view kPartialTileCache = "public, max-age=60";
inline constexpr std::string_view kCheckpointCache = "no-cache";

// A text reply for errors: "<status> <reason>\n".
Reply text_reply(int status, std::string_view message, std::string_view cache_control = "no-store");

// With witnesses, /log/checkpoint serves the newest checkpoint that reached the witness quorum
// (witness/cosigner.h) rather than the ledger's latest: a source returning it, or an empty LogHead
// while there is none. It must never go backwards. Tiles are still served for the ledger's whole
// tree, which includes every tile a client needs for the smaller cosigned checkpoint.
using CheckpointSource = std::function<storage::LogHead()>;

// Serves the public log of one ledger. Full tiles never change, so the most recently
// read ones are kept in memory (a hot tile costs a map lookup instead of a store read); partial
// tiles and checkpoints always come from the ledger. Thread-safe.
class PublicLog {
 public:
  // Without `witnessed`, /log/checkpoint is the ledger's latest. With it, the source's checkpoint;
  // while it has none, 503 (an empty log serves its empty checkpoint, which nothing can precede).
  explicit PublicLog(ledger::Ledger& ledger, size_t cache_bytes = 64 << 20,
                     CheckpointSource witnessed = {});
  ~PublicLog();
  PublicLog(const PublicLog&) = delete;
  PublicLog& operator=(const PublicLog&) = delete;

  // Serves `path`, the request path after "/log/" (e.g. "checkpoint", "tile/0/x001/234.p/7"),
  // exactly as it was sent (not percent-decoded).
  Reply get(std::string_view path);

 private:
  Reply tile(std::string_view path);
  Reply checkpoint();
  class TileCache;
  ledger::Ledger& ledger_;
  CheckpointSource witnessed_;
  std::unique_ptr<TileCache> cache_;
};

}  // namespace medseal::server
