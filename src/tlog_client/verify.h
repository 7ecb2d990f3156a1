// A full audit of a tlog-tiles log, as a monitor or a suspicious client does it: trusts nothing but
// the log's verifier key (and optionally a checkpoint seen before).
//
//  1. The checkpoint is a note signed by the key, and its origin is the key's name.
//  2. Every level-0 tile and entry bundle at the checkpoint's size: each entry's RFC 6962 leaf hash
//     equals the tile's hash at the same position.
//  3. The root of all those leaf hashes equals the checkpoint's root.
//  4. Every tile at level 1 and above equals, byte for byte, the tile rebuilt from the full tiles
//     below it (so no served tile disagrees with the signed tree).
//  5. With an old checkpoint: signed by the same key, no larger, and consistent with the new one by
//     an RFC 9162 consistency proof computed from the verified tiles (and, independently, the root
//     of its first leaves).
// Memory stays O(levels * 256 hashes + one digest per hash tile), whatever the log's size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "note/checkpoint.h"
#include "note/keys.h"
#include "tlog_client/tile_source.h"
#include "util/status.h"

namespace medseal::tlog_client {

// Called after each hash tile is checked (a level-0 tile together with its entry bundle):
// `done` of `total` tiles.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct VerifyOptions {
  std::optional<std::string> old_checkpoint;  // a signed checkpoint note the log must extend
  ProgressFn progress;
};

struct VerifyReport {
  note::Checkpoint checkpoint;   // the verified checkpoint
  std::string checkpoint_note;   // and its signed note, verbatim (to keep as the next --old)
  uint64_t hash_tiles = 0;       // hash tiles checked, all levels
  uint64_t bundles = 0;          // entry bundles checked
  std::optional<uint64_t> old_size;  // the old checkpoint's size, when one was given and verified
};

// Opens a checkpoint note: a valid signature by `vkey` and an origin equal to the key's name.
// kVerificationFailed otherwise, including for text that is not a signed checkpoint at all.
Result<note::Checkpoint> open_checkpoint(std::string_view note_text, const note::VerifierKey& vkey);

// Runs the audit above. kVerificationFailed names the first resource that disagrees; fetch errors
// (kIoError, kNotFound for a missing tile) are passed on with the resource's path.
Result<VerifyReport> verify_log(TileSource& source, const note::VerifierKey& vkey,
                                const VerifyOptions& options = {});

}  // namespace medseal::tlog_client
