// The tlog-witness v1.0.0 add-checkpoint protocol, independent of HTTP: a request body in, a
// reply (status, content type, body) out. Pure apart from the WitnessStore and the Clock.
//
// The body is strictly "old <N>\n", at most 63 lines of one base64 hash each, "\n", then a signed
// checkpoint note. Checks run in the spec's order, each with the status the spec gives it:
//   400  the body is malformed (including a note that is no checkpoint), or old > checkpoint size
//   404  the checkpoint's origin is not a log this witness watches
//   403  no signature by a trusted key of that log verifies (signatures by other keys are ignored;
//        a signature by a trusted key that fails makes the note invalid, also 403)
//   409  old differs from the size last cosigned for the origin (0 if none): body "<size>\n",
//        content type text/x.tlog.size; also old == checkpoint size with a different root
//   422  the consistency proof from old to the checkpoint size does not verify (a proof sent with
//        old 0, and a size-0 checkpoint whose root is not the empty tree's, are no valid proof)
//   200  the state was compare-and-set in the store (so no concurrent request can roll it back)
//        and the body is one cosignature line "— <witness name> <base64>\n" timestamped with
//        the clock's current second
//   500  the store failed (the reply says so in one line; nothing was cosigned)
// Resubmitting the checkpoint last cosigned (old = its size, empty proof) is 200 again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "note/keys.h"
#include "util/clock.h"
#include "util/status.h"
#include "witness/witness_store.h"

namespace medseal::witness {

inline constexpr size_t kMaxProofLines = 63;          // the spec's limit for clients
inline constexpr size_t kMaxRequestBytes = 1 << 20;   // old line + proof + note, generously
inline constexpr std::string_view kTlogSizeContentType = "text/x.tlog.size";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

struct Reply {
  int status = 200;
  std::string content_type;
  std::string body;
};

// A request body split into its parts; nothing is verified yet.
struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string checkpoint_note;  // the signed note, verbatim
};

// Strict parser of the body's framing (kInvalidArgument on anything else): the old line with no
// leading zeros and no overflow, canonical base64 of exactly 32 bytes per proof line, at most
// kMaxProofLines of them, the empty line, and a non-empty rest. The note is parsed later.
Result<AddCheckpointRequest> parse_add_checkpoint(std::string_view body);

class Witness {
 public:
  // `key` must be a kCosignatureV1 key; its name is the witness's name. `logs` are the Ed25519
  // verifier keys of the watched logs; a log's origin is its key's name, and several keys with
  // one name are all trusted for that origin (key rotation). kInvalidArgument for a wrong key
  // type or an empty `logs`. `store` and `clock` must outlive the witness.
  // The check create() makes of `logs`, for callers that want it before creating anything.
  static Status check_log_keys(const std::vector<note::VerifierKey>& logs);
  static Result<Witness> create(note::SignerKey key, const std::vector<note::VerifierKey>& logs,
                                WitnessStore& store, const Clock& clock);

  // Handles one POST add-checkpoint body. Safe to call from many threads at once.
  Reply add_checkpoint(std::string_view body) const;

  const note::SignerKey& key() const { return key_; }

 private:
  Witness(note::SignerKey key, std::map<std::string, std::vector<note::VerifierKey>, std::less<>> logs,
          WitnessStore& store, const Clock& clock)
      : key_(std::move(key)), logs_(std::move(logs)), store_(&store), clock_(&clock) {}

  Reply check_and_cosign(const AddCheckpointRequest& request) const;
  Reply store_and_cosign(const AddCheckpointRequest& request, std::string_view checkpoint_text,
                         const std::string& origin, const LogState& next) const;

  note::SignerKey key_;
  std::map<std::string, std::vector<note::VerifierKey>, std::less<>> logs_;  // by origin
  WitnessStore* store_;
  const Clock* clock_;
};

// The 409 reply: "<size>\n" as text/x.tlog.size.
Reply conflict_reply(uint64_t size);

}  // namespace medseal::witness
