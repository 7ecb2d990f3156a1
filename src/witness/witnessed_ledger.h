// A Ledger whose receipts carry witness cosignatures when they can: a receipt for an entry that
// the newest cosigned checkpoint (cosigner.h) covers is built against that checkpoint, so it
// verifies offline with the witnesses' keys; a newer entry's receipt is built against the log's
// latest checkpoint, and is_witnessed_receipt tells the HTTP layer to say it is pending.
// Everything else is the wrapped ledger's.
#pragma once

#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "storage/store.h"
#include "witness/cosigner.h"

namespace medseal::witness {

class WitnessedLedger final : public ledger::Ledger {
 public:
  // All three must outlive this object; `store` is the one `inner` commits to.
  WitnessedLedger(ledger::Ledger& inner, storage::Store& store, const Cosigner& cosigner)
      : inner_(inner), store_(store), cosigner_(cosigner) {}

  Result<uint64_t> append(ledger::AppendRequest request) override { return inner_.append(std::move(request)); }
  Result<uint64_t> append_all(std::vector<ledger::AppendRequest> requests) override {
    return inner_.append_all(std::move(requests));
  }
  storage::LogHead head() const override { return inner_.head(); }
  Result<std::string> read_tile(const merkle::TileId& id) override { return inner_.read_tile(id); }
  Result<std::string> receipt(uint64_t index) override;

 private:
  ledger::Ledger& inner_;
  storage::Store& store_;
  const Cosigner& cosigner_;
};

// True if `receipt` is a tlog-proof whose checkpoint has the cosigner's quorum of valid
// cosignatures; false for anything else (including receipts that do not parse).
bool is_witnessed_receipt(const Cosigner& cosigner, std::string_view receipt);

}  // namespace medseal::witness
