#include "support/record_stack.h"

#include <gtest/gtest.h>

#include <chrono>

#include "storage/sqlite/sqlite_store.h"
#include "util/clock.h"

namespace medseal::testing {

std::unique_ptr<RecordStack> open_record_stack(const std::string& dir, const std::string& origin) {
  auto s = std::make_unique<RecordStack>();
  s->db_path = dir + "/medseal.db";
  s->key = note::generate_signer_key(origin);
  auto store = storage::open_sqlite_store(s->db_path);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  if (!store) return nullptr;
  s->store = std::move(*store);
  ledger::LedgerOptions options;
  options.batch_window = std::chrono::microseconds(500);
  auto l = ledger::Ledger::open(*s->store, s->key, options);
  EXPECT_TRUE(l.is_ok()) << l.status().to_string();
  if (!l) return nullptr;
  s->ledger = std::move(*l);
  s->service = std::make_unique<records::RecordService>(*s->ledger, *s->store, system_clock());
  return s;
}

}  // namespace medseal::testing
