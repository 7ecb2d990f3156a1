// Every alert becomes a system entry of the ledger (DESIGN.md 7), so suppressing one leaves a
// trail. Delivered from the outbox like the other destinations: an append that fails (the store is
// full, read-only) is retried until it succeeds, and the alert still reaches every other sink.
//
// The statement, fields always in this order, absent ones left out (records/statement.h style):
//   {"v":1,"op":"alert","time":<ms>,"id":"<hex>","kind":"...","severity":"...",
//    "summary":"...","resources":[...],"indexes":[...]}
// The evidence (hashes, checkpoints) stays in the outbox and the other sinks: the statement is
// shown to auditors and patients and carries ids only.
#pragma once

#include <string>

#include "alerts/delivery.h"
#include "ledger/ledger.h"

namespace medseal::alerts {

// The alert's ledger statement, as above.
std::string alert_statement(const Alert& alert);

class LedgerDestination : public Destination {
 public:
  explicit LedgerDestination(ledger::Ledger& ledger) : ledger_(ledger) {}
  std::string name() const override { return "ledger"; }
  // Appends the statement (time: the alert's) and waits until it is durable.
  Status deliver(const Alert& alert) override;

 private:
  ledger::Ledger& ledger_;
};

}  // namespace medseal::alerts
