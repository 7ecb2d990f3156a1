// Interior nodes saved beside each hash tile (storage::TileBlob::nodes): a ledger-internal
// accelerator, never served publicly.
//
// A proof step inside a tile needs the hash of a perfect subtree of 2^r of the tile's hashes
// (r = 1..7). Recomputing it from the tile costs 2^r - 1 node hashes, ~250 per tile level per
// proof, which alone is several times the 50 µs budget for a proof at 10^7 entries. So every hash
// tile carries its nodes at heights 4..7 within the tile (16 + 8 + 4 + 2 = 30 hashes, 960 bytes
// per 256 tile hashes, ~3.75 bytes per entry); proofs then rehash at most 1 + 3 + 7 per tile.
//
// Layout: slot(r, j) holds the node at height r, position j within the tile; heights 4, 5, 6, 7
// take slots 0-15, 16-23, 24-27, 28-29. In a partial tile of width w only the nodes that are
// complete ((j + 1) << r <= w) are meaningful; the other slots are zero.
#pragma once

#include <cstddef>
#include <cstdint>

namespace medseal::ledger {

constexpr unsigned kFirstSavedHeight = 4;
constexpr unsigned kLastSavedHeight = 7;
constexpr size_t kSavedNodes = 30;
constexpr size_t kSavedNodesBytes = kSavedNodes * 32;

// Slot of the node at height r (kFirstSavedHeight..kLastSavedHeight), position j in its tile.
constexpr size_t saved_node_slot(unsigned r, uint64_t j) {
  size_t first = 0;
  for (unsigned h = kFirstSavedHeight; h < r; ++h) first += 256u >> h;
  return first + static_cast<size_t>(j);
}

static_assert(saved_node_slot(kLastSavedHeight, 1) == kSavedNodes - 1);

}  // namespace medseal::ledger
