// The Store contract on both stores (round trips, the old_size precondition, atomic visibility,
// schema versions, two writers on one place), and what only the PostgreSQL store has to prove:
// values never become SQL, a killed session fails one commit and the next one works, several
// processes migrate one database at once, and messages never carry the password.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/postgres/pg_store.h"
#include "support/store_batches.h"
#include "support/test_stores.h"

namespace medseal::storage {
namespace {

using testing::StoreKind;
using testing::StoreSpace;

using testing::extra_for;
using testing::hashes;
using testing::make_batch;

class StoreContract : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kPostgres && testing::test_pg_url().empty()) {
      GTEST_SKIP() << testing::kNoTestPg;
    }
    space_ = std::make_unique<StoreSpace>(GetParam());
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    space_.reset();
  }

  std::unique_ptr<Store> open() {
    Result<std::unique_ptr<Store>> s = space_->open();
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return s.is_ok() ? std::move(*s) : nullptr;
  }

  void expect_head(Store& store, uint64_t size) {
    Result<LogHead> head = store.head();
    ASSERT_TRUE(head.is_ok()) << head.status().to_string();
    EXPECT_EQ(head->size, size);
    EXPECT_EQ(head->checkpoint, size == 0 ? "" : "checkpoint@" + std::to_string(size));
  }

  std::unique_ptr<StoreSpace> space_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, CommitRoundTripsTilesExtrasAndHead) {
  expect_head(*store_, 0);
  EXPECT_EQ(store_->read_tile(false, 0, 0).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->read_extra(0).status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->commit(make_batch(0, 10)));
  ASSERT_TRUE(store_->commit(make_batch(10, 300)));
  expect_head(*store_, 310);
  Result<StoredTile> partial = store_->read_tile(false, 0, 1);
  ASSERT_TRUE(partial.is_ok()) << partial.status().to_string();
  EXPECT_EQ(partial->width, 54u);
  EXPECT_EQ(partial->bytes, hashes(54, 'h'));
  EXPECT_EQ(partial->nodes, std::string(960, 'n'));
  EXPECT_EQ(store_->read_tile(true, 0, 1)->nodes, "") << "no nodes stored: NULL reads back empty";
  const TileRef refs[] = {{false, 0, 1}, {true, 0, 0}, {false, 0, 0}};
  Result<std::vector<StoredTile>> tiles = store_->read_tiles(refs);
  ASSERT_TRUE(tiles.is_ok()) << tiles.status().to_string();
  EXPECT_EQ((*tiles)[1].bytes, "bundle@256");
  EXPECT_EQ((*tiles)[2].width, 256u);
  const TileRef missing[] = {{false, 0, 0}, {false, 0, 9}};
  EXPECT_EQ(store_->read_tiles(missing).status().code(), Code::kNotFound);
  for (uint64_t i = 0; i < 310; ++i) {
    Result<EntryExtra> e = store_->read_extra(i);
    ASSERT_TRUE(e.is_ok()) << i << ": " << e.status().to_string();
    EXPECT_EQ(e->salt, extra_for(i).salt);
    EXPECT_EQ(e->statement, extra_for(i).statement);
  }
  EXPECT_EQ(store_->read_extra(310).status().code(), Code::kNotFound);
}

TEST_P(StoreContract, AWrongOldSizeIsAPreconditionAndWritesNothing) {
  ASSERT_TRUE(store_->commit(make_batch(0, 5)));
  EXPECT_EQ(store_->commit(make_batch(3, 5)).code(), Code::kFailedPrecondition);
  EXPECT_EQ(store_->commit(make_batch(6, 5)).code(), Code::kFailedPrecondition);
  expect_head(*store_, 5);
  EXPECT_EQ(store_->read_extra(6).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->commit(make_batch(5, 5)));
}

TEST_P(StoreContract, TwoWritersOnOnePlaceSerializeAndTheSecondIsRefused) {
  std::unique_ptr<Store> other = open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store_->commit(make_batch(0, 5)));
  EXPECT_EQ(other->commit(make_batch(0, 5)).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(other->commit(make_batch(5, 1)));
  expect_head(*store_, 6);
}

TEST_P(StoreContract, ReopenKeepsEverything) {
  ASSERT_TRUE(store_->commit(make_batch(0, 300)));
  store_ = open();
  ASSERT_NE(store_, nullptr);
  expect_head(*store_, 300);
  EXPECT_EQ(store_->read_extra(299)->statement, "statement 299");
  EXPECT_TRUE(store_->commit(make_batch(300, 1)));
}

TEST_P(StoreContract, ANewerSchemaIsRefused) {
  store_.reset();
  space_->raw_exec("UPDATE schema_version SET version = 99");
  Result<std::unique_ptr<Store>> s = space_->open();
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition) << s.status().to_string();
}

// A reader never sees a head without its tiles and extras, nor half a batch.
TEST_P(StoreContract, ReadersSeeWholeBatches) {
  std::atomic<bool> done{false};
  std::atomic<int> checked{0}, torn{0};
  std::thread reader([&] {
    while (!done) {
      Result<LogHead> head = store_->head();
      if (!head || head->size == 0) continue;
      const uint64_t last = head->size - 1;
      const TileRef ref[] = {{true, 0, last / 256}};
      Result<std::vector<StoredTile>> bundle = store_->read_tiles(ref);
      if (!bundle || !store_->read_extra(last).is_ok()) ++torn;
      ++checked;
    }
  });
  uint64_t size = 0;
  for (int i = 0; i < 60; ++i, size += 7) ASSERT_TRUE(store_->commit(make_batch(size, 7)));
  done = true;
  reader.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(BothStores, StoreContract, ::testing::ValuesIn(testing::all_store_kinds()),
                         testing::StoreKindName());

class PostgresStoreTest : public StoreContract {};

// Every value travels as a parameter: SQL in names, statements and bytes is stored verbatim.
TEST_P(PostgresStoreTest, ValuesAreNeverSql) {
  const std::string evil = "x'); DROP TABLE log_head; --";
  Batch b = make_batch(0, 1);
  b.extras[0].statement = evil;
  b.checkpoint = "checkpoint@1";
  b.records.push_back({"Patient", evil, 1, 0, 5, false, "Patient/" + evil, evil});
  b.keys.push_back({evil, 0});
  ASSERT_TRUE(store_->commit(b));
  EXPECT_EQ(store_->read_extra(0)->statement, evil);
  Result<RecordVersion> r = store_->read_record("Patient", evil, 0);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->bytes, evil);
  EXPECT_EQ(*store_->entries_with_key(evil, 0, 10), std::vector<uint64_t>{0});
  RecordQuery q{.type = "Patient", .compartment = "Patient/" + evil};
  EXPECT_EQ(store_->search_records(q)->total, 1u);
  expect_head(*store_, 1);
}

// PostgreSQL text holds neither NUL nor invalid UTF-8: such a batch is refused whole.
TEST_P(PostgresStoreTest, TextItCannotHoldIsInvalidAndWritesNothing) {
  for (const std::string& bad : {std::string("a\0b", 3), std::string("\xff\xfe")}) {
    Batch b = make_batch(0, 1);
    b.records.push_back({"Patient", bad, 1, 0, 5, false, "", "{}"});
    EXPECT_EQ(store_->commit(b).code(), Code::kInvalidArgument);
  }
  expect_head(*store_, 0);
  EXPECT_TRUE(store_->commit(make_batch(0, 1)));
}

// The server ends every session of the store (a restart, a failover, an administrator): the
// commit that finds its session gone fails with kIoError, nothing of it is visible, and the
// store reconnects for the next one. Reads do the same.
TEST_P(PostgresStoreTest, AKilledSessionFailsOneCallAndTheStoreReconnects) {
  ASSERT_TRUE(store_->commit(make_batch(0, 3)));
  auto kill_sessions = [&] {
    space_->raw_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                     "application_name = '" + space_->schema() + "' AND pid <> pg_backend_pid()");
  };
  kill_sessions();
  Status s = store_->commit(make_batch(3, 3));
  EXPECT_EQ(s.code(), Code::kIoError) << s.to_string();
  expect_head(*store_, 3);
  EXPECT_TRUE(store_->commit(make_batch(3, 3)));
  kill_sessions();
  EXPECT_EQ(store_->head().status().code(), Code::kIoError);
  expect_head(*store_, 6);
}

// Nodes starting together: the advisory lock makes one of them create the schema.
TEST_P(PostgresStoreTest, ConcurrentOpensMigrateOnce) {
  store_.reset();
  StoreSpace fresh(StoreKind::kPostgres);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Result<std::unique_ptr<Store>> s = fresh.open();
      if (s && (*s)->head().is_ok()) ++ok;
      if (!s) ADD_FAILURE() << s.status().to_string();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, 4);
}

TEST_P(PostgresStoreTest, AnUnreachableServerIsAnIoErrorWithoutThePassword) {
  Result<std::unique_ptr<Store>> s =
      open_postgres_store("postgresql://someone:s3cretpw@127.0.0.1:1/ledger?connect_timeout=2");
  EXPECT_EQ(s.status().code(), Code::kIoError);
  EXPECT_EQ(s.status().message().find("s3cretpw"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("127.0.0.1:1/ledger"), std::string::npos)
      << s.status().message();
}

INSTANTIATE_TEST_SUITE_P(Only, PostgresStoreTest, ::testing::Values(StoreKind::kPostgres),
                         testing::StoreKindName());

}  // namespace
}  // namespace medseal::storage
