// A witness's add-checkpoint endpoint (witness/witness.h): any body, as a log (or anyone) POSTs it.
// The witness watches the tessera test log, whose checkpoints in ../shared/testdata carry valid
// signatures, and starts every input having cosigned that log's checkpoint of size 8, so seeds
// "old 8, a consistency proof, checkpoint.15" reach the proof check and the cosigning.
#include <map>
#include <mutex>

#include "crypto/base64.h"
#include "fuzz_input.h"
#include "note/keys.h"
#include "test_keys.h"
#include "util/clock.h"
#include "witness/witness.h"
#include "witness/witness_store.h"

namespace {

using namespace medseal;

class MemoryWitnessStore : public witness::WitnessStore {
 public:
  Result<std::optional<witness::LogState>> latest(std::string_view origin) override {
    std::lock_guard lock(mu_);
    auto it = states_.find(origin);
    if (it == states_.end()) return std::optional<witness::LogState>();
    return std::optional<witness::LogState>(it->second);
  }
  Result<witness::SetOutcome> compare_and_set(std::string_view origin, uint64_t expected_size,
                                              const witness::LogState& next,
                                              std::string_view /*checkpoint_note*/) override {
    std::lock_guard lock(mu_);
    auto it = states_.find(origin);
    const uint64_t stored = it == states_.end() ? 0 : it->second.size;
    if (stored != expected_size) {
      if (it == states_.end()) return witness::SetOutcome{false, std::nullopt};
      return witness::SetOutcome{false, it->second};
    }
    if (next.size < stored) return Status::internal("rollback");
    states_.insert_or_assign(std::string(origin), next);
    return witness::SetOutcome{true, next};
  }

 private:
  std::mutex mu_;
  std::map<std::string, witness::LogState, std::less<>> states_;
};

class FixedClock : public Clock {
 public:
  uint64_t now_ms() const override { return 1'700'000'000'000; }
};

// testdata/tessera-log/checkpoint.8
witness::LogState tessera_size_8() {
  witness::LogState state;
  state.size = 8;
  const auto root = crypto::base64_decode("bC+VwvrJbalNVjfkdI8kUgs7mJoXrqiXCE7bgnD28pY=");
  if (!root || root->size() != state.root.size()) __builtin_trap();
  std::copy(root->begin(), root->end(), state.root.begin());
  return state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const note::SignerKey witness_key =
      note::signer_key_from_seed("witness.example/fuzz", crypto::Ed25519Seed{}, note::KeyType::kCosignatureV1);
  static const FixedClock clock;
  static const witness::LogState start = tessera_size_8();
  const std::string_view body = fuzz::as_text(data, size);
  (void)witness::parse_add_checkpoint(body);

  MemoryWitnessStore store;
  FUZZ_CHECK(store.compare_and_set("example.com/log/testdata", 0, start, "").is_ok());
  auto w = witness::Witness::create(witness_key, {fuzz::test_key(fuzz::kTesseraLogKey)}, store, clock);
  FUZZ_CHECK(w.is_ok());
  const witness::Reply reply = w->add_checkpoint(body);
  FUZZ_CHECK(reply.status == 200 || reply.status == 400 || reply.status == 403 ||
             reply.status == 404 || reply.status == 409 || reply.status == 422);
  return 0;
}
