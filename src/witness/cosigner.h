// Background witnessing (DESIGN.md section 3, step 5): the log's checkpoints go to its witnesses
// (tlog-witness v1.0.0) and the newest checkpoint that K of them cosigned is what the log serves.
//
// - One worker thread per witness, at most one request in flight to it. Workers never block the
//   ledger: they poll Ledger::head() and read proofs from the store.
// - Coalesced: all workers send the same "target" checkpoint, the ledger's newest when the previous
//   target reached quorum (or grew older than target_max_age without reaching it). A log signing
//   a checkpoint every 10 ms thus sends each witness about one request per round trip, and the
//   witnesses cosign the same checkpoints, so quorums form.
// - Each request carries the consistency proof from the size that witness last cosigned, learned
//   from its 200s and 409s; at start it is unknown, so the first request says "old 0" and a 409
//   tells the size. A 409 is retried at once with the new old size.
// - Errors (no answer, timeouts, 5xx, malformed answers) are retried with exponential backoff up to
//   a cap. A 403 or 422 is a refusal, and so is a 409 naming the very size the request said the
//   witness holds (it holds another root at that size: a split view): one critical
//   "witness-refusal" alert per episode (an episode ends with the witness's next cosignature),
//   then backoff like any error.
// - Every cosignature is verified with that witness's key before it counts; a witness answering
//   with none that verifies raises one "bad-signature" alert per episode and counts for nothing.
// - The newest checkpoint with >= quorum valid cosignatures is saved durably (state_file) before it
//   is published, so what is served never goes backwards, across restarts too.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "storage/store.h"
#include "util/status.h"
#include "witness/witness_client.h"

namespace medseal::witness {

struct WitnessConfig {
  std::string url;        // submission prefix
  note::VerifierKey key;  // kCosignatureV1; its name is the witness's name
};

struct CosignerOptions {
  size_t quorum = 0;  // 1..witnesses; 0: all of them
  std::chrono::milliseconds poll_interval{5};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{60'000};
  std::chrono::milliseconds target_max_age{2'000};
  WitnessClientOptions client;
  std::string state_file;  // the newest cosigned checkpoint; "" keeps it in memory only
};

struct WitnessStatus {
  std::string name;
  std::string url;
  std::optional<uint64_t> witness_size;  // the size it last cosigned, as far as we know
  uint64_t cosigned_size = 0;            // the newest of our checkpoints it validly cosigned
  uint64_t requests = 0;                 // add-checkpoint calls made
  uint64_t consecutive_failures = 0;
  std::string last_error;                // "" after a cosignature
};

class Cosigner {
 public:
  // Checks the configuration (1..n quorum, cosignature keys with distinct names), loads and
  // re-verifies the saved cosigned checkpoint (it must open with the log key and the quorum and
  // match the tree the store holds at its size: a mismatch is kVerificationFailed and the log
  // must not start), then starts one worker per witness. `ledger`, `store` and `alerts` must
  // outlive the Cosigner.
  static Result<std::unique_ptr<Cosigner>> start(ledger::Ledger& ledger, storage::Store& store,
                                                 const note::VerifierKey& log_key,
                                                 std::vector<WitnessConfig> witnesses,
                                                 alerts::AlertSink& alerts, CosignerOptions options);
  // Stops the workers, aborting calls in flight.
  ~Cosigner();
  Cosigner(const Cosigner&) = delete;
  Cosigner& operator=(const Cosigner&) = delete;

  // The newest checkpoint with a quorum of valid cosignatures (note with the cosignature lines);
  // size 0 and an empty note while there is none. Never goes backwards.
  storage::LogHead cosigned() const;
  size_t quorum() const;
  std::vector<WitnessStatus> status() const;
  // True if `checkpoint_note` is signed by the log and cosigned by a quorum of the witnesses.
  bool is_witnessed(std::string_view checkpoint_note) const;

 private:
  struct Impl;
  explicit Cosigner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medseal::witness
