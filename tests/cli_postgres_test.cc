// The medseal program on the PostgreSQL store, as an operator runs it: `log append --store` and
// `serve --store` on one database, `log verify` over HTTP, keys and tokens in the data directory
// and no embedded store there. Skipped without MEDSEAL_TEST_PG (support/test_stores.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "support/test_stores.h"

namespace medseal::cli {
namespace {

namespace fs = std::filesystem;
using testing::ProgramOutcome;
using testing::run_medseal;
using testing::Server;

class CliPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::test_pg_url().empty()) GTEST_SKIP() << testing::kNoTestPg;
    space_ = std::make_unique<testing::StoreSpace>(testing::StoreKind::kPostgres);
  }

  // Appends `count` system entries through `medseal log append --store`.
  void append(uint64_t first, uint64_t count) {
    const std::string input = tmp_.path() + "/stdin";
    std::ofstream out(input, std::ios::trunc);
    for (uint64_t i = first; i < first + count; ++i) out << R"({"event":"test","n":)" << i << "}\n";
    out.close();
    ProgramOutcome r =
        run_medseal({"log", "append", "--data", data_, "--store", space_->location()}, input);
    ASSERT_EQ(r.status, 0) << r.err;
  }

  ProgramOutcome verify(const Server& server, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"log", "verify", "--url", server.log_url(), "--vkey",
                                     data_ + "/log.vkey"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_medseal(args);
  }

  testing::TempDir tmp_;
  std::string data_ = tmp_.path() + "/data";
  std::unique_ptr<testing::StoreSpace> space_;
};

TEST_F(CliPostgresTest, AppendServeVerifyAndResume) {
  append(0, 300);
  const std::string old = tmp_.path() + "/checkpoint.300";
  {
    Server server(data_, {"--store", space_->location()});
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    ProgramOutcome r = verify(server, {"--save", old});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("at size 300,"), std::string::npos) << r.out;
    EXPECT_EQ(server.stop(), 0);
  }
  append(300, 700);
  Server server(data_, {"--store", space_->location()});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ProgramOutcome r = verify(server, {"--old", old});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("at size 1000,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("consistent with the checkpoint of size 300"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(data_ + "/log.key"));
  for (const auto& f : fs::directory_iterator(data_)) {
    EXPECT_NE(f.path().filename(), "medseal.db") << "the ledger is in PostgreSQL, not in DATA";
  }
}

TEST_F(CliPostgresTest, AStoreThatIsNotAPostgresUrlIsAUsageError) {
  ProgramOutcome r = run_medseal({"log", "append", "--data", data_, "--store", "/tmp/x.db"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("postgresql://"), std::string::npos) << r.err;
}

TEST_F(CliPostgresTest, AnUnreachableDatabaseFailsTheStartWithoutThePassword) {
  ProgramOutcome r = run_medseal({"serve", "--data", data_, "--listen", "127.0.0.1:0", "--store",
                                  "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("127.0.0.1:1/x"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace medseal::cli
