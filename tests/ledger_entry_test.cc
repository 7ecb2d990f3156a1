// The 42-byte ledger entry (DESIGN.md 4.3): exact layout and strict parsing.
#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "ledger/entry.h"

namespace medseal::ledger {
namespace {

Entry sample() {
  Entry e;
  e.kind = EntryKind::kAccess;
  e.time_ms = 0x0102030405060708ULL;
  for (size_t i = 0; i < 32; ++i) e.commitment[i] = static_cast<uint8_t>(0xa0 + i);
  return e;
}

TEST(LedgerEntry, EncodesTheFixedLayout) {
  const std::string bytes = encode_entry(sample());
  ASSERT_EQ(bytes.size(), 42u);
  std::string want = "\x01\x02\x01\x02\x03\x04\x05\x06\x07\x08";
  for (size_t i = 0; i < 32; ++i) want.push_back(static_cast<char>(0xa0 + i));
  EXPECT_EQ(hex_encode(bytes), hex_encode(want));
}

TEST(LedgerEntry, ParsesWhatItEncodes) {
  for (auto kind : {EntryKind::kRecordVersion, EntryKind::kAccess, EntryKind::kAccessDenied,
                    EntryKind::kSystem}) {
    Entry e = sample();
    e.kind = kind;
    Result<Entry> back = parse_entry(encode_entry(e));
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->kind, kind);
    EXPECT_EQ(back->time_ms, e.time_ms);
    EXPECT_EQ(back->commitment, e.commitment);
  }
}

TEST(LedgerEntry, RejectsWrongSizeVersionAndKind) {
  const std::string good = encode_entry(sample());
  EXPECT_EQ(parse_entry(good.substr(0, 41)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_entry(good + "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_entry("").status().code(), Code::kInvalidArgument);
  std::string bad = good;
  bad[0] = 0x02;
  EXPECT_EQ(parse_entry(bad).status().code(), Code::kInvalidArgument);
  for (char kind : {'\x00', '\x05', '\xff'}) {
    bad = good;
    bad[1] = kind;
    EXPECT_EQ(parse_entry(bad).status().code(), Code::kInvalidArgument) << int(kind);
  }
}

TEST(LedgerEntry, CommitmentIsSha256OfSaltThenStatement) {
  const std::string salt(32, 's');
  const std::string statement = R"({"op":"read"})";
  EXPECT_EQ(commitment(salt, statement), crypto::sha256(salt + statement));
  // Known answer: SHA-256("") for the empty pair, so the order and concatenation are pinned.
  EXPECT_EQ(hex_encode(commitment("", "")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace medseal::ledger
