// The remote monitor (sentinel/remote_monitor.h) in one process, its I/O injected: the log's
// tiles straight from a live ledger (optionally pinned to an older checkpoint, as a mirror that
// has not caught up sees it) and statements pages read from the store the way the server reads
// them, each one recorded as an auditor's access entry. Checks what the end-to-end test cannot
// time precisely: an erasure whose entry lies beyond the verified tree is not called tampering,
// a gap with no erasure is, own access entries alone fetch nothing, and strict page parsing.
#include "sentinel/remote_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "ledger/ledger.h"
#include "records/service.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/ledger_check.h"
#include "support/paths.h"
#include "support/raw_sqlite.h"
#include "util/clock.h"

namespace medseal::sentinel {
namespace {

using identity::Role;
using records::Caller;

Caller caller(Role role, std::string name) { return Caller{identity::Identity{std::move(name), role, ""}, "TREAT"}; }

// The live ledger's log, or the checkpoint in `pinned` while it is set.
class LedgerSource : public tlog_client::TileSource {
 public:
  explicit LedgerSource(ledger::Ledger& l) : ledger_(l) {}
  Result<std::string> read_checkpoint() override { return pinned ? *pinned : ledger_.head().checkpoint; }
  Result<std::string> read_tile(const merkle::TileId& id) override { return ledger_.read_tile(id); }
  std::string describe() const override { return "ledger"; }
  std::optional<std::string> pinned;

 private:
  ledger::Ledger& ledger_;
};

// What GET /ledger/statements does: record the read, then read the page in one snapshot.
class StorePages : public StatementsSource {
 public:
  StorePages(records::RecordService& service, StoreView view) : service_(service), view_(std::move(view)) {}
  Result<Fetched> fetch(uint64_t from, uint64_t count) override {
    ++fetches;
    uint64_t own = 0;
    MEDSEAL_RETURN_IF_ERROR(service_.record_integrity_read(caller(Role::kAuditor, "audit"), from, count, &own));
    Result<std::string> page = read_integrity_page(view_, from, count);
    if (!page) return page.status();
    return Fetched{rewrite ? rewrite(*page) : *page, own};
  }
  size_t fetches = 0;
  std::function<std::string(std::string)> rewrite;

 private:
  records::RecordService& service_;
  StoreView view_;
};

class RemoteMonitorUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/medseal.db";
    auto store = storage::open_sqlite_store(db_);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(*store);
    ledger::LedgerOptions options;
    options.batch_window = std::chrono::microseconds(200);
    auto l = ledger::Ledger::open(*store_, key_, options);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ledger_ = std::move(*l);
    service_ = std::make_unique<records::RecordService>(*ledger_, *store_, system_clock());
    for (int i = 0; i < 5; ++i) patients_.push_back(write_patient());
    auto view = StoreView::open(db_);
    ASSERT_TRUE(view.is_ok()) << view.status().to_string();
    pages_ = std::make_unique<StorePages>(*service_, std::move(*view));
    log_ = std::make_unique<LedgerSource>(*ledger_);
  }

  std::string write_patient() {
    auto w = service_->create(caller(Role::kClinician, "dr.unit"), "Patient",
                              R"({"resourceType":"Patient","name":[{"family":"Tamm"}]})", nullptr);
    EXPECT_TRUE(w.is_ok()) << w.status().to_string();
    return w ? w->version.id : "";
  }

  std::unique_ptr<RemoteMonitor> open_monitor(std::chrono::milliseconds recheck) {
    RemoteMonitorOptions o;
    o.log.log_key = note::verifier_of(key_);
    o.state_dir = dir_.path() + "/state";
    o.recheck = recheck;
    o.page_entries = 4;  // several pages even for a small log
    auto m = RemoteMonitor::open(o, sink_);
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return m ? std::move(*m) : nullptr;
  }

  PollReport poll(RemoteMonitor& m) {
    PollReport r = m.poll(*log_, *pages_);
    for (const std::string& e : r.errors) ADD_FAILURE() << e;
    return r;
  }

  std::string all_alerts() const {
    std::string out;
    for (const alerts::Alert& a : sink_.alerts()) out += alerts::to_json(a).dump() + "\n";
    return out;
  }

  size_t count(const std::string& kind) const {
    auto all = sink_.alerts();
    return static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](const alerts::Alert& a) { return a.kind == kind; }));
  }

  testing::TempDir dir_;
  std::string db_;
  note::SignerKey key_ = testing::test_log_key();
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<records::RecordService> service_;
  std::vector<std::string> patients_;
  std::unique_ptr<StorePages> pages_;
  std::unique_ptr<LedgerSource> log_;
  alerts::MemorySink sink_;
};

TEST_F(RemoteMonitorUnitTest, OwnAccessEntriesAloneFetchNothing) {
  auto m = open_monitor(std::chrono::milliseconds(0));
  ASSERT_NE(m, nullptr);
  PollReport first = poll(*m);
  EXPECT_GE(first.pages, 2u);
  EXPECT_EQ(first.checked, first.verified_size);
  for (int i = 0; i < 3; ++i) {
    PollReport quiet = poll(*m);
    EXPECT_EQ(quiet.pages, 0u) << "poll " << i << ": only the monitor's own reads were new";
  }
  write_patient();
  EXPECT_GE(poll(*m).pages, 1u);
  EXPECT_TRUE(sink_.alerts().empty()) << all_alerts();
}

TEST_F(RemoteMonitorUnitTest, AnErasureBeyondTheVerifiedTreeIsNotTampering) {
  auto m = open_monitor(std::chrono::milliseconds(1));
  ASSERT_NE(m, nullptr);
  poll(*m);
  // The mirror stays at this size while the store moves on: its erasure entry is beyond the tree.
  log_->pinned = ledger_->head().checkpoint;
  auto erased = service_->erase(caller(Role::kAdmin, "root"), "Patient", patients_[1], nullptr);
  ASSERT_TRUE(erased.is_ok()) << erased.status().to_string();
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    poll(*m);  // rolling re-checks read the gap
  }
  EXPECT_EQ(count("missing-entry"), 0u) << all_alerts();
  log_->pinned.reset();
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    poll(*m);
  }
  EXPECT_TRUE(sink_.alerts().empty()) << all_alerts();

  // The same gap with no erasure entry naming it is missing-entry, once the page settles.
  auto record = store_->read_record("Patient", patients_[3], 1);
  ASSERT_TRUE(record.is_ok());
  const uint64_t index = record->ledger_index;
  testing::raw_exec(db_, "DELETE FROM entry_extras WHERE first_idx <= " + std::to_string(index) +
                             " AND first_idx + count > " + std::to_string(index));
  for (int i = 0; i < 100 && count("missing-entry") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    write_patient();  // real changes settle the page
    poll(*m);
  }
  bool named = false;
  for (const alerts::Alert& a : sink_.alerts()) {
    named = named || (a.kind == "missing-entry" &&
                      std::find(a.indexes.begin(), a.indexes.end(), index) != a.indexes.end());
  }
  EXPECT_TRUE(named) << all_alerts();
}

TEST_F(RemoteMonitorUnitTest, APageThatIsNotWellFormedIsAnErrorNotAFinding) {
  auto m = open_monitor(std::chrono::milliseconds(0));
  ASSERT_NE(m, nullptr);
  pages_->rewrite = [](std::string page) { return page.insert(1, R"("extra":1,)"); };
  PollReport r = m->poll(*log_, *pages_);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors.front().find("statements page"), std::string::npos) << r.errors.front();
  EXPECT_EQ(r.checked, 0u);
  pages_->rewrite = [](std::string page) {
    const size_t salt = page.find("\"salt\":\"") + 8;
    page[salt] = '!';  // not base64
    return page;
  };
  r = m->poll(*log_, *pages_);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.checked, 0u);
  pages_->rewrite = nullptr;
  PollReport good = poll(*m);
  EXPECT_EQ(good.checked + good.pages, ledger_->head().size) << "all but this poll's own reads";
  EXPECT_TRUE(sink_.alerts().empty()) << all_alerts();
}

}  // namespace
}  // namespace medseal::sentinel
