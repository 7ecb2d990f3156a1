// A tlog-witness v1.0.0 witness for tests of the log's side: a cpp-httplib server on a free
// loopback port answering POST /add-checkpoint with a kCosignatureV1 key. It keeps the last
// cosigned size and root per origin, answers 409 (text/x.tlog.size) on a mismatch, checks the
// consistency proof (422) and the log signature (403), and can be told to misbehave.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "note/keys.h"
#include "util/bytes.h"

namespace httplib {
class Server;
}

namespace medseal::testing {

class FakeWitness {
 public:
  enum class Mode {
    kHonest,
    kRefuse403,  // every request: 403
    kRefuse422,  // every request: 422
    kFail500,    // every request: 500
    kHang,       // every request waits until the mode changes or the witness stops
    kForge,      // cosigns with a key other than the one it announces
  };

  // A witness named `name` that trusts checkpoints signed by `log_key`.
  FakeWitness(std::string name, note::VerifierKey log_key);
  ~FakeWitness();
  FakeWitness(const FakeWitness&) = delete;
  FakeWitness& operator=(const FakeWitness&) = delete;

  std::string url() const;  // http://127.0.0.1:<port>
  const note::SignerKey& key() const { return key_; }
  note::VerifierKey vkey() const { return note::verifier_of(key_); }

  void set_mode(Mode mode);
  // Pretends the witness last cosigned `size` with `root` for the log (e.g. from an earlier life).
  void set_state(uint64_t size, const Hash& root);
  uint64_t size() const;  // the size it last cosigned (0: none)

  struct Call {
    uint64_t old_size = 0;
    uint64_t size = 0;          // the checkpoint's
    size_t proof_lines = 0;
    bool proof_verified = false;  // a non-empty consistency proof that verified
    int status = 0;
  };
  std::vector<Call> calls() const;
  size_t cosigned_count() const;  // 200s answered

 private:
  struct Reply {
    int status;
    std::string content_type;
    std::string body;
  };
  Reply answer(const std::string& body);
  Reply honest(const std::string& body, Call& call);

  const note::VerifierKey log_key_;
  const note::SignerKey key_;
  const note::SignerKey forger_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_ = Mode::kHonest;
  bool stopping_ = false;
  uint64_t size_ = 0;
  Hash root_{};
  std::vector<Call> calls_;
};

}  // namespace medseal::testing
