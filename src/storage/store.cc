#include "storage/store.h"

namespace medseal::storage {

Result<std::vector<StoredTile>> Store::read_tiles(std::span<const TileRef> refs) {
  std::vector<StoredTile> out;
  out.reserve(refs.size());
  for (const TileRef& r : refs) {
    Result<StoredTile> t = read_tile(r.entries, r.level, r.index);
    if (!t) return t.status();
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace medseal::storage
