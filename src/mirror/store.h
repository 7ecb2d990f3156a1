// Where a mirror keeps what it verified: DIR/log laid out as tlog-tiles (DIR/log/checkpoint,
// DIR/log/tile/...), so the directory itself is a log `medseal log verify --dir` can check.
//
// DIR/log/checkpoint is the commit point. Tiles of a sync are staged at their final paths first
// (a new width is a new path, so staging never touches a tile the committed tree uses), made
// durable with one syncfs, and only then is the checkpoint replaced atomically (write, fsync,
// rename, fsync the directory). A crash in between leaves the old checkpoint and unused files.
// Reads for a tree of size N only open the files at the widths the tree of N has and cut them
// to the width asked for, so a file left by a failed or interrupted sync is never served.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "merkle/tile.h"
#include "util/status.h"

namespace medseal::mirror {

class MirrorStore {
 public:
  // Creates DIR and DIR/log (mode 0700) if absent.
  static Result<MirrorStore> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string log_dir() const { return dir_ + "/log"; }

  // The committed checkpoint note, or nullopt before the first commit.
  Result<std::optional<std::string>> read_checkpoint() const;

  // Tile or bundle `id` of the committed tree of `size` leaves, exactly id.width wide: the file at
  // the width the tree has, cut. kNotFound if the tree has no such tile or the file is missing.
  Result<std::string> read_tile(const merkle::TileId& id, uint64_t size) const;

  // Writes `bytes` at tile_path(id) (not yet durable, not yet served).
  Status stage_tile(const merkle::TileId& id, std::string_view bytes);
  // Makes every staged tile durable, then replaces the checkpoint atomically.
  Status commit(std::string_view checkpoint_note);
  // Removes the files staged since the last commit (a sync that failed verification).
  void discard_staged();
  // Removes a tile file the committed tree no longer uses (a partial tile that grew); best effort.
  void remove_tile(const merkle::TileId& id);

 private:
  explicit MirrorStore(std::string dir) : dir_(std::move(dir)) {}
  std::string path_of(const merkle::TileId& id) const;

  std::string dir_;
  std::vector<std::string> staged_;
};

}  // namespace medseal::mirror
