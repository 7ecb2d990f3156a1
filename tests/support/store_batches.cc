#include "support/store_batches.h"

#include <algorithm>

namespace medseal::testing {

std::string hashes(uint32_t width, char fill) { return std::string(size_t{width} * 32, fill); }

storage::EntryExtra extra_for(uint64_t index) {
  return {std::string(32, static_cast<char>(index)), "statement " + std::to_string(index)};
}

storage::Batch make_batch(uint64_t old_size, uint64_t n) {
  storage::Batch b;
  b.old_size = old_size;
  b.new_size = old_size + n;
  for (uint64_t t = old_size / 256; t * 256 < b.new_size; ++t) {
    const auto width = static_cast<uint32_t>(std::min<uint64_t>(256, b.new_size - t * 256));
    b.tiles.push_back({{false, 0, t, width}, hashes(width, 'h'), std::string(960, 'n')});
    b.tiles.push_back({{true, 0, t, width}, "bundle@" + std::to_string(t * 256 + width), {}});
  }
  for (uint64_t i = old_size; i < b.new_size; ++i) b.extras.push_back(extra_for(i));
  b.checkpoint = "checkpoint@" + std::to_string(b.new_size);
  return b;
}

}  // namespace medseal::testing
