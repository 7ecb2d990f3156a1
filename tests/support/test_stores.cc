#include "support/test_stores.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "support/raw_sqlite.h"

namespace medseal::testing {
namespace {

// Runs SQL on a session of its own; fails the test if it does not succeed.
void pg_exec(const std::string& url, const std::string& sql) {
  Result<std::unique_ptr<storage::postgres::Conn>> c = storage::postgres::Conn::connect(url);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  Status s = (*c)->exec(sql.c_str(), "test sql");
  ASSERT_TRUE(s) << s.to_string();
}

std::string with_search_path(const std::string& url, const std::string& schema) {
  const char sep = url.find('?') == std::string::npos ? '?' : '&';
  // The application name lets a test find (and kill) this store's sessions and no others.
  return url + sep + "options=-csearch_path%3D" + schema + "&application_name=" + schema;
}

}  // namespace

const char kNoTestPg[] =
    "MEDSEAL_TEST_PG is not set: the PostgreSQL runs need a server (make test starts one; by "
    "hand: scripts/pg-test-cluster.sh run <test program>)";

std::vector<StoreKind> all_store_kinds() { return {StoreKind::kSqlite, StoreKind::kPostgres}; }

std::string store_kind_name(StoreKind kind) {
  return kind == StoreKind::kSqlite ? "Sqlite" : "Postgres";
}

std::string test_pg_url() {
  const char* url = std::getenv("MEDSEAL_TEST_PG");
  return url != nullptr ? url : "";
}

StoreSpace::StoreSpace(StoreKind kind) : kind_(kind) {
  if (kind == StoreKind::kSqlite) {
    location_ = dir_.path() + "/store.db";
    return;
  }
  static std::atomic<int> counter{0};
  schema_ = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(std::rand() % 100000);
  location_ = with_search_path(test_pg_url(), schema_);
  if (!test_pg_url().empty()) pg_exec(test_pg_url(), "CREATE SCHEMA " + schema_);
}

StoreSpace::~StoreSpace() {
  if (schema_.empty() || test_pg_url().empty()) return;
  // A session the test left open would block the drop; the cluster is thrown away anyway.
  Result<std::unique_ptr<storage::postgres::Conn>> c =
      storage::postgres::Conn::connect(test_pg_url());
  if (c) {
    (void)(*c)->exec(("SET lock_timeout = '2s'; DROP SCHEMA " + schema_ + " CASCADE").c_str(),
                     "drop test schema");
  }
}

Result<std::unique_ptr<storage::Store>> StoreSpace::open() const {
  return storage::open_store_at(location_);
}

void StoreSpace::wait_for_sessions_to_end() const {
  if (kind_ == StoreKind::kSqlite) return;
  Result<std::unique_ptr<storage::postgres::Conn>> c = storage::postgres::Conn::connect(test_pg_url());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    auto rows = (*c)->query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                            storage::postgres::Params().text(schema_), "sessions of the test store");
    ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
    if (rows->integer(0, 0) == 0) return;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "sessions of " << schema_ << " did not end";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void StoreSpace::raw_exec(const std::string& sql) const {
  if (kind_ == StoreKind::kSqlite) {
    testing::raw_exec(location_, sql);
  } else {
    pg_exec(location_, sql);
  }
}

}  // namespace medseal::testing
