// Records, entry keys and erasures in the store: the same scenarios against the SQLite store and
// the in-memory reference, a randomized comparison of the two, and what only a file has (atomic
// failure on a full disk, durability across reopen, migration of a version 1 file).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <optional>
#include <random>
#include <thread>

#include "storage/extras_codec.h"
#include "storage/record_rows.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/memory_store.h"
#include "support/paths.h"
#include "support/raw_sqlite.h"
#include "support/test_stores.h"

namespace medseal::storage {
namespace {

using medseal::testing::raw_exec;

using testing::TempDir;

// What one ledger entry carries besides its extras.
struct Entry {
  std::optional<RecordVersion> record;
  std::vector<std::string> keys;
  std::optional<Erasure> erasure;
};

RecordVersion rec(std::string type, std::string id, uint64_t version, uint64_t updated_ms = 1000,
                  std::string compartment = "", bool deleted = false) {
  RecordVersion r{std::move(type), std::move(id), version, 0, updated_ms, deleted,
                  std::move(compartment), ""};
  if (!deleted) r.bytes = r.type + "/" + r.id + "/_history/" + std::to_string(version);
  return r;
}

Entry with_record(RecordVersion r, std::vector<std::string> keys = {}) {
  return {std::move(r), std::move(keys), std::nullopt};
}

EntryExtra extra_for(uint64_t index) {
  return {std::string(32, static_cast<char>('a' + index % 26)), "stmt " + std::to_string(index)};
}

// The batch appending `entries` after `old_size` (no tiles: the store does not need them).
Batch batch_of(uint64_t old_size, std::vector<Entry> entries) {
  Batch b;
  b.old_size = old_size;
  b.new_size = old_size + entries.size();
  b.checkpoint = "checkpoint@" + std::to_string(b.new_size);
  for (uint64_t i = 0; i < entries.size(); ++i) {
    const uint64_t index = old_size + i;
    b.extras.push_back(extra_for(index));
    if (entries[i].record) {
      b.records.push_back(std::move(*entries[i].record));
      b.records.back().ledger_index = index;
    }
    for (std::string& k : entries[i].keys) b.keys.push_back({std::move(k), index});
    if (entries[i].erasure) b.erasures.push_back(std::move(*entries[i].erasure));
  }
  return b;
}

// "type/id/version@index" per record: compact and exact to compare.
std::vector<std::string> names(const std::vector<RecordVersion>& records) {
  std::vector<std::string> out;
  for (const RecordVersion& r : records) {
    out.push_back(r.type + "/" + r.id + "/" + std::to_string(r.version) + "@" +
                  std::to_string(r.ledger_index));
  }
  return out;
}

std::unique_ptr<SqliteStore> open_sqlite(const std::string& path) {
  Result<std::unique_ptr<SqliteStore>> s = open_sqlite_store(path, SqliteStoreOptions{});
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? std::move(*s) : nullptr;
}

class SqliteMaker {
 public:
  Store& store() { return *store_; }
  bool usable() const { return true; }

 private:
  TempDir dir_;
  std::unique_ptr<SqliteStore> store_ = open_sqlite(dir_.path() + "/log.db");
};

// The PostgreSQL store in a schema of its own; skips the test without MEDSEAL_TEST_PG.
class PostgresMaker {
 public:
  PostgresMaker() {
    if (testing::test_pg_url().empty()) return;
    Result<std::unique_ptr<Store>> s = space_.open();
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    if (s) store_ = std::move(*s);
  }
  Store& store() { return *store_; }
  bool usable() const { return store_ != nullptr; }

 private:
  testing::StoreSpace space_{testing::StoreKind::kPostgres};
  std::unique_ptr<Store> store_;  // closed before its schema is dropped
};

class MemoryMaker {
 public:
  Store& store() { return store_; }
  bool usable() const { return true; }

 private:
  testing::MemoryStore store_;
};

template <typename Maker>
class StorageRecords : public ::testing::Test {
 public:  // to the scenario helpers below too
  void SetUp() override {
    if (!maker_.usable()) GTEST_SKIP() << testing::kNoTestPg;
  }
  Store& store() { return maker_.store(); }

  // Appends the entries as one batch after what the store holds.
  Status append(std::vector<Entry> entries) {
    Status s = store().commit(batch_of(size_, std::move(entries)));
    if (s) size_ = store().head()->size;
    return s;
  }

  uint64_t size_ = 0;
  Maker maker_;
};

using Makers = ::testing::Types<SqliteMaker, MemoryMaker, PostgresMaker>;
class MakerNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, PostgresMaker>) return "Postgres";
    return std::is_same_v<T, SqliteMaker> ? "Sqlite" : "Memory";
  }
};
TYPED_TEST_SUITE(StorageRecords, Makers, MakerNames);

TYPED_TEST(StorageRecords, ReadsLatestAndExactVersions) {
  Store& s = this->store();
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1, 100, "Patient/1")),
                            with_record(rec("Observation", "a", 1, 101, "Patient/1"))}));
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 2, 200, "Patient/1")), {}}));
  Result<RecordVersion> latest = s.read_record("Patient", "1", 0);
  ASSERT_TRUE(latest.is_ok()) << latest.status().to_string();
  EXPECT_EQ(latest->version, 2u);
  EXPECT_EQ(latest->ledger_index, 2u);
  EXPECT_EQ(latest->updated_ms, 200u);
  EXPECT_EQ(latest->compartment, "Patient/1");
  EXPECT_EQ(latest->bytes, "Patient/1/_history/2");
  EXPECT_FALSE(latest->deleted);
  Result<RecordVersion> first = s.read_record("Patient", "1", 1);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->ledger_index, 0u);
  EXPECT_EQ(first->bytes, "Patient/1/_history/1");
  EXPECT_EQ(s.read_record("Patient", "1", 3).status().code(), Code::kNotFound);
  EXPECT_EQ(s.read_record("Patient", "a", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(s.read_record("Observation", "1", 0).status().code(), Code::kNotFound);

  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 3, 300, "Patient/1", true))}));
  Result<RecordVersion> deleted = s.read_record("Patient", "1", 0);
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->version, 3u);
  EXPECT_EQ(deleted->bytes, "");
  EXPECT_EQ(s.read_record("Patient", "1", 2)->bytes, "Patient/1/_history/2");
}

// A version older than a stored one, written later, does not become the latest.
TYPED_TEST(StorageRecords, TheLatestVersionOnlyMovesForward) {
  Store& s = this->store();
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 2, 200, "Patient/1"))}));
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1, 300, "Patient/1"))}));
  EXPECT_EQ(s.read_record("Patient", "1", 0)->version, 2u);
  Result<RecordPage> found = s.search_records({.type = "Patient", .compartment = "Patient/1"});
  ASSERT_TRUE(found.is_ok());
  EXPECT_EQ(names(found->records), std::vector<std::string>{"Patient/1/2@0"});
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 3, 400, "Patient/1"))}));
  found = s.search_records({.type = "Patient", .updated_from_ms = 100});
  ASSERT_TRUE(found.is_ok());
  EXPECT_EQ(names(found->records), std::vector<std::string>{"Patient/1/3@2"});
}

TYPED_TEST(StorageRecords, HistoryIsNewestFirstWithPagingAndTotals) {
  Store& s = this->store();
  // Patient/1 v1..v5, Patient/2 v1..v3 and Observation/x v1..v2, interleaved over 10 entries.
  ASSERT_TRUE(this->append(
      {with_record(rec("Patient", "1", 1)), with_record(rec("Patient", "2", 1)),
       with_record(rec("Patient", "1", 2)), with_record(rec("Observation", "x", 1)),
       with_record(rec("Patient", "1", 3)), with_record(rec("Patient", "2", 2)),
       with_record(rec("Patient", "1", 4)), with_record(rec("Observation", "x", 2)),
       with_record(rec("Patient", "1", 5)), with_record(rec("Patient", "2", 3))}));

  Result<RecordPage> one = s.record_history("Patient", "1", 0, 2);
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ(one->total, 5u);
  EXPECT_EQ(names(one->records), (std::vector<std::string>{"Patient/1/5@8", "Patient/1/4@6"}));
  EXPECT_EQ(names(s.record_history("Patient", "1", 4, 10)->records),
            std::vector<std::string>{"Patient/1/1@0"});
  Result<RecordPage> beyond = s.record_history("Patient", "1", 10, 10);
  EXPECT_TRUE(beyond->records.empty());
  EXPECT_EQ(beyond->total, 5u);
  EXPECT_TRUE(s.record_history("Patient", "1", 0, 0)->records.empty());

  Result<RecordPage> patients = s.record_history("Patient", "", 0, 100);
  EXPECT_EQ(patients->total, 8u);
  EXPECT_EQ(names(patients->records),
            (std::vector<std::string>{"Patient/2/3@9", "Patient/1/5@8", "Patient/1/4@6",
                                      "Patient/2/2@5", "Patient/1/3@4", "Patient/1/2@2",
                                      "Patient/2/1@1", "Patient/1/1@0"}));
  Result<RecordPage> all = s.record_history("", "", 1, 2);
  EXPECT_EQ(all->total, 10u);
  EXPECT_EQ(names(all->records),
            (std::vector<std::string>{"Patient/1/5@8", "Observation/x/2@7"}));
  EXPECT_EQ(s.record_history("Patient", "9", 0, 10)->total, 0u);
  EXPECT_EQ(s.record_history("", "1", 0, 10).status().code(), Code::kInvalidArgument);
}

// Heads of three patients' Observations with distinct times; o4 is deleted.
template <typename T>
void add_observations(StorageRecords<T>& t) {
  ASSERT_TRUE(t.append({with_record(rec("Observation", "o1", 1, 1000, "Patient/1")),
                        with_record(rec("Observation", "o2", 1, 2000, "Patient/2")),
                        with_record(rec("Observation", "o3", 1, 3000, "Patient/1")),
                        with_record(rec("Observation", "o4", 1, 4000, "Patient/3")),
                        with_record(rec("Patient", "1", 1, 5000, "Patient/1"))}));
  // o1 gets a second version (its head moves to index 5), o4 is deleted.
  ASSERT_TRUE(t.append({with_record(rec("Observation", "o1", 2, 6000, "Patient/1")),
                        with_record(rec("Observation", "o4", 2, 7000, "Patient/3", true))}));
}

TYPED_TEST(StorageRecords, SearchFilters) {
  add_observations(*this);
  Store& s = this->store();
  auto search = [&](RecordQuery q) {
    q.type = q.type.empty() ? "Observation" : q.type;
    Result<RecordPage> page = s.search_records(q);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    return page.is_ok() ? *page : RecordPage{};
  };
  RecordPage all = search({});
  EXPECT_EQ(all.total, 3u) << "deleted o4 left out";
  EXPECT_EQ(names(all.records),
            (std::vector<std::string>{"Observation/o1/2@5", "Observation/o3/1@2",
                                      "Observation/o2/1@1"}));
  EXPECT_EQ(all.records[0].bytes, "Observation/o1/_history/2");
  RecordPage with_deleted = search({.include_deleted = true});
  EXPECT_EQ(with_deleted.total, 4u);
  EXPECT_EQ(names(with_deleted.records)[0], "Observation/o4/2@6");
  EXPECT_TRUE(with_deleted.records[0].deleted);

  EXPECT_EQ(names(search({.ids = {"o2", "o9", "o1", "o2"}}).records),
            (std::vector<std::string>{"Observation/o1/2@5", "Observation/o2/1@1"}));
  EXPECT_EQ(search({.ids = {"o4"}}).total, 0u);
  EXPECT_EQ(search({.ids = {"o4"}, .include_deleted = true}).total, 1u);
  EXPECT_EQ(search({.ids = {"o1", "o2", "o3"}, .offset = 1, .limit = 1}).total, 3u);
  EXPECT_EQ(names(search({.ids = {"o1", "o2", "o3"}, .offset = 1, .limit = 1}).records),
            std::vector<std::string>{"Observation/o3/1@2"});

  EXPECT_EQ(names(search({.compartment = "Patient/1"}).records),
            (std::vector<std::string>{"Observation/o1/2@5", "Observation/o3/1@2"}));
  EXPECT_EQ(search({.compartment = "Patient/"}).total, 0u) << "exact, not a prefix";
  EXPECT_EQ(names(search({.ids = {"o2", "o3"}, .compartment = "Patient/1"}).records),
            std::vector<std::string>{"Observation/o3/1@2"});

  // [from, to): o2 at 2000 is in, o3 at 3000 is out; o1's head is at 6000 (its old time is gone).
  EXPECT_EQ(names(search({.updated_from_ms = 2000, .updated_to_ms = 3000}).records),
            std::vector<std::string>{"Observation/o2/1@1"});
  EXPECT_EQ(search({.updated_from_ms = 2001, .updated_to_ms = 3000}).total, 0u);
  EXPECT_EQ(search({.updated_from_ms = 1000, .updated_to_ms = 6000}).total, 2u);
  EXPECT_EQ(search({.updated_from_ms = 6000}).total, 1u);
  EXPECT_EQ(search({.compartment = "Patient/1", .updated_to_ms = 6001}).total, 2u);
  EXPECT_EQ(search({.compartment = "Patient/3", .updated_from_ms = 7000,
                    .include_deleted = true}).total, 1u);

  RecordPage paged = search({.offset = 1, .limit = 1});
  EXPECT_EQ(paged.total, 3u);
  EXPECT_EQ(names(paged.records), std::vector<std::string>{"Observation/o3/1@2"});
  EXPECT_TRUE(search({.offset = 3}).records.empty());
  EXPECT_EQ(names(search({.type = "Patient"}).records),
            std::vector<std::string>{"Patient/1/1@4"});
  EXPECT_EQ(search({.type = "Encounter"}).total, 0u);
  EXPECT_EQ(s.search_records(RecordQuery{}).status().code(), Code::kInvalidArgument);
}

TYPED_TEST(StorageRecords, EntriesWithKeyNewestFirstPaged) {
  Store& s = this->store();
  ASSERT_TRUE(this->append({{std::nullopt, {"Patient/1"}, std::nullopt},
                            {std::nullopt, {"Patient/2", "Patient/1"}, std::nullopt},
                            {std::nullopt, {}, std::nullopt},
                            {std::nullopt, {"Patient/1", "Patient/1"}, std::nullopt}}));
  ASSERT_TRUE(this->append({{std::nullopt, {"Patient/1"}, std::nullopt}}));
  EXPECT_EQ(*s.entries_with_key("Patient/1", 0, 10), (std::vector<uint64_t>{4, 3, 1, 0}));
  EXPECT_EQ(*s.entries_with_key("Patient/1", 1, 2), (std::vector<uint64_t>{3, 1}));
  EXPECT_EQ(*s.entries_with_key("Patient/1", 4, 2), std::vector<uint64_t>{});
  EXPECT_EQ(*s.entries_with_key("Patient/2", 0, 10), std::vector<uint64_t>{1});
  EXPECT_EQ(*s.entries_with_key("Patient/", 0, 10), std::vector<uint64_t>{});
}

TYPED_TEST(StorageRecords, ErasureRemovesContentAndKeepsTheRest) {
  Store& s = this->store();
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1, 10, "Patient/1"), {"Patient/1"}),
                            with_record(rec("Patient", "2", 1, 11, "Patient/2"), {"Patient/2"}),
                            with_record(rec("Patient", "1", 2, 12, "Patient/1"), {"Patient/1"}),
                            {std::nullopt, {"Patient/1", "Patient/2"}, std::nullopt}}));
  // The erasure is entry 4, recorded under the patient's key; it erases entries 0, 2 and 3.
  ASSERT_TRUE(this->append({{std::nullopt, {"Patient/1"}, Erasure{"Patient", "1", {0, 2, 3}}}}));

  for (uint64_t v : {0, 1, 2}) {
    EXPECT_EQ(s.read_record("Patient", "1", v).status().code(), Code::kNotFound) << v;
  }
  EXPECT_EQ(s.record_history("Patient", "1", 0, 10)->total, 0u);
  EXPECT_EQ(names(s.record_history("", "", 0, 10)->records),
            std::vector<std::string>{"Patient/2/1@1"});
  EXPECT_EQ(names(s.search_records({.type = "Patient", .include_deleted = true})->records),
            std::vector<std::string>{"Patient/2/1@1"});
  EXPECT_EQ(s.read_record("Patient", "2", 0)->bytes, "Patient/2/_history/1");
  for (uint64_t i : {0, 2, 3}) EXPECT_EQ(s.read_extra(i).status().code(), Code::kNotFound) << i;
  for (uint64_t i : {1, 4}) {
    Result<EntryExtra> e = s.read_extra(i);
    ASSERT_TRUE(e.is_ok()) << i << ": " << e.status().to_string();
    EXPECT_EQ(e->statement, extra_for(i).statement);
    EXPECT_EQ(e->salt, extra_for(i).salt);
  }
  EXPECT_EQ(*s.entries_with_key("Patient/1", 0, 10), std::vector<uint64_t>{4});
  EXPECT_EQ(*s.entries_with_key("Patient/2", 0, 10), std::vector<uint64_t>{1});

  // Erasing again (already erased entries, a record without versions) changes nothing else.
  ASSERT_TRUE(this->append({{std::nullopt, {}, Erasure{"Patient", "1", {0, 3}}}}));
  EXPECT_EQ(s.read_extra(1)->statement, extra_for(1).statement);
  // A version of an erased record can be written again (the record layer decides whether).
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1, 20))}));
  EXPECT_EQ(s.read_record("Patient", "1", 0)->ledger_index, 6u);
}

TYPED_TEST(StorageRecords, ErasureMayNameEntriesOfItsOwnBatch) {
  Store& s = this->store();
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1), {"k"}),
                            with_record(rec("Patient", "2", 1), {"k"}),
                            {std::nullopt, {"k"}, Erasure{"Patient", "1", {0, 2}}}}));
  EXPECT_EQ(s.read_record("Patient", "1", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(s.read_extra(0).status().code(), Code::kNotFound);
  EXPECT_EQ(s.read_extra(2).status().code(), Code::kNotFound);
  EXPECT_TRUE(s.read_extra(1).is_ok());
  EXPECT_EQ(*s.entries_with_key("k", 0, 10), std::vector<uint64_t>{1});
}

// A failed commit leaves nothing of its batch, and the store takes the old size again.
template <typename T>
void expect_nothing_of_entry_2(StorageRecords<T>& t) {
  Store& s = t.store();
  EXPECT_EQ(s.head()->size, 2u);
  EXPECT_EQ(s.read_extra(2).status().code(), Code::kNotFound);
  EXPECT_EQ(s.read_record("Patient", "9", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(s.read_record("Patient", "1", 0)->version, 1u);
  EXPECT_EQ(*s.entries_with_key("new", 0, 10), std::vector<uint64_t>{});
  EXPECT_EQ(s.read_extra(0)->statement, extra_for(0).statement) << "erasure rolled back";
  EXPECT_EQ(s.record_history("", "", 0, 10)->total, 2u);
}

TYPED_TEST(StorageRecords, AStoredVersionIsAConflictAndFailsTheWholeBatch) {
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1)), with_record(rec("Patient", "2", 1))}));
  Status s = this->append({with_record(rec("Patient", "9", 1), {"new"}),
                           {std::nullopt, {"new"}, Erasure{"Patient", "2", {0}}},
                           with_record(rec("Patient", "1", 1), {"new"})});
  EXPECT_EQ(s.code(), Code::kConflict) << s.to_string();
  expect_nothing_of_entry_2(*this);
  s = this->append({with_record(rec("Patient", "9", 1)), with_record(rec("Patient", "9", 1))});
  EXPECT_EQ(s.code(), Code::kConflict) << "twice in one batch: " << s.to_string();
  expect_nothing_of_entry_2(*this);
  ASSERT_TRUE(this->append({with_record(rec("Patient", "9", 1), {"new"})}));
  EXPECT_EQ(this->store().read_record("Patient", "9", 0)->ledger_index, 2u);
}

TYPED_TEST(StorageRecords, RejectsRowsThatDoNotBelongToTheBatch) {
  ASSERT_TRUE(this->append({with_record(rec("Patient", "1", 1)), with_record(rec("Patient", "2", 1))}));
  auto expect_invalid = [&](Batch b) {
    EXPECT_EQ(this->store().commit(b).code(), Code::kInvalidArgument);
    expect_nothing_of_entry_2(*this);
  };
  Batch b = batch_of(2, {with_record(rec("Patient", "9", 1), {"new"})});
  b.records[0].ledger_index = 1;  // an older entry
  expect_invalid(b);
  b = batch_of(2, {with_record(rec("Patient", "9", 0), {"new"})});
  expect_invalid(b);  // version 0 means "latest" in reads
  b = batch_of(2, {with_record(rec("Patient", "9", 1)), with_record(rec("Patient", "8", 1))});
  b.records[1].ledger_index = 2;
  expect_invalid(b);  // one entry commits to one record version
  b = batch_of(2, {with_record(rec("", "9", 1), {"new"})});
  expect_invalid(b);
  b = batch_of(2, {with_record(rec("Patient", "9", 1, 5, "", true), {"new"})});
  b.records[0].bytes = "{}";  // a deletion has no bytes
  expect_invalid(b);
  b = batch_of(2, {{std::nullopt, {"new"}, std::nullopt}});
  b.keys[0].index = 3;
  expect_invalid(b);
  b = batch_of(2, {{std::nullopt, {""}, std::nullopt}});
  expect_invalid(b);
  b = batch_of(2, {{std::nullopt, {"new"}, Erasure{"Patient", "1", {3}}}});
  expect_invalid(b);  // beyond the log
  RecordQuery many{.type = "Patient", .ids = std::vector<std::string>(kMaxQueryIds + 1, "1")};
  EXPECT_EQ(this->store().search_records(many).status().code(), Code::kInvalidArgument);
}

// A deterministic random workload on a store and on the in-memory reference; every query must
// answer the same.
template <typename Maker>
class StorageRecordsReference : public ::testing::Test {};
using SqlMakers = ::testing::Types<SqliteMaker, PostgresMaker>;
TYPED_TEST_SUITE(StorageRecordsReference, SqlMakers, MakerNames);

TYPED_TEST(StorageRecordsReference, AnswersLikeTheMemoryStore) {
  TypeParam tested;
  if (!tested.usable()) GTEST_SKIP() << testing::kNoTestPg;
  MemoryMaker memory;
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> types = {"Patient", "Observation", "Encounter"};
  std::map<std::pair<std::string, std::string>, uint64_t> versions;
  uint64_t size = 0;
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<Entry> entries;
    for (int i = pick(8) + 1; i > 0; --i) {
      const std::string type = types[static_cast<size_t>(pick(3))];
      const std::string id = std::to_string(pick(12));
      const std::string patient = "Patient/" + std::to_string(pick(4));
      Entry e = with_record(rec(type, id, ++versions[{type, id}],
                                static_cast<uint64_t>(pick(50)) * 100, patient, pick(6) == 0),
                            {patient});
      if (pick(25) == 0 && size > 0) {
        e = {std::nullopt, {patient}, Erasure{type, id, {static_cast<uint64_t>(pick(int(size)))}}};
      }
      entries.push_back(std::move(e));
    }
    Batch b = batch_of(size, entries);
    ASSERT_TRUE(tested.store().commit(b));
    ASSERT_TRUE(memory.store().commit(b));
    size = b.new_size;
  }
  auto same_page = [](const Result<RecordPage>& a, const Result<RecordPage>& b) {
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    EXPECT_EQ(a->total, b->total);
    EXPECT_EQ(names(a->records), names(b->records));
    for (size_t i = 0; i < a->records.size() && i < b->records.size(); ++i) {
      EXPECT_EQ(a->records[i].bytes, b->records[i].bytes);
      EXPECT_EQ(a->records[i].deleted, b->records[i].deleted);
      EXPECT_EQ(a->records[i].updated_ms, b->records[i].updated_ms);
      EXPECT_EQ(a->records[i].compartment, b->records[i].compartment);
    }
  };
  for (int q = 0; q < 300; ++q) {
    const std::string type = types[static_cast<size_t>(pick(3))];
    const std::string id = std::to_string(pick(12));
    const uint64_t offset = static_cast<uint64_t>(pick(20)), limit = static_cast<uint64_t>(pick(30));
    const std::string history_type = pick(3) ? type : "";
    const std::string history_id = pick(2) && !history_type.empty() ? id : "";
    same_page(tested.store().record_history(history_type, history_id, offset, limit),
              memory.store().record_history(history_type, history_id, offset, limit));
    RecordQuery query{.type = type, .offset = offset, .limit = limit};
    if (pick(3) == 0) query.ids = {id, std::to_string(pick(12)), std::to_string(pick(12))};
    if (pick(3) == 0) query.compartment = "Patient/" + std::to_string(pick(4));
    if (pick(3) == 0) query.updated_from_ms = static_cast<uint64_t>(pick(50)) * 100;
    if (pick(3) == 0) query.updated_to_ms = static_cast<uint64_t>(pick(50)) * 100;
    query.include_deleted = pick(2) == 0;
    same_page(tested.store().search_records(query), memory.store().search_records(query));
    const std::string key = "Patient/" + std::to_string(pick(4));
    EXPECT_EQ(*tested.store().entries_with_key(key, offset, limit),
              *memory.store().entries_with_key(key, offset, limit));
    const uint64_t version = static_cast<uint64_t>(pick(4));
    Result<RecordVersion> a = tested.store().read_record(type, id, version);
    Result<RecordVersion> b = memory.store().read_record(type, id, version);
    ASSERT_EQ(a.status().code(), b.status().code());
    if (a.is_ok()) {
      EXPECT_EQ(names({*a}), names({*b}));
    }
  }
  for (uint64_t i = 0; i < size; ++i) {
    EXPECT_EQ(tested.store().read_extra(i).status().code(),
              memory.store().read_extra(i).status().code()) << i;
  }
}

// --- SQLite only

TEST(StorageRecordsSqlite, AFullDiskFailsTheBatchWithItsRecordsAndKeys) {
  TempDir dir;
  auto store = open_sqlite(dir.path() + "/log.db");
  ASSERT_TRUE(store->commit(batch_of(0, {with_record(rec("Patient", "1", 1), {"k"})})));
  ASSERT_TRUE(store->set_full_for_test(true));
  std::vector<Entry> big;
  for (int i = 0; i < 500; ++i) {
    RecordVersion r = rec("Observation", std::to_string(i), 1);
    r.bytes = std::string(4000, 'x');  // needs new pages
    big.push_back(with_record(std::move(r), {"k"}));
  }
  big.push_back({std::nullopt, {}, Erasure{"Patient", "1", {0}}});
  Status s = store->commit(batch_of(1, big));
  ASSERT_EQ(s.code(), Code::kIoError) << s.to_string();
  EXPECT_EQ(store->head()->size, 1u);
  EXPECT_EQ(store->record_history("", "", 0, 10)->total, 1u);
  EXPECT_EQ(*store->entries_with_key("k", 0, 10), std::vector<uint64_t>{0});
  EXPECT_TRUE(store->read_extra(0).is_ok());
  EXPECT_TRUE(store->read_record("Patient", "1", 1).is_ok());
  ASSERT_TRUE(store->set_full_for_test(false));
  ASSERT_TRUE(store->commit(batch_of(1, big)));
  EXPECT_EQ(store->record_history("Observation", "", 0, 10)->total, 500u);
  EXPECT_EQ(store->read_record("Patient", "1", 1).status().code(), Code::kNotFound);
}

TEST(StorageRecordsSqlite, ReopenKeepsRecordsKeysAndErasures) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  {
    auto store = open_sqlite(path);
    ASSERT_TRUE(store->commit(batch_of(0, {with_record(rec("Patient", "1", 1, 5, "Patient/1"), {"k"}),
                                           with_record(rec("Patient", "2", 1, 6, "Patient/2"), {"k"})})));
    ASSERT_TRUE(store->commit(batch_of(2, {{std::nullopt, {"k"}, Erasure{"Patient", "2", {1}}}})));
  }
  auto store = open_sqlite(path);
  Result<RecordVersion> r = store->read_record("Patient", "1", 0);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->bytes, "Patient/1/_history/1");
  EXPECT_EQ(r->compartment, "Patient/1");
  EXPECT_EQ(r->updated_ms, 5u);
  EXPECT_EQ(store->read_record("Patient", "2", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(store->read_extra(1).status().code(), Code::kNotFound);
  EXPECT_EQ(*store->entries_with_key("k", 0, 10), (std::vector<uint64_t>{2, 0}));
  EXPECT_EQ(store->search_records({.type = "Patient"})->total, 1u);
  ASSERT_TRUE(store->commit(batch_of(3, {with_record(rec("Patient", "1", 2))})));
}

// A file written before the record tables existed (schema version 1) is migrated on open.
TEST(StorageRecordsSqlite, MigratesAVersion1File) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  {
    auto store = open_sqlite(path);
    ASSERT_TRUE(store->commit(batch_of(0, {{}, {}, {}})));
  }
  raw_exec(path,
           "DROP TABLE record_versions; DROP TABLE entry_keys; "
           "UPDATE schema_version SET version = 1");
  {
    auto store = open_sqlite(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->head()->size, 3u);
    EXPECT_EQ(store->read_extra(2)->statement, extra_for(2).statement);
    EXPECT_EQ(store->read_record("Patient", "1", 0).status().code(), Code::kNotFound);
    ASSERT_TRUE(store->commit(batch_of(3, {with_record(rec("Patient", "1", 1), {"k"}),
                                           {std::nullopt, {}, Erasure{"Patient", "0", {1}}}})));
  }
  auto store = open_sqlite(path);
  EXPECT_EQ(store->read_record("Patient", "1", 0)->ledger_index, 3u);
  EXPECT_EQ(*store->entries_with_key("k", 0, 10), std::vector<uint64_t>{3});
  EXPECT_EQ(store->read_extra(1).status().code(), Code::kNotFound);
  EXPECT_TRUE(store->read_extra(0).is_ok());
}

// Every page and its total come from one snapshot while batches of ten records commit.
TEST(StorageRecordsSqlite, ReadersSeeWholeBatchesOfRecords) {
  TempDir dir;
  auto store = open_sqlite(dir.path() + "/log.db");
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      Result<RecordPage> h = store->record_history("Patient", "", 0, 100);
      Result<RecordPage> s = store->search_records({.type = "Patient", .limit = 5});
      if (!h || h->total % 10 != 0 || h->records.size() != std::min<uint64_t>(h->total, 100)) ++torn;
      if (!s || s->total % 10 != 0) ++torn;
      ++reads;
    }
  });
  for (uint64_t b = 0; b < 30; ++b) {
    std::vector<Entry> entries;
    for (int i = 0; i < 10; ++i) {
      entries.push_back(with_record(rec("Patient", std::to_string(b * 10 + i), 1), {"k"}));
    }
    ASSERT_TRUE(store->commit(batch_of(b * 10, entries)));
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads, 0);
}

TEST(StorageRecordsCodec, ErasingAnEntryKeepsItsNeighbours) {
  const EntryExtra extras[] = {extra_for(0), {std::string(32, 's'), std::string(300, 'x')},
                               extra_for(2)};
  Result<std::vector<ExtrasRun>> runs = encode_extras_runs(0, extras);
  ASSERT_TRUE(runs.is_ok());
  const std::string& row = (*runs)[0].data;
  Result<std::string> erased = erase_extra_at(row, 1);
  ASSERT_TRUE(erased.is_ok()) << erased.status().to_string();
  EXPECT_EQ(erased->size(), row.size() - 32 - 4 - 300) << "salt and statement are gone";
  EXPECT_EQ(decode_extra_at(*erased, 1).status().code(), Code::kNotFound);
  for (uint64_t i : {0, 2}) {
    Result<EntryExtra> e = decode_extra_at(*erased, i);
    ASSERT_TRUE(e.is_ok()) << i;
    EXPECT_EQ(e->statement, extras[i].statement);
    EXPECT_EQ(e->salt, extras[i].salt);
  }
  EXPECT_EQ(*erase_extra_at(*erased, 1), *erased) << "erasing twice changes nothing";
  EXPECT_EQ(erase_extra_at(row, 3).status().code(), Code::kNotFound);
  EXPECT_EQ(erase_extra_at(row.substr(0, row.size() - 1), 2).status().code(), Code::kInternal);
  EXPECT_EQ(erase_extra_at(std::string("\x07"), 0).status().code(), Code::kInternal);
}

}  // namespace
}  // namespace medseal::storage
