// The right edge of the tree, kept in memory by the sequencer: the compact range, the partial hash
// tile of every level and the partial entry bundle. Appending needs no reads, and yields exactly
// the tiles and bundles a batch must store.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "merkle/compact_range.h"
#include "storage/store.h"
#include "util/status.h"

namespace medseal::ledger {

class TreeWriter {
 public:
  TreeWriter() = default;  // the empty tree

  // Resumes the tree of `size` leaves held in `store`: its frontier and its partial tiles. Checks
  // that the partial entry bundle hashes to the partial level-0 tile; the caller checks root()
  // against the signed checkpoint, which covers every other hash that was read (the frontier is
  // rehashed from tile hashes, and the partial tiles' saved nodes recomputed, so nothing unchecked
  // is carried forward).
  static Result<TreeWriter> load(storage::Store& store, uint64_t size);

  uint64_t size() const { return range_.size(); }
  Hash root() const { return range_.root(); }

  // Appends one entry: its bytes go into the entry bundle, its leaf hash (merkle::leaf_hash of
  // the bytes, computed by the caller) into the tree.
  void append(std::string_view entry, const Hash& leaf_hash);

  // The tiles and bundles changed since the last call: every tile completed in between, and the
  // partial tile of each level (and the partial bundle) that gained hashes (or entries). Hash
  // tiles carry their saved interior nodes.
  std::vector<storage::TileBlob> take_changes();

 private:
  static constexpr size_t kLevels = 8;  // tile levels 0..7 cover trees of up to 2^64 leaves

  Status load_partials(storage::Store& store);
  Status load_partial_bundle(storage::Store& store);
  Status restore_saved_nodes(size_t level);
  void add_node(merkle::NodeId id, const Hash& hash);
  void save_node(size_t level, unsigned height, uint64_t index, const Hash& hash);

  merkle::CompactRange range_;
  std::array<std::string, kLevels> tiles_;  // the partial tile of each level (width * 32 bytes)
  std::array<std::string, kLevels> nodes_;  // its saved interior nodes (ledger/tile_nodes.h)
  std::array<bool, kLevels> tile_dirty_{};
  std::string bundle_;  // the partial entry bundle
  uint32_t bundle_width_ = 0;
  bool bundle_dirty_ = false;
  std::vector<storage::TileBlob> changes_;
};

}  // namespace medseal::ledger
