// The log key files the CLI keeps in a data directory (ledger/keyfile.h): created once with mode
// 0600, reused, never overwritten, refused when others can read them or when they disagree.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "ledger/keyfile.h"
#include "support/paths.h"

namespace medseal::ledger {
namespace {

using medseal::testing::read_file;
using medseal::testing::TempDir;

TEST(KeyFile, CreatesOnceWithTheDefaultOriginAndReusesIt) {
  TempDir dir;
  auto first = load_or_create_log_key(dir.path(), "");
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->name, "localhost/medseal");
  EXPECT_EQ(testing::file_mode(dir.path() + "/log.key"), 0600u);
  EXPECT_EQ(testing::file_mode(dir.path() + "/log.vkey"), 0644u);
  auto vkey = read_verifier_key_file(dir.path() + "/log.vkey");
  ASSERT_TRUE(vkey.is_ok());
  EXPECT_EQ(note::format_verifier_key(*vkey), note::format_verifier_key(note::verifier_of(*first)));

  auto again = load_or_create_log_key(dir.path(), "localhost/medseal");
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(note::format_signer_key(*again), note::format_signer_key(*first));
}

TEST(KeyFile, UsesTheGivenOriginForANewKeyAndRefusesAnotherLater) {
  TempDir dir;
  auto key = load_or_create_log_key(dir.path(), "example.org/log");
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(key->name, "example.org/log");
  auto other = load_or_create_log_key(dir.path(), "example.org/other");
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.status().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(load_or_create_log_key(TempDir().path(), "bad origin").is_ok());
}

TEST(KeyFile, RefusesAKeyFileOthersCanReadOrWrite) {
  TempDir dir;
  ASSERT_TRUE(load_or_create_log_key(dir.path(), "").is_ok());
  for (mode_t mode : {0644, 0640, 0604, 0602, 0620}) {
    ASSERT_EQ(::chmod((dir.path() + "/log.key").c_str(), mode), 0);
    auto key = read_signer_key_file(dir.path() + "/log.key");
    ASSERT_FALSE(key.is_ok()) << std::oct << mode;
    EXPECT_EQ(key.status().code(), Code::kFailedPrecondition);
    EXPECT_FALSE(load_or_create_log_key(dir.path(), "").is_ok());
  }
  ASSERT_EQ(::chmod((dir.path() + "/log.key").c_str(), 0400), 0);
  EXPECT_TRUE(read_signer_key_file(dir.path() + "/log.key").is_ok());
}

TEST(KeyFile, NeverOverwritesAnExistingKey) {
  TempDir dir;
  auto key = load_or_create_log_key(dir.path(), "");
  ASSERT_TRUE(key.is_ok());
  std::string before = read_file(dir.path() + "/log.key");
  Status s = write_key_files(dir.path(), note::generate_signer_key("localhost/medseal"));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(read_file(dir.path() + "/log.key"), before);
}

TEST(KeyFile, RewritesAMissingVkeyAndRefusesAMismatchedOne) {
  TempDir dir;
  auto key = load_or_create_log_key(dir.path(), "");
  ASSERT_TRUE(key.is_ok());
  std::string vkey = read_file(dir.path() + "/log.vkey");
  std::remove((dir.path() + "/log.vkey").c_str());
  ASSERT_TRUE(load_or_create_log_key(dir.path(), "").is_ok());
  EXPECT_EQ(read_file(dir.path() + "/log.vkey"), vkey);

  std::ofstream(dir.path() + "/log.vkey", std::ios::trunc)
      << note::format_verifier_key(note::verifier_of(note::generate_signer_key("localhost/medseal"))) << "\n";
  auto mismatched = load_or_create_log_key(dir.path(), "");
  ASSERT_FALSE(mismatched.is_ok());
  EXPECT_EQ(mismatched.status().code(), Code::kFailedPrecondition);
}

TEST(KeyFile, RejectsGarbage) {
  TempDir dir;
  std::string path = dir.path() + "/log.key";
  std::ofstream(path) << "not a key\n";
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto key = read_signer_key_file(path);
  ASSERT_FALSE(key.is_ok());
  EXPECT_EQ(key.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(read_signer_key_file(dir.path() + "/none").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace medseal::ledger
