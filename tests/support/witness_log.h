// A log for witness tests to play: checkpoints of trees of made-up leaves, signed by a test key,
// and tlog-witness add-checkpoint request bodies between them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "note/keys.h"
#include "util/bytes.h"

namespace medseal::testing {

// A seed of 32 equal bytes: deterministic keys for tests.
crypto::Ed25519Seed filled_seed(uint8_t fill);

// "old <old>\n", the proof lines in base64, "\n" and the note.
std::string add_checkpoint_body(uint64_t old, const std::vector<Hash>& proof, const std::string& note);

// The tree of size N has leaves "<fork>0" .. "<fork>N-1"; another `fork` letter gives a tree that
// shares no prefix with it (a log that forked).
struct WitnessedLog {
  note::SignerKey key = note::signer_key_from_seed("example.com/log", filled_seed(1));

  std::string checkpoint_text(uint64_t size, char fork = 'a') const;
  // The checkpoint signed by `key`, or by `signer` when given.
  std::string checkpoint(uint64_t size, char fork = 'a', const note::SignerKey* signer = nullptr) const;
  // The consistency proof from `from` to `to`; empty when from is 0 or equal to `to`.
  std::vector<Hash> proof(uint64_t from, uint64_t to, char fork = 'a') const;
  // The honest request from `old` to `size`.
  std::string body(uint64_t old, uint64_t size, char fork = 'a') const;
};

}  // namespace medseal::testing
