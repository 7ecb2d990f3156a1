// The record layer over a real embedded store, as serve builds it, for tests that drive
// RecordService directly: DIR/medseal.db, a ledger with a short batch window, the service.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "note/keys.h"
#include "records/service.h"
#include "storage/store.h"

namespace medseal::testing {

struct RecordStack {
  std::string db_path;
  note::SignerKey key;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<records::RecordService> service;

  ~RecordStack() {
    service.reset();
    ledger.reset();  // drains the sequencer before the store goes away
    store.reset();
  }
};

// Opens (creating) the stack in `dir` under a fresh key named `origin`; fails the test and returns
// null if anything does not open.
std::unique_ptr<RecordStack> open_record_stack(const std::string& dir, const std::string& origin);

}  // namespace medseal::testing
