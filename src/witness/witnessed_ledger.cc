#include "witness/witnessed_ledger.h"

#include "ledger/receipt.h"
#include "note/tlog_proof.h"

namespace medseal::witness {

Result<std::string> WitnessedLedger::receipt(uint64_t index) {
  storage::LogHead cosigned = cosigner_.cosigned();
  if (index < cosigned.size) return ledger::build_receipt(store_, cosigned, index);
  return inner_.receipt(index);
}

bool is_witnessed_receipt(const Cosigner& cosigner, std::string_view receipt) {
  auto proof = note::parse_tlog_proof(receipt);
  return proof && cosigner.is_witnessed(proof->checkpoint);
}

}  // namespace medseal::witness
