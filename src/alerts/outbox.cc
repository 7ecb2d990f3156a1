#include "alerts/outbox.h"

#include <mutex>

#include "storage/sqlite/sqlite_db.h"
#include "util/strict_json.h"

namespace medseal::alerts {
namespace {

using storage::sqlite::Db;
using storage::sqlite::Stmt;

constexpr int64_t kSchemaVersion = 1;

constexpr const char* kCreateSchema =
    "CREATE TABLE IF NOT EXISTS alerts ("
    " seq INTEGER PRIMARY KEY NOT NULL,"
    " id TEXT UNIQUE NOT NULL,"
    " json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cursors ("
    " destination TEXT PRIMARY KEY NOT NULL,"
    " delivered INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

Result<Severity> parse_severity(std::string_view name) {
  for (Severity s : {Severity::kInfo, Severity::kWarning, Severity::kCritical}) {
    if (severity_name(s) == name) return s;
  }
  return Status::invalid("unknown alert severity");
}

// Durable WAL: a commit is fsynced before add() returns, so an acknowledged alert survives a crash.
Status prepare_schema(Db& db) {
  MEDSEAL_RETURN_IF_ERROR(storage::sqlite::use_durable_wal(db));
  return storage::sqlite::create_small_schema(db, kSchemaVersion, kCreateSchema, "alert outbox");
}

class SqliteOutbox final : public Outbox {
 public:
  Status open(const std::string& path) {
    auto db = Db::open(path, true);
    if (!db) return db.status();
    db_ = std::move(*db);
    return prepare_schema(db_);
  }

  Result<uint64_t> add(const Alert& alert) override {
    std::string json = to_json(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::lock_guard lock(mu_);
    auto insert = Stmt::prepare(db_, "INSERT INTO alerts (id, json) VALUES (?1, ?2)");
    if (!insert) return insert.status();
    MEDSEAL_RETURN_IF_ERROR(insert->start().bind_text(1, alert.id).bind_text(2, json).run("store alert"));
    return static_cast<uint64_t>(sqlite3_last_insert_rowid(db_.get()));
  }

  Result<uint64_t> register_destination(const std::string& destination) override {
    std::lock_guard lock(mu_);
    auto insert = Stmt::prepare(db_,
                                "INSERT OR IGNORE INTO cursors (destination, delivered) "
                                "SELECT ?1, COALESCE(MAX(seq), 0) FROM alerts");
    if (!insert) return insert.status();
    MEDSEAL_RETURN_IF_ERROR(insert->start().bind_text(1, destination).run("register destination"));
    return cursor(destination);
  }

  Result<std::vector<StoredAlert>> pending(const std::string& destination, size_t limit) override {
    std::lock_guard lock(mu_);
    auto after = cursor(destination);
    if (!after) return after.status();
    auto select = Stmt::prepare(db_, "SELECT seq, json FROM alerts WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!select) return select.status();
    select->start().bind(1, static_cast<int64_t>(*after)).bind(2, static_cast<int64_t>(limit));
    return read_rows(*select, "read pending alerts");
  }

  Status acknowledge(const std::string& destination, uint64_t seq) override {
    std::lock_guard lock(mu_);
    auto update = Stmt::prepare(db_, "UPDATE cursors SET delivered = MAX(delivered, ?2) WHERE destination = ?1");
    if (!update) return update.status();
    return update->start().bind_text(1, destination).bind(2, static_cast<int64_t>(seq)).run("acknowledge alert");
  }

  Result<uint64_t> last_seq() override {
    std::lock_guard lock(mu_);
    auto text = db_.query_text("SELECT COALESCE(MAX(seq), 0) FROM alerts", "read last alert");
    if (!text) return text.status();
    return static_cast<uint64_t>(std::stoull(*text));
  }

  Result<std::vector<Alert>> newest(size_t limit) override {
    std::lock_guard lock(mu_);
    auto select = Stmt::prepare(db_, "SELECT seq, json FROM alerts ORDER BY seq DESC LIMIT ?1");
    if (!select) return select.status();
    select->start().bind(1, static_cast<int64_t>(limit));
    auto rows = read_rows(*select, "read newest alerts");
    if (!rows) return rows.status();
    std::vector<Alert> out;
    for (StoredAlert& row : *rows) out.push_back(std::move(row.alert));
    return out;
  }

  Result<std::vector<std::string>> critical_kinds() override {
    std::lock_guard lock(mu_);
    auto select = Stmt::prepare(db_,
                                "SELECT DISTINCT json_extract(json, '$.kind') FROM alerts "
                                "WHERE json_extract(json, '$.severity') = 'critical'");
    if (!select) return select.status();
    select->start();
    std::vector<std::string> kinds;
    while (true) {
      auto row = select->step("read critical alert kinds");
      if (!row) return row.status();
      if (!*row) return kinds;
      kinds.emplace_back(select->column_text(0));
    }
  }

 private:
  // Called with mu_ held. 0 for a destination without a cursor.
  Result<uint64_t> cursor(const std::string& destination) {
    auto select = Stmt::prepare(db_, "SELECT delivered FROM cursors WHERE destination = ?1");
    if (!select) return select.status();
    auto row = select->start().bind_text(1, destination).step("read cursor");
    if (!row) return row.status();
    return *row ? static_cast<uint64_t>(select->column_int(0)) : 0;
  }

  // The (seq, json) rows of a started statement.
  static Result<std::vector<StoredAlert>> read_rows(Stmt& select, std::string_view what) {
    std::vector<StoredAlert> out;
    while (true) {
      auto row = select.step(what);
      if (!row) return row.status();
      if (!*row) return out;
      const auto seq = static_cast<uint64_t>(select.column_int(0));
      auto alert = parse(select.column_text(1));
      if (!alert) return Status::invalid("outbox alert " + std::to_string(seq) + ": " + alert.status().message());
      out.push_back({seq, std::move(*alert)});
    }
  }

  static Result<Alert> parse(std::string_view json) {
    auto parsed = parse_strict_json(json, 16);
    if (!parsed) return parsed.status();
    return alert_from_json(*parsed);
  }

  std::mutex mu_;  // one connection, one thread at a time
  Db db_;
};

}  // namespace

Result<std::unique_ptr<Outbox>> Outbox::open(const std::string& path) {
  auto outbox = std::make_unique<SqliteOutbox>();
  MEDSEAL_RETURN_IF_ERROR(outbox->open(path));
  return std::unique_ptr<Outbox>(std::move(outbox));
}

Result<Alert> alert_from_json(const nlohmann::json& j) {
  try {
    Alert a;
    a.id = j.at("id").get<std::string>();
    a.time_ms = j.at("time_ms").get<uint64_t>();
    auto severity = parse_severity(j.at("severity").get<std::string>());
    if (!severity) return severity.status();
    a.severity = *severity;
    a.kind = j.at("kind").get<std::string>();
    a.summary = j.at("summary").get<std::string>();
    a.resources = j.at("resources").get<std::vector<std::string>>();
    a.indexes = j.at("indexes").get<std::vector<uint64_t>>();
    a.evidence = j.at("evidence");
    if (a.id.empty() || a.kind.empty()) return Status::invalid("alert without id or kind");
    return a;
  } catch (const nlohmann::json::exception&) {
    return Status::invalid("not an alert object");
  }
}

}  // namespace medseal::alerts
