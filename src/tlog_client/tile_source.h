// Where a tlog-tiles client reads a log from: the checkpoint and the tiles and entry bundles at
// their tlog-tiles v0.1.0 paths, over HTTP(S) or from a directory laid out the same way. A source
// only fetches bytes; it authenticates nothing (verify.h does).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "merkle/tile.h"
#include "util/status.h"

namespace medseal::tlog_client {

// Upper bounds on what a source accepts, so a hostile server cannot make a client buffer
// unbounded data: a checkpoint note, a full hash tile, a full bundle of maximum-size entries.
constexpr size_t kMaxCheckpointBytes = 1 << 20;
constexpr size_t kMaxHashTileBytes = merkle::kTileWidth * 32;
constexpr size_t kMaxBundleBytes = merkle::kTileWidth * (2 + merkle::kMaxEntrySize);

class TileSource {
 public:
  virtual ~TileSource() = default;
  // The current checkpoint note, verbatim.
  virtual Result<std::string> read_checkpoint() = 0;
  // The bytes at tile_path(id), exactly as served; kNotFound if the log has no such resource.
  virtual Result<std::string> read_tile(const merkle::TileId& id) = 0;
  // Where the data comes from, for messages ("http://host/log", "/path/to/dir").
  virtual std::string describe() const = 0;
};

// A log served at `url`, its tlog-tiles prefix: "http[s]://host[:port][/path]" with no query or
// fragment (e.g. "http://127.0.0.1:8080/log"). kInvalidArgument for anything else.
Result<std::unique_ptr<TileSource>> open_http_source(std::string_view url);

// A log in directory `dir` (DIR/checkpoint, DIR/tile/...). A non-empty `checkpoint_path` reads the
// checkpoint from that file instead, e.g. to check a copy against an older checkpoint.N.
std::unique_ptr<TileSource> open_dir_source(std::string dir, std::string checkpoint_path = "");

// The first `id.width` hashes or entries of `bytes`, a tile or bundle of the same level and index
// that is at least as wide (hashes never change once written). kVerificationFailed if it is not.
Result<std::string> cut_tile(const merkle::TileId& id, std::string bytes);

// Reads tile `id`. A partial tile may be gone once its full tile exists (tlog-tiles "Partial
// Tiles"), so a missing partial falls back to the full tile, cut to the partial's width.
Result<std::string> fetch_tile(TileSource& source, const merkle::TileId& id);

}  // namespace medseal::tlog_client
