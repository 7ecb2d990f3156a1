// Proofs computed from a log's public tiles (tlog-tiles v0.1.0): what a client needs to prove an
// old entry or an old checkpoint against a newer tree size of a log it can only read.
//
// Nothing here is trusted: a source that serves wrong tiles produces proofs that fail
// merkle::verify_inclusion / verify_consistency against a root the caller trusts (a signed
// checkpoint or a publication). Callers must verify what they get.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "tlog_client/tile_source.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::tlog_client {

// A merkle::TileReader over a TileSource (via fetch_tile in tile_source.h), for merkle::TileNodeReader.
class SourceTileReader : public merkle::TileReader {
 public:
  explicit SourceTileReader(TileSource& source) : source_(source) {}
  Result<std::vector<std::string>> read_tiles(std::span<const merkle::TileId> ids) override;

 private:
  TileSource& source_;
};

// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves, from the source's tiles.
Result<std::vector<Hash>> inclusion_proof_from_tiles(TileSource& source, uint64_t index, uint64_t size);
// RFC 9162 consistency proof between sizes 0 < size1 <= size2, from the source's tiles.
Result<std::vector<Hash>> consistency_proof_from_tiles(TileSource& source, uint64_t size1, uint64_t size2);

// OK if the tree of checkpoint `old` is a prefix of the tree of `now`, by a consistency proof from
// the source's tiles; kVerificationFailed with a one-line reason (a rollback, a fork, a proof that
// cannot be had or does not verify) otherwise. Both checkpoints must be trusted already.
Status check_extends(TileSource& source, const note::Checkpoint& old, const note::Checkpoint& now);

}  // namespace medseal::tlog_client
