// The incremental half of a mirror's check: does the tree of a new, larger checkpoint extend the
// tree the mirror already verified? Only the tiles and bundles that changed are fetched:
//
//  1. every level-0 tile from the one holding leaf N on, with its entry bundle: each entry's leaf
//     hash is the tile's hash at the same position, and the hashes before N equal the verified
//     (stored) ones;
//  2. every changed tile above level 0 equals, byte for byte, the tile rebuilt from the verified
//     prefix and the roots of the new full tiles below it;
//  3. appending the new leaf hashes to the verified right edge gives the checkpoint's root.
//
// The new tree is built on the verified right edge, so passing all three proves the new
// checkpoint consistent with the verified one. Memory: O(levels * 256 hashes).
#pragma once

#include <cstdint>
#include <vector>

#include "merkle/compact_range.h"
#include "merkle/tile.h"
#include "mirror/store.h"
#include "note/checkpoint.h"
#include "tlog_client/tile_source.h"
#include "util/status.h"

namespace medseal::mirror {

struct Growth {
  merkle::CompactRange range;               // the right edge of the new tree
  std::vector<merkle::TileId> superseded;   // partial tiles of the old tree that grew
  uint64_t fetched = 0;                     // tiles and bundles read from the source
};

// Checks 1-3 for `next` (next.size > verified.size()) against `source`, staging every checked tile
// and bundle in `store` (MirrorStore::commit makes them part of the mirror; discard_staged drops
// them). `store` holds the verified tree of verified.size() leaves. kVerificationFailed names the
// first resource that disagrees; fetch errors are passed on.
Result<Growth> grow(tlog_client::TileSource& source, MirrorStore& store,
                    const merkle::CompactRange& verified, const note::Checkpoint& next);

// Hash tiles of the stored tree of `size` leaves, for proofs over what the mirror verified.
class StoredTiles : public merkle::TileReader {
 public:
  StoredTiles(const MirrorStore& store, uint64_t size) : store_(store), size_(size) {}
  Result<std::vector<std::string>> read_tiles(std::span<const merkle::TileId> ids) override;

 private:
  const MirrorStore& store_;
  uint64_t size_;
};

}  // namespace medseal::mirror
