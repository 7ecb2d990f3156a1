// The log's side of one tlog-witness v1.0.0 call: POST <submission prefix>/add-checkpoint with an
// old size, a consistency proof and the checkpoint, and what the witness answered. One client per
// witness, used by one thread at a time (it keeps its HTTP connection alive between calls).
//
// Nothing here trusts the witness: cosignature lines are parsed, not verified (cosigner.h verifies
// them against the witness's key), and every response body is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "note/note.h"
#include "util/bytes.h"
#include "util/status.h"

namespace medseal::witness {

// A 200 carries one line per witness key; a 409 one decimal. Anything longer is not a witness.
constexpr size_t kMaxWitnessResponseBytes = 64 << 10;
// tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
constexpr size_t kMaxProofLines = 63;

// The request body: "old N\n", one base64 hash per line, an empty line, the signed checkpoint.
// kInvalidArgument for a proof longer than kMaxProofLines.
Result<std::string> format_add_checkpoint(uint64_t old_size, std::span<const Hash> proof,
                                          std::string_view checkpoint_note);

// A 409 body (text/x.tlog.size): a decimal without sign or leading zeros, then one newline.
Result<uint64_t> parse_tlog_size(std::string_view body);
// A 200 body: one or more note signature lines, each ending in a newline.
Result<std::vector<note::NoteSignature>> parse_cosignature_lines(std::string_view body);

struct WitnessReply {
  enum class Kind {
    kCosigned,  // 200: `cosignatures` holds the parsed lines (not yet verified)
    kConflict,  // 409: `witness_size` is the size the witness last cosigned
    kRefused,   // 403 or 422: the witness will not cosign this checkpoint (an alert)
    kFailed,    // anything else: no answer, a timeout, another status, a malformed body
  };
  Kind kind = Kind::kFailed;
  int http_status = 0;  // 0 when no HTTP response arrived
  std::vector<note::NoteSignature> cosignatures;
  uint64_t witness_size = 0;
  std::string error;  // one line, for kRefused and kFailed
};

struct WitnessClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // Per read on the socket: a witness that hangs costs at most this per call.
  std::chrono::milliseconds read_timeout{15'000};
};

class WitnessClient {
 public:
  // `url` is the witness's submission prefix, "http[s]://host[:port][/path]".
  static Result<std::unique_ptr<WitnessClient>> open(std::string_view url,
                                                     WitnessClientOptions options = {});
  ~WitnessClient();
  WitnessClient(const WitnessClient&) = delete;
  WitnessClient& operator=(const WitnessClient&) = delete;

  // One add-checkpoint call. Never blocks longer than the timeouts allow.
  WitnessReply add_checkpoint(uint64_t old_size, std::span<const Hash> proof,
                              std::string_view checkpoint_note);
  // Aborts a call in progress from another thread (shutdown: a hanging witness must not hold it).
  void cancel();
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  WitnessClient(std::string url, std::unique_ptr<Impl> impl);
  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medseal::witness
