// The verifier on logs this test writes itself with the merkle/ and note/ primitives (no ledger, no
// server): trees with several tile levels, partial tiles that were deleted once their full tile
// existed (tlog-tiles allows it), and single wrong hashes at each level.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "merkle/compact_range.h"
#include "merkle/hash.h"
#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "note/note.h"
#include "support/paths.h"
#include "tlog_client/tile_source.h"
#include "tlog_client/verify.h"

namespace medseal::tlog_client {
namespace {

namespace fs = std::filesystem;
using medseal::testing::read_file;
using medseal::testing::TempDir;

void write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// Writes, into `dir`, every tile and bundle of the tree of `size` entries ("entry <i>") and its
// signed checkpoint as checkpoint.<size> and checkpoint.
void write_log(const std::string& dir, const note::SignerKey& key, uint64_t size) {
  std::vector<std::string> entries(size);
  std::string level_hashes;  // the hashes at the current tile level, concatenated
  merkle::CompactRange range;
  for (uint64_t i = 0; i < size; ++i) {
    entries[i] = "entry " + std::to_string(i);
    Hash leaf = merkle::leaf_hash(entries[i]);
    level_hashes.append(as_view(leaf));
    range.append(leaf, [](merkle::NodeId, const Hash&) {});
  }
  for (uint8_t level = 0; !level_hashes.empty(); ++level) {
    std::string next;
    for (uint64_t n = 0; merkle::tile_width(level, n, size) > 0; ++n) {
      merkle::TileId id{false, level, n, merkle::tile_width(level, n, size)};
      std::string tile = level_hashes.substr(n * 256 * 32, size_t{id.width} * 32);
      write_file(dir + "/" + merkle::tile_path(id), tile);
      if (id.full()) next.append(as_view(*merkle::tile_root(tile)));
      if (level > 0) continue;
      std::vector<std::string_view> views(entries.begin() + n * 256, entries.begin() + n * 256 + id.width);
      id.entries = true;
      write_file(dir + "/" + merkle::tile_path(id), merkle::encode_entry_bundle(views));
    }
    level_hashes = std::move(next);
  }
  auto text = note::format_checkpoint(note::Checkpoint{key.name, size, range.root(), {}});
  auto signed_note = note::sign_note(text, std::span(&key, 1));
  ASSERT_TRUE(signed_note.is_ok());
  write_file(dir + "/checkpoint." + std::to_string(size), *signed_note);
  write_file(dir + "/checkpoint", *signed_note);
}

class SyntheticLog : public ::testing::Test {
 protected:
  Result<VerifyReport> verify(uint64_t size, std::optional<uint64_t> old = std::nullopt) {
    auto source = open_dir_source(dir_, dir_ + "/checkpoint." + std::to_string(size));
    VerifyOptions options;
    if (old) options.old_checkpoint = read_file(dir_ + "/checkpoint." + std::to_string(*old));
    return verify_log(*source, note::verifier_of(key_), options);
  }

  void flip(const std::string& file, size_t at) {
    std::string bytes = read_file(dir_ + "/" + file);
    ASSERT_LT(at, bytes.size());
    bytes[at] ^= 0x01;
    write_file(dir_ + "/" + file, bytes);
  }

  TempDir tmp_;
  std::string dir_ = tmp_.path() + "/log";
  note::SignerKey key_ = note::generate_signer_key("example.org/synthetic");
};

TEST_F(SyntheticLog, ThreeLevelsVerifyAndAreConsistent) {
  for (uint64_t size : {1u, 256u, 257u, 65536u, 65537u, 70000u}) write_log(dir_, key_, size);
  for (uint64_t size : {1u, 256u, 257u, 65536u, 65537u, 70000u}) {
    auto report = verify(size);
    ASSERT_TRUE(report.is_ok()) << size << ": " << report.status().to_string();
  }
  auto report = verify(70000, 257);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->hash_tiles, 274u + 2 + 1);
  EXPECT_EQ(report->bundles, 274u);
  EXPECT_TRUE(verify(65537, 65536).is_ok());
  EXPECT_TRUE(verify(70000, 1).is_ok());
}

TEST_F(SyntheticLog, FallsBackToTheFullTileWhenAPartialOneIsGone) {
  write_log(dir_, key_, 300);
  write_log(dir_, key_, 512);
  fs::remove(dir_ + "/tile/0/001.p/44");
  fs::remove(dir_ + "/tile/entries/001.p/44");
  auto report = verify(300);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_TRUE(verify(512, 300).is_ok());
}

TEST_F(SyntheticLog, AWrongUpperTileIsNamed) {
  write_log(dir_, key_, 70000);
  for (std::string file : {"tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"}) {
    flip(file, 20);
    auto report = verify(70000);
    ASSERT_FALSE(report.is_ok()) << file;
    EXPECT_EQ(report.status().code(), Code::kVerificationFailed);
    EXPECT_NE(report.status().message().find(file), std::string::npos) << report.status().message();
    flip(file, 20);
  }
  EXPECT_TRUE(verify(70000).is_ok());
}

TEST_F(SyntheticLog, ATileAndBundleChangedTogetherStillFailAtTheRoot) {
  // An attacker who rewrites an entry and its leaf hash consistently is caught by the root
  // (here the tree has no level above the changed tile).
  write_log(dir_, key_, 100);
  std::string bundle = read_file(dir_ + "/tile/entries/000.p/100");
  std::string tile = read_file(dir_ + "/tile/0/000.p/100");
  bundle[2] = 'E';  // "entry 0" -> "Entry 0"
  Hash leaf = merkle::leaf_hash("Entry 0");
  tile.replace(0, 32, as_view(leaf));
  write_file(dir_ + "/tile/entries/000.p/100", bundle);
  write_file(dir_ + "/tile/0/000.p/100", tile);
  auto report = verify(100);
  ASSERT_FALSE(report.is_ok());
  EXPECT_NE(report.status().message().find("checkpoint says"), std::string::npos) << report.status().message();
}

TEST_F(SyntheticLog, ATileOfTheWrongLengthIsRejected) {
  write_log(dir_, key_, 300);
  write_file(dir_ + "/tile/0/001.p/44", read_file(dir_ + "/tile/0/001.p/44") + std::string(32, 'x'));
  EXPECT_EQ(verify(300).status().code(), Code::kVerificationFailed);
}

}  // namespace
}  // namespace medseal::tlog_client
