// Checks a whole ledger from what it serves publicly, the way an independent monitor would.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ledger/ledger.h"
#include "note/keys.h"

namespace medseal::testing {

// A fixed Ed25519 log key (deterministic, so tests and benchmarks can reopen their logs).
note::SignerKey test_log_key(const std::string& origin = "localhost/medseal");

// Reads every entry bundle and hash tile of the ledger's current tree through read_tile and checks
// that: the checkpoint is signed by `key` and names the head's size; every entry parses; the
// entries hash to the level-0 tiles; every higher tile holds the hashes of the full tiles below;
// the tree's root is the checkpoint's; and no tile beyond the tree is served.
::testing::AssertionResult whole_log_verifies(ledger::Ledger& ledger, const note::VerifierKey& key);

}  // namespace medseal::testing
