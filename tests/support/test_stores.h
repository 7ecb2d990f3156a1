// One suite, two stores: tests parametrised over the embedded SQLite store and the PostgreSQL
// store. The PostgreSQL runs use the server named by MEDSEAL_TEST_PG (a libpq URL; `make test`
// starts a throwaway cluster and sets it, see scripts/pg-test-cluster.sh); without it they are
// skipped with a message saying how to run them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"
#include "support/paths.h"
#include "util/status.h"

namespace medseal::testing {

enum class StoreKind { kSqlite, kPostgres };

// Both kinds, for INSTANTIATE_TEST_SUITE_P(..., ::testing::ValuesIn(all_store_kinds()), ...).
std::vector<StoreKind> all_store_kinds();
// "Sqlite" or "Postgres": the parameter's name in test names.
std::string store_kind_name(StoreKind kind);
// For INSTANTIATE_TEST_SUITE_P's name generator.
struct StoreKindName {
  template <typename Info>
  std::string operator()(const Info& info) const {
    return store_kind_name(info.param);
  }
};

// MEDSEAL_TEST_PG, or "" when unset.
std::string test_pg_url();
// Why a PostgreSQL test was skipped; for GTEST_SKIP() when test_pg_url() is empty.
extern const char kNoTestPg[];

// A fresh, empty place for one store, removed when the object dies: a file in a temporary
// directory, or a new schema in the test database (its URL selects it through search_path).
// Open as many stores on it as a test needs, one after another or at once; close them before
// this object dies.
class StoreSpace {
 public:
  explicit StoreSpace(StoreKind kind);
  ~StoreSpace();
  StoreSpace(const StoreSpace&) = delete;
  StoreSpace& operator=(const StoreSpace&) = delete;

  StoreKind kind() const { return kind_; }
  // A file path or a postgresql:// URL, as `medseal serve --store` takes it.
  const std::string& location() const { return location_; }
  // The schema's name (PostgreSQL only), also the application_name of the store's sessions.
  const std::string& schema() const { return schema_; }
  Result<std::unique_ptr<storage::Store>> open() const;
  // PostgreSQL: waits (up to 20 s) until no session of this store is left. A killed writer's
  // backend finishes the transaction it was sent before it notices its client is gone, so a store
  // opened sooner can read a head that such a commit then moves on. SQLite: returns at once.
  void wait_for_sessions_to_end() const;
  // Runs SQL on the store's tables behind the store's back (schema surgery, tampering); fails
  // the test if it does not succeed.
  void raw_exec(const std::string& sql) const;

 private:
  StoreKind kind_;
  TempDir dir_;
  std::string schema_;
  std::string location_;
};

}  // namespace medseal::testing
