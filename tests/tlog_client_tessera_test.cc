// The verifier against a log written by another implementation (Tessera, testdata/tessera-log):
// every checkpoint, consistency between every pair of sizes, and tampering with single bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "note/keys.h"
#include "support/paths.h"
#include "tlog_client/tile_source.h"
#include "tlog_client/verify.h"

namespace medseal::tlog_client {
namespace {

namespace fs = std::filesystem;
using medseal::testing::read_file;
using medseal::testing::shared_dir;
using medseal::testing::TempDir;

constexpr std::string_view kVkey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
constexpr uint64_t kMaxSize = 15;

std::string log_dir() { return shared_dir() + "/testdata/tessera-log"; }
std::string checkpoint_path(uint64_t n) { return log_dir() + "/checkpoint." + std::to_string(n); }

note::VerifierKey vkey() {
  auto key = note::parse_verifier_key(kVkey);
  EXPECT_TRUE(key.is_ok()) << key.status().to_string();
  return *key;
}

// A writable copy of the Tessera log (the shared copy is read-only).
void copy_log(const std::string& to) {
  fs::copy(log_dir(), to, fs::copy_options::recursive);
  for (auto& entry : fs::recursive_directory_iterator(to)) {
    fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  fs::permissions(to, fs::perms::owner_write, fs::perm_options::add);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// Flips the low bit of each byte of `file` in turn (restoring it after) and expects the full-size
// log to fail verification every time.
void expect_every_flip_rejected(const std::string& relative_file) {
  TempDir tmp;
  std::string dir = tmp.path() + "/log";
  copy_log(dir);
  std::string path = dir + "/" + relative_file;
  const std::string original = read_file(path);
  ASSERT_FALSE(original.empty());
  for (size_t i = 0; i < original.size(); ++i) {
    std::string changed = original;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    write_file(path, changed);
    auto source = open_dir_source(dir, dir + "/checkpoint." + std::to_string(kMaxSize));
    auto report = verify_log(*source, vkey());
    ASSERT_FALSE(report.is_ok()) << relative_file << ": flipping byte " << i << " went unnoticed";
  }
  write_file(path, original);
  auto source = open_dir_source(dir, dir + "/checkpoint." + std::to_string(kMaxSize));
  EXPECT_TRUE(verify_log(*source, vkey()).is_ok()) << "restored copy must verify again";
}

TEST(TlogClientTessera, VerifiesEveryCheckpoint) {
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    auto source = open_dir_source(log_dir(), checkpoint_path(n));
    auto report = verify_log(*source, vkey());
    ASSERT_TRUE(report.is_ok()) << "checkpoint." << n << ": " << report.status().to_string();
    EXPECT_EQ(report->checkpoint.size, n);
    EXPECT_EQ(report->bundles, n == 0 ? 0u : 1u);
    EXPECT_EQ(report->hash_tiles, n == 0 ? 0u : 1u);
    EXPECT_EQ(report->checkpoint_note, read_file(checkpoint_path(n)));
  }
}

TEST(TlogClientTessera, VerifiesTheDefaultCheckpointFile) {
  auto source = open_dir_source(log_dir());
  auto report = verify_log(*source, vkey());
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->checkpoint.size, kMaxSize);
  EXPECT_EQ(report->checkpoint.origin, "example.com/log/testdata");
}

TEST(TlogClientTessera, ConsistentBetweenAllPairsOfSizes) {
  for (uint64_t n1 = 0; n1 <= kMaxSize; ++n1) {
    for (uint64_t n2 = n1; n2 <= kMaxSize; ++n2) {
      auto source = open_dir_source(log_dir(), checkpoint_path(n2));
      VerifyOptions options;
      options.old_checkpoint = read_file(checkpoint_path(n1));
      auto report = verify_log(*source, vkey(), options);
      ASSERT_TRUE(report.is_ok()) << n1 << " -> " << n2 << ": " << report.status().to_string();
      EXPECT_EQ(report->old_size, n1);
    }
  }
}

TEST(TlogClientTessera, RejectsAnOldCheckpointLargerThanTheLog) {
  for (uint64_t n2 = 0; n2 < kMaxSize; ++n2) {
    auto source = open_dir_source(log_dir(), checkpoint_path(n2));
    VerifyOptions options;
    options.old_checkpoint = read_file(checkpoint_path(n2 + 1));
    auto report = verify_log(*source, vkey(), options);
    ASSERT_FALSE(report.is_ok()) << n2 + 1 << " -> " << n2 << " is a rollback";
    EXPECT_EQ(report.status().code(), Code::kVerificationFailed);
  }
}

TEST(TlogClientTessera, RejectsAnotherKey) {
  auto other = note::verifier_of(note::generate_signer_key("example.com/log/testdata"));
  auto source = open_dir_source(log_dir());
  auto report = verify_log(*source, other);
  ASSERT_FALSE(report.is_ok());
  EXPECT_EQ(report.status().code(), Code::kVerificationFailed);
}

TEST(TlogClientTessera, RejectsAFlippedByteInATile) {
  expect_every_flip_rejected("tile/0/000.p/15");
}

TEST(TlogClientTessera, RejectsAFlippedByteInABundle) {
  expect_every_flip_rejected("tile/entries/000.p/15");
}

TEST(TlogClientTessera, RejectsAFlippedByteInACheckpoint) {
  expect_every_flip_rejected("checkpoint.15");
}

TEST(TlogClientTessera, RejectsAFlippedByteInTheOldCheckpoint) {
  std::string old = read_file(checkpoint_path(7));
  for (size_t i = 0; i < old.size(); ++i) {
    VerifyOptions options;
    options.old_checkpoint = old;
    (*options.old_checkpoint)[i] ^= 0x01;
    auto source = open_dir_source(log_dir(), checkpoint_path(kMaxSize));
    ASSERT_FALSE(verify_log(*source, vkey(), options).is_ok()) << "byte " << i;
  }
}

TEST(TlogClientTessera, AMissingTileIsNotFound) {
  TempDir tmp;
  std::string dir = tmp.path() + "/log";
  copy_log(dir);
  fs::remove(dir + "/tile/0/000.p/15");
  auto source = open_dir_source(dir);
  auto report = verify_log(*source, vkey());
  ASSERT_FALSE(report.is_ok());
  EXPECT_EQ(report.status().code(), Code::kNotFound);
  EXPECT_NE(report.status().message().find("tile/0/000.p/15"), std::string::npos);
}

TEST(TlogClientTessera, ATruncatedBundleIsRejected) {
  TempDir tmp;
  std::string dir = tmp.path() + "/log";
  copy_log(dir);
  std::string path = dir + "/tile/entries/000.p/15";
  std::string bundle = read_file(path);
  write_file(path, bundle.substr(0, bundle.size() - 1));
  auto source = open_dir_source(dir);
  EXPECT_EQ(verify_log(*source, vkey()).status().code(), Code::kVerificationFailed);
}

TEST(TlogClientTessera, ReportsProgress) {
  auto source = open_dir_source(log_dir());
  uint64_t calls = 0, last_done = 0, last_total = 0;
  VerifyOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    ++calls;
    last_done = done;
    last_total = total;
  };
  ASSERT_TRUE(verify_log(*source, vkey(), options).is_ok());
  EXPECT_EQ(calls, 1u);  // one tile and its bundle
  EXPECT_EQ(last_done, last_total);
}

}  // namespace
}  // namespace medseal::tlog_client
