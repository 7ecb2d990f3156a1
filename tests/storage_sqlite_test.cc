// The embedded SQLite store: round trips, the old_size precondition, extras runs, schema
// versioning, atomic visibility to concurrent readers, and real storage faults (full, read-only).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "storage/extras_codec.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/paths.h"
#include "support/store_batches.h"
#include "support/raw_sqlite.h"

namespace medseal::storage {
namespace {

using medseal::testing::raw_exec;

using testing::TempDir;

using testing::extra_for;
using testing::hashes;
using testing::make_batch;

std::unique_ptr<SqliteStore> open_store(const std::string& path) {
  Result<std::unique_ptr<SqliteStore>> s = open_sqlite_store(path, SqliteStoreOptions{});
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? std::move(*s) : nullptr;
}

void expect_head(Store& store, uint64_t size) {
  Result<LogHead> head = store.head();
  ASSERT_TRUE(head.is_ok()) << head.status().to_string();
  EXPECT_EQ(head->size, size);
  EXPECT_EQ(head->checkpoint, size == 0 ? "" : "checkpoint@" + std::to_string(size));
}

TEST(StorageSqlite, NewStoreIsEmpty) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  ASSERT_NE(store, nullptr);
  expect_head(*store, 0);
  EXPECT_EQ(store->read_tile(false, 0, 0).status().code(), Code::kNotFound);
  EXPECT_EQ(store->read_extra(0).status().code(), Code::kNotFound);
}

TEST(StorageSqlite, CommitRoundTripsTilesExtrasAndHead) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  ASSERT_TRUE(store->commit(make_batch(0, 10)));
  ASSERT_TRUE(store->commit(make_batch(10, 300)));  // completes tile 0, starts tile 1
  expect_head(*store, 310);
  Result<StoredTile> full = store->read_tile(false, 0, 0);
  ASSERT_TRUE(full.is_ok());
  EXPECT_EQ(full->width, 256u);
  Result<StoredTile> partial = store->read_tile(false, 0, 1);
  ASSERT_TRUE(partial.is_ok());
  EXPECT_EQ(partial->width, 54u);
  EXPECT_EQ(partial->bytes, hashes(54, 'h'));
  EXPECT_EQ(partial->nodes, std::string(960, 'n'));
  Result<StoredTile> bundle = store->read_tile(true, 0, 1);
  ASSERT_TRUE(bundle.is_ok());
  EXPECT_EQ(bundle->bytes, "bundle@310");
  EXPECT_EQ(bundle->nodes, "") << "no nodes stored: NULL reads back empty";
  EXPECT_EQ(store->read_tile(true, 1, 0).status().code(), Code::kNotFound);
  for (uint64_t i = 0; i < 310; ++i) {
    Result<EntryExtra> e = store->read_extra(i);
    ASSERT_TRUE(e.is_ok()) << i << ": " << e.status().to_string();
    EXPECT_EQ(e->salt, extra_for(i).salt);
    EXPECT_EQ(e->statement, extra_for(i).statement);
  }
  EXPECT_EQ(store->read_extra(310).status().code(), Code::kNotFound);
}

TEST(StorageSqlite, ReadTilesReturnsThemInOrderOrNotFound) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  ASSERT_TRUE(store->commit(make_batch(0, 600)));
  const TileRef refs[] = {{false, 0, 2}, {true, 0, 0}, {false, 0, 0}};
  Result<std::vector<StoredTile>> tiles = store->read_tiles(refs);
  ASSERT_TRUE(tiles.is_ok()) << tiles.status().to_string();
  ASSERT_EQ(tiles->size(), 3u);
  EXPECT_EQ((*tiles)[0].width, 88u);
  EXPECT_EQ((*tiles)[1].bytes, "bundle@256");
  EXPECT_EQ((*tiles)[2].width, 256u);
  const TileRef missing[] = {{false, 0, 1}, {false, 0, 3}};
  for (int i = 0; i < 8; ++i) {  // more than the idle readers: each must have ended its read
    EXPECT_EQ(store->read_tiles(missing).status().code(), Code::kNotFound);
  }
  // A reader left inside its read transaction would fail its next BEGIN.
  EXPECT_TRUE(store->read_tiles(refs).is_ok());
}

TEST(StorageSqlite, PartialTileIsReplacedByTheWiderOne) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  ASSERT_TRUE(store->commit(make_batch(0, 3)));
  ASSERT_TRUE(store->commit(make_batch(3, 2)));
  Result<StoredTile> t = store->read_tile(false, 0, 0);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->width, 5u);
  EXPECT_EQ(t->bytes.size(), 5u * 32);
}

TEST(StorageSqlite, CommitRequiresTheStoredSize) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  ASSERT_TRUE(store->commit(make_batch(0, 5)));
  for (uint64_t wrong : {0, 4, 6}) {
    Status s = store->commit(make_batch(wrong, 3));
    EXPECT_EQ(s.code(), Code::kFailedPrecondition) << wrong << ": " << s.to_string();
  }
  expect_head(*store, 5);
  EXPECT_EQ(store->read_extra(5).status().code(), Code::kNotFound);
  ASSERT_TRUE(store->commit(make_batch(5, 3)));  // the right size still works
  expect_head(*store, 8);
}

TEST(StorageSqlite, RejectsInconsistentBatches) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  Batch b = make_batch(0, 4);
  b.new_size = 5;
  EXPECT_EQ(store->commit(b).code(), Code::kInvalidArgument);
  b = make_batch(0, 4);
  b.tiles[0].bytes.pop_back();
  EXPECT_EQ(store->commit(b).code(), Code::kInvalidArgument);
  b = make_batch(0, 4);
  b.extras[2].salt = "short";
  EXPECT_EQ(store->commit(b).code(), Code::kInvalidArgument);
  expect_head(*store, 0);
}

TEST(StorageSqlite, ExtrasOfAnySizeRoundTrip) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  Batch b = make_batch(0, 3);
  b.extras[0].statement = "";
  b.extras[1].statement = std::string(200'000, 'x');
  b.extras[2].statement = std::string("\0\xff\n", 3);
  ASSERT_TRUE(store->commit(b));
  for (uint64_t i = 0; i < 3; ++i) {
    Result<EntryExtra> e = store->read_extra(i);
    ASSERT_TRUE(e.is_ok());
    EXPECT_EQ(e->statement, b.extras[i].statement);
  }
}

TEST(StorageSqlite, ReopenKeepsEverything) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  {
    auto store = open_store(path);
    ASSERT_TRUE(store->commit(make_batch(0, 700)));
  }
  auto store = open_store(path);
  expect_head(*store, 700);
  Result<EntryExtra> e = store->read_extra(699);
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->statement, "statement 699");
  ASSERT_TRUE(store->commit(make_batch(700, 1)));
}

TEST(StorageSqlite, FileIsInWalMode) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  auto store = open_store(path);
  ASSERT_TRUE(store->commit(make_batch(0, 1)));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(StorageSqlite, RefusesANewerSchema) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  { ASSERT_NE(open_store(path), nullptr); }
  raw_exec(path, "UPDATE schema_version SET version = 99");
  Result<std::unique_ptr<Store>> s = open_sqlite_store(path);
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition) << s.status().to_string();
}

TEST(StorageSqlite, NotADatabaseIsAnIoError) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(std::string(4096, 'z').c_str(), f);
    std::fclose(f);
  }
  Result<std::unique_ptr<Store>> s = open_sqlite_store(path);
  EXPECT_EQ(s.status().code(), Code::kIoError) << s.status().to_string();
}

// Readers see a batch entirely or not at all, and are not blocked by the writer.
TEST(StorageSqlite, ReadersSeeWholeBatches) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      Result<LogHead> h = store->head();
      if (!h || (h->size != 0 && h->checkpoint != "checkpoint@" + std::to_string(h->size))) ++torn;
      if (h && h->size > 0 && !store->read_extra(h->size - 1)) ++torn;
      ++reads;
    }
  });
  uint64_t size = 0;
  for (int i = 0; i < 50; ++i, size += 37) ASSERT_TRUE(store->commit(make_batch(size, 37)));
  done = true;
  reader.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads, 0);
}

TEST(StorageSqlite, DiskFullFailsTheCommitAndClears) {
  TempDir dir;
  auto store = open_store(dir.path() + "/log.db");
  ASSERT_TRUE(store->commit(make_batch(0, 10)));
  ASSERT_TRUE(store->set_full_for_test(true));
  Batch big = make_batch(10, 2000);  // needs new pages
  Status s = store->commit(big);
  ASSERT_EQ(s.code(), Code::kIoError) << s.to_string();
  EXPECT_NE(s.message().find("full"), std::string::npos) << s.message();
  expect_head(*store, 10);
  EXPECT_EQ(store->read_extra(10).status().code(), Code::kNotFound);
  ASSERT_TRUE(store->set_full_for_test(false));
  ASSERT_TRUE(store->commit(big)) << "the same batch commits once the fault clears";
  expect_head(*store, 2010);
}

// The background checkpointer copies the WAL into the database while commits continue, so the WAL
// restarts instead of growing with everything written (as it would if checkpoints silently did
// nothing, which a connection that never read does).
TEST(StorageSqlite, CheckpointsKeepTheWalBounded) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  auto store = open_store(path);
  uint64_t size = 0;
  for (int i = 0; i < 60; ++i) {  // ~60 MB in ~1 MB batches
    Batch b = make_batch(size, 4096);
    for (EntryExtra& e : b.extras) e.statement.resize(220, 'x');
    ASSERT_TRUE(store->commit(b));
    size = b.new_size;
  }
  const auto wal = std::filesystem::file_size(path + "-wal");
  const auto db = std::filesystem::file_size(path);
  // The writer checkpoints past 16 MiB, but a checkpoint that finds the background thread at work
  // is retried one batch later, so on a busy machine the WAL can pass that by a few batches.
  EXPECT_LT(wal, 40u << 20) << "the WAL holds most of what was written: no checkpoints ran";
  EXPECT_GT(db, 40u << 20) << "the database file did not receive the checkpointed pages";
}

// Below the writer's own checkpoint threshold, the background thread alone copies the WAL.
TEST(StorageSqlite, BackgroundCheckpointsRunWhileTheWriterIsIdle) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  auto store = open_store(path);
  Batch b = make_batch(0, 4096);
  for (EntryExtra& e : b.extras) e.statement.resize(1000, 'x');  // ~4 MB, well below 16 MiB
  ASSERT_TRUE(store->commit(b));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // Until a checkpoint copies pages into it, the database file holds little more than its header.
  auto has_pages = [&] { return std::filesystem::file_size(path) > (2u << 20); };
  while (!has_pages() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(has_pages()) << "nothing was checkpointed into the database file";
}

// Makes a file read-only for everyone, root included (root ignores mode bits, not the
// immutable attribute). Returns false if neither works here.
bool make_read_only(const std::string& path) {
  if (geteuid() != 0) return chmod(path.c_str(), 0444) == 0;
  return std::system(("chattr +i '" + path + "' 2>/dev/null").c_str()) == 0;
}

void make_writable(const std::string& path) {
  if (geteuid() == 0) (void)std::system(("chattr -i '" + path + "' 2>/dev/null").c_str());
  chmod(path.c_str(), 0644);
}

TEST(StorageSqlite, ReadOnlyFileFailsWritesNotReads) {
  TempDir dir;
  const std::string path = dir.path() + "/log.db";
  { ASSERT_TRUE(open_store(path)->commit(make_batch(0, 20))); }
  ASSERT_FALSE(std::filesystem::exists(path + "-wal")) << "a clean close folds the WAL in";
  if (!make_read_only(path)) GTEST_SKIP() << "cannot make a file read-only here";
  {
    Result<std::unique_ptr<Store>> s = open_sqlite_store(path);
    if (s.is_ok()) {
      Status c = (*s)->commit(make_batch(20, 5));
      std::cerr << "read-only file: open succeeds, commit fails: " << c.to_string() << "\n";
      EXPECT_EQ(c.code(), Code::kIoError) << c.to_string();
      EXPECT_NE(c.message().find("read-only"), std::string::npos) << c.message();
      expect_head(**s, 20);
    } else {
      std::cerr << "read-only file: open fails: " << s.status().to_string() << "\n";
      EXPECT_EQ(s.status().code(), Code::kIoError) << s.status().to_string();
    }
  }
  make_writable(path);
  auto store = open_store(path);
  expect_head(*store, 20);
  ASSERT_TRUE(store->commit(make_batch(20, 5)));
  expect_head(*store, 25);
}

// --- the extras row codec shared by all drivers ---

TEST(StorageExtrasCodec, RunsNeverCrossA256Boundary) {
  std::vector<EntryExtra> extras;
  for (uint64_t i = 0; i < 600; ++i) extras.push_back(extra_for(i));
  Result<std::vector<ExtrasRun>> runs = encode_extras_runs(250, extras);
  ASSERT_TRUE(runs.is_ok());
  ASSERT_EQ(runs->size(), 4u);
  EXPECT_EQ((*runs)[0].first_index, 250u);
  EXPECT_EQ((*runs)[0].count, 6u);
  EXPECT_EQ((*runs)[1].first_index, 256u);
  EXPECT_EQ((*runs)[1].count, 256u);
  EXPECT_EQ((*runs)[3].first_index, 768u);
  EXPECT_EQ((*runs)[3].count, 82u);
  Result<EntryExtra> e = decode_extra_at((*runs)[1].data, 255);
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->statement, extras[511 - 250].statement);
  EXPECT_EQ(decode_extra_at((*runs)[1].data, 256).status().code(), Code::kNotFound);
}

TEST(StorageExtrasCodec, ErasedAndMalformedRows) {
  std::vector<EntryExtra> extras = {extra_for(0), extra_for(1)};
  Result<std::vector<ExtrasRun>> runs = encode_extras_runs(0, extras);
  ASSERT_TRUE(runs.is_ok());
  std::string data = (*runs)[0].data;
  // Erase entry 0 the way an erasure would: its flags byte becomes 0x01 and its bytes go.
  const size_t first_len = 1 + 32 + 4 + extras[0].statement.size();
  std::string erased = "\x01" + data.substr(first_len);
  EXPECT_EQ(decode_extra_at(erased, 0).status().code(), Code::kNotFound);
  Result<EntryExtra> e = decode_extra_at(erased, 1);
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->statement, extras[1].statement);
  EXPECT_EQ(decode_extra_at(data.substr(0, 20), 0).status().code(), Code::kInternal);
  EXPECT_EQ(decode_extra_at(data.substr(0, data.size() - 1), 1).status().code(), Code::kInternal);
  EXPECT_EQ(decode_extra_at("\x07" + data.substr(1), 0).status().code(), Code::kInternal);
}

}  // namespace
}  // namespace medseal::storage
