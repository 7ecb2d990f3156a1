#include "tlog_client/tile_nodes.h"

#include "merkle/proof.h"

namespace medseal::tlog_client {
namespace {

constexpr size_t kHashSize = 32;

Status too_short(const merkle::TileId& id, const std::string& what) {
  return Status::verification(merkle::tile_path(id) + ": " + what);
}

}  // namespace

Result<std::vector<std::string>> SourceTileReader::read_tiles(std::span<const merkle::TileId> ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const merkle::TileId& id : ids) {
    auto tile = fetch_tile(source_, id);
    if (!tile) return tile.status();
    if (tile->size() < size_t{id.width} * kHashSize) return too_short(id, "tile is too short");
    out.push_back(std::move(*tile));
  }
  return out;
}

Result<std::vector<Hash>> inclusion_proof_from_tiles(TileSource& source, uint64_t index, uint64_t size) {
  SourceTileReader tiles(source);
  merkle::TileNodeReader nodes(size, tiles);
  return merkle::inclusion_proof(index, size, nodes);
}

Result<std::vector<Hash>> consistency_proof_from_tiles(TileSource& source, uint64_t size1, uint64_t size2) {
  SourceTileReader tiles(source);
  merkle::TileNodeReader nodes(size2, tiles);
  return merkle::consistency_proof(size1, size2, nodes);
}

Status check_extends(TileSource& source, const note::Checkpoint& old, const note::Checkpoint& now) {
  const std::string sizes = std::to_string(old.size) + " -> " + std::to_string(now.size);
  if (old.size > now.size) return Status::verification("the new checkpoint is smaller than the old one (" + sizes + "): a rollback");
  if (old.size == now.size) {
    if (old.root != now.root) return Status::verification("two checkpoints of size " + std::to_string(old.size) + " with different roots: the log forked");
    return Status::ok();
  }
  if (old.size == 0) return Status::ok();  // the empty tree is a prefix of every tree
  auto proof = consistency_proof_from_tiles(source, old.size, now.size);
  if (!proof) return Status::verification("no consistency proof " + sizes + " from " + source.describe() + ": " + proof.status().message());
  Status ok = merkle::verify_consistency(old.size, now.size, *proof, old.root, now.root);
  if (!ok) {
    return Status::verification("the consistency proof " + sizes + " from " + source.describe() +
                                " does not verify: the log forked or serves bad tiles");
  }
  return Status::ok();
}

}  // namespace medseal::tlog_client
