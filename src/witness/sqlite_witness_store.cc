#include "witness/sqlite_witness_store.h"

#include <mutex>
#include <utility>

#include "storage/sqlite/sqlite_db.h"

namespace medseal::witness {
namespace {

using storage::sqlite::Db;
using storage::sqlite::Stmt;

constexpr int64_t kSchemaVersion = 1;

constexpr const char* kCreateSchema =
    "CREATE TABLE IF NOT EXISTS witness_logs ("
    " origin TEXT PRIMARY KEY NOT NULL,"
    " size INTEGER NOT NULL,"   // uint64 stored bit for bit in SQLite's int64
    " root BLOB NOT NULL,"
    " checkpoint TEXT NOT NULL);"
    "PRAGMA user_version = 1;";
constexpr const char* kSelect = "SELECT size, root FROM witness_logs WHERE origin = ?1";
constexpr const char* kUpsert =
    "INSERT INTO witness_logs (origin, size, root, checkpoint) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, checkpoint = ?4";

Status prepare_schema(Db& db) {
  MEDSEAL_RETURN_IF_ERROR(storage::sqlite::use_durable_wal(db));
  return storage::sqlite::create_small_schema(db, kSchemaVersion, kCreateSchema, "witness store");
}

class SqliteWitnessStore final : public WitnessStore {
 public:
  Status open(const std::string& path) {
    auto db = Db::open(path, true);
    if (!db) return db.status();
    db_ = std::move(*db);
    MEDSEAL_RETURN_IF_ERROR(prepare_schema(db_));
    const std::pair<Stmt*, const char*> all[] = {{&select_, kSelect}, {&upsert_, kUpsert},
                                                 {&begin_, "BEGIN IMMEDIATE"}, {&commit_, "COMMIT"},
                                                 {&rollback_, "ROLLBACK"}};
    for (auto [stmt, sql] : all) {
      auto prepared = Stmt::prepare(db_, sql);
      if (!prepared) return prepared.status();
      *stmt = std::move(*prepared);
    }
    return Status::ok();
  }

  Result<std::optional<LogState>> latest(std::string_view origin) override {
    std::lock_guard lock(mu_);
    return read_state(origin);
  }

  Result<SetOutcome> compare_and_set(std::string_view origin, uint64_t expected_size,
                                     const LogState& next, std::string_view checkpoint_note) override {
    std::lock_guard lock(mu_);
    MEDSEAL_RETURN_IF_ERROR(begin_.start().run("begin witness update"));
    auto outcome = check_and_write(origin, expected_size, next, checkpoint_note);
    Status done = outcome ? commit_.start().run("commit witness update") : outcome.status();
    if (!done) {
      if (db_.in_transaction()) (void)rollback_.start().run("roll back witness update");
      return done;
    }
    return outcome;
  }

 private:
  Result<std::optional<LogState>> read_state(std::string_view origin) {
    auto row = select_.start().bind_text(1, origin).step("read witness state");
    if (!row) return row.status();
    if (!*row) return std::optional<LogState>();
    auto root = hash_from(select_.column_blob(1));
    LogState state{static_cast<uint64_t>(select_.column_int(0)), root.value_or(Hash{})};
    select_.start();  // end the statement now
    if (!root) return Status::internal("witness store: a stored root is not 32 bytes");
    return std::optional<LogState>(state);
  }

  // Inside the IMMEDIATE transaction: nobody else can write between the read and the write.
  Result<SetOutcome> check_and_write(std::string_view origin, uint64_t expected_size,
                                     const LogState& next, std::string_view checkpoint_note) {
    auto current = read_state(origin);
    if (!current) return current.status();
    const uint64_t size = *current ? (*current)->size : 0;
    if (size != expected_size) return SetOutcome{false, *current};
    if (next.size < size) return Status::internal("witness store: refusing to roll a log back");
    MEDSEAL_RETURN_IF_ERROR(upsert_.start()
                                .bind_text(1, origin)
                                .bind(2, static_cast<int64_t>(next.size))
                                .bind_blob(3, as_view(next.root))
                                .bind_text(4, checkpoint_note)
                                .run("write witness state"));
    return SetOutcome{true, next};
  }

  std::mutex mu_;
  Db db_;
  Stmt select_, upsert_, begin_, commit_, rollback_;
};

}  // namespace

Result<std::unique_ptr<WitnessStore>> open_sqlite_witness_store(const std::string& path) {
  auto store = std::make_unique<SqliteWitnessStore>();
  MEDSEAL_RETURN_IF_ERROR(store->open(path));
  return std::unique_ptr<WitnessStore>(std::move(store));
}

}  // namespace medseal::witness
