// The disk reserve and the disk-low mode (server/disk_guard.h) without a full disk: a fake volume
// says how much room there is, and a FaultStore fails commits the way SQLITE_FULL does until the
// reserve is given back. A record service over the guard shows what a client sees; the real
// filesystem half (directory_volume) is checked on a temporary directory, and the whole thing on a
// real full tmpfs by tests/disk_full_test.cc.
#include "server/disk_guard.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>

#include "alerts/pipeline.h"
#include "records/service.h"
#include "support/fault_store.h"
#include "support/ledger_check.h"
#include "support/manual_clock.h"
#include "support/memory_store.h"
#include "support/paths.h"

namespace medseal::server {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kReserve = 16 * kMiB;
const Status kFull = Status::io("sqlite: commit: database or disk is full");

// A volume whose free space the test sets; the reserve's blocks come out of it and go back.
class FakeVolume : public storage::Volume {
 public:
  uint64_t free = 64 * kMiB;
  uint64_t reserve = 0;
  int released = 0;
  std::function<void()> on_release;  // what the freed room lets happen

  Result<uint64_t> free_bytes() override { return free; }
  Status create_reserve(uint64_t bytes) override {
    if (free + reserve < bytes) return Status::io("no room for the reserve");
    free = free + reserve - bytes;
    reserve = bytes;
    return Status::ok();
  }
  Status release_reserve() override {
    free += reserve;
    reserve = 0;
    ++released;
    if (on_release) on_release();
    return Status::ok();
  }
};

records::Caller caller(identity::Role role, std::string name) {
  return records::Caller{identity::Identity{std::move(name), role, ""}, "TREAT"};
}

std::string patient(const std::string& id) {
  return R"({"resourceType":"Patient","id":")" + id + R"(","birthDate":"1980-01-01"})";
}

class DiskGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger::LedgerOptions options;
    options.batch_window = std::chrono::microseconds(200);
    auto l = ledger::Ledger::open(faults_, testing::test_log_key(), options);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ledger_ = std::move(*l);
    start_guard();
  }

  void start_guard() {
    auto volume = std::make_unique<FakeVolume>();
    volume->free = free_at_start_;
    volume_ = volume.get();
    DiskGuardOptions options;
    options.reserve_bytes = kReserve;
    options.recheck = std::chrono::milliseconds(1000);
    options.clock = &clock_;
    service_.reset();
    guard_.reset();
    auto guard = DiskGuard::start(*ledger_, std::move(volume), alerts_, options);
    ASSERT_TRUE(guard.is_ok()) << guard.status().to_string();
    guard_ = std::move(*guard);
    service_ = std::make_unique<records::RecordService>(*guard_, memory_, clock_);
  }

  // Fills the disk: commits fail as SQLite's do, until the reserve's room is given back.
  void fill_disk() {
    volume_->free = 40 << 10;
    faults_.fail_commits(kFull);
    volume_->on_release = [this] { faults_.clear(); };
  }

  Result<records::Written> write(const std::string& id) {
    return service_->update(doctor_, "Patient", id, patient(id), std::nullopt, nullptr);
  }

  size_t disk_full_alerts() const {
    size_t n = 0;
    for (const alerts::Alert& a : alerts_.alerts()) n += a.kind == "disk-full" ? 1 : 0;
    return n;
  }

  testing::MemoryStore memory_;
  testing::FaultStore faults_{memory_};
  testing::ManualClock clock_{1'700'000'000'000};
  alerts::MemorySink alerts_;
  std::unique_ptr<ledger::Ledger> ledger_;
  uint64_t free_at_start_ = 64 * kMiB;
  FakeVolume* volume_ = nullptr;
  std::unique_ptr<DiskGuard> guard_;
  std::unique_ptr<records::RecordService> service_;
  records::Caller doctor_ = caller(identity::Role::kClinician, "dr.full");
};

TEST_F(DiskGuardTest, StartCreatesTheReserveAndPassesEverythingThrough) {
  EXPECT_EQ(volume_->reserve, kReserve);
  ASSERT_TRUE(write("p1").is_ok());
  uint64_t index = UINT64_MAX;
  ASSERT_TRUE(service_->read(doctor_, "Patient", "p1", 0, &index).is_ok());
  EXPECT_EQ(index, 1u);
  EXPECT_FALSE(guard_->state().low);
  EXPECT_EQ(alerts_.alerts().size(), 0u);
}

TEST_F(DiskGuardTest, AFullDiskRefusesWritesAtOnceKeepsReadsRecordedAndAlertsOnce) {
  ASSERT_TRUE(write("p1").is_ok());
  fill_disk();
  auto failed = write("p2");  // the commit that finds the disk full
  ASSERT_FALSE(failed.is_ok());
  EXPECT_FALSE(is_disk_low_refusal(failed.status()));  // the store's own error
  EXPECT_TRUE(guard_->state().low);
  EXPECT_EQ(volume_->released, 1);
  EXPECT_EQ(disk_full_alerts(), 1u);
  EXPECT_FALSE(alerts::is_integrity_kind("disk-full"));
  EXPECT_EQ(alerts_.alerts()[0].severity, alerts::Severity::kCritical);

  // Writes are refused without reaching the store; every read is an entry that commits.
  const size_t commits = faults_.commits();
  for (int i = 0; i < 5; ++i) {
    auto refused = write("p" + std::to_string(i + 3));
    ASSERT_FALSE(refused.is_ok());
    EXPECT_TRUE(is_disk_low_refusal(refused.status())) << refused.status().to_string();
  }
  auto tx = service_->transaction(doctor_, R"({"resourceType":"Bundle","type":"transaction","entry":[)"
                                           R"({"resource":)" + patient("t1") + R"(,"request":{"method":"PUT","url":"Patient/t1"}}]})",
                                  nullptr);
  EXPECT_TRUE(!tx.is_ok() && is_disk_low_refusal(tx.status())) << tx.status().to_string();
  EXPECT_EQ(faults_.commits(), commits);
  for (uint64_t i = 0; i < 20; ++i) {
    uint64_t index = UINT64_MAX;
    auto read = service_->read(doctor_, "Patient", "p1", 0, &index);
    ASSERT_TRUE(read.is_ok()) << read.status().to_string();
    EXPECT_EQ(index, ledger_->head().size - 1);
  }
  EXPECT_EQ(faults_.commits(), commits + 20);
  EXPECT_EQ(guard_->state().refused_writes, 6u);
  EXPECT_EQ(disk_full_alerts(), 1u);  // one per episode, whatever fails after
  EXPECT_NE(guard_->metrics_text().find("medseal_disk_low 1\n"), std::string::npos);
}

TEST_F(DiskGuardTest, WritesResumeOnceSpaceIsBackAndTheReserveIsRecreated) {
  fill_disk();
  ASSERT_FALSE(write("p1").is_ok());
  ASSERT_TRUE(guard_->state().low);
  volume_->free = kReserve + 2 * kMiB;  // some room, not enough for reserve and margin
  clock_.set(clock_.now_ms() + 5000);
  EXPECT_TRUE(is_disk_low_refusal(write("p1").status()));
  volume_->free = 64 * kMiB;
  EXPECT_TRUE(is_disk_low_refusal(write("p1").status())) << "looked again before `recheck` passed";
  clock_.set(clock_.now_ms() + 1000);
  ASSERT_TRUE(write("p1").is_ok());
  EXPECT_EQ(volume_->reserve, kReserve);
  EXPECT_FALSE(guard_->state().low);
  EXPECT_NE(guard_->metrics_text().find("medseal_disk_low_episodes_total 1\n"), std::string::npos);

  fill_disk();  // a second episode: a second alert
  ASSERT_FALSE(write("p2").is_ok());
  EXPECT_TRUE(guard_->state().low);
  EXPECT_EQ(disk_full_alerts(), 2u);
}

TEST_F(DiskGuardTest, AStorageErrorWithRoomLeftIsNotAFullDisk) {
  faults_.fail_commits(Status::io("sqlite: commit: disk I/O error"));
  ASSERT_FALSE(write("p1").is_ok());
  EXPECT_FALSE(guard_->state().low);
  EXPECT_EQ(volume_->released, 0);
  faults_.clear();
  EXPECT_TRUE(write("p1").is_ok());
  EXPECT_EQ(alerts_.alerts().size(), 0u);
}

TEST_F(DiskGuardTest, NoRoomForTheReserveAtStartStartsInDiskLow) {
  free_at_start_ = 3 * kMiB;
  start_guard();
  EXPECT_TRUE(guard_->state().low);
  EXPECT_EQ(disk_full_alerts(), 1u);
  EXPECT_TRUE(is_disk_low_refusal(write("p1").status()));
}

TEST(DirectoryVolume, TheReserveIsAllocatedNotSparseAndGoesAway) {
  testing::TempDir dir;
  auto volume = storage::directory_volume(dir.path());
  auto before = volume->free_bytes();
  ASSERT_TRUE(before.is_ok()) << before.status().to_string();
  ASSERT_TRUE(volume->create_reserve(2 * kMiB).is_ok());
  const std::string path = dir.path() + "/" + storage::kDiskReserveFile;
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(2 * kMiB));
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, 2 * kMiB);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(volume->create_reserve(1 * kMiB).is_ok());  // a smaller configuration shrinks it
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(1 * kMiB));
  ASSERT_TRUE(volume->release_reserve().is_ok());
  EXPECT_NE(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(volume->release_reserve().is_ok());
}

}  // namespace
}  // namespace medseal::server
