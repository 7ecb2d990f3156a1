// note/tlog_proof.h: the c2sp.org/tlog-proof@v1 text format (medseal's receipt).
#include <gtest/gtest.h>

#include <vector>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "note/checkpoint.h"
#include "note/note.h"
#include "note/tlog_proof.h"

namespace medseal::note {
namespace {

class TlogProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::Ed25519Seed seed{};
    seed[0] = 7;
    log = signer_key_from_seed("example.com/fancylog", seed);
    checkpoint =
        *sign_note(format_checkpoint({"example.com/fancylog", 109482, crypto::sha256("r"), {}}),
                   std::span(&log, 1));
    for (int i = 0; i < 5; ++i) hashes.push_back(crypto::sha256(std::to_string(i)));
  }

  std::string hash_lines(size_t n) const {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      out += crypto::base64_encode(as_view(crypto::sha256(std::to_string(i)))) + "\n";
    }
    return out;
  }
  std::string proof_text(const std::string& index_line, const std::string& hash_block) const {
    return "c2sp.org/tlog-proof@v1\n" + index_line + "\n" + hash_block + "\n" + checkpoint;
  }

  SignerKey log;
  std::string checkpoint;
  std::vector<Hash> hashes;
};

void expect_invalid(const std::string& text) {
  auto p = parse_tlog_proof(text);
  EXPECT_FALSE(p) << text;
  if (!p) {
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(p.status().message().find('\n'), std::string::npos);
  }
}

TEST_F(TlogProofTest, RoundTrips) {
  std::string extra_bytes = std::string("\x01\x02\0\xff leaf", 9);
  for (auto extra : {std::optional<std::string>(), std::optional<std::string>(extra_bytes)}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}}) {
      TlogProof proof{extra, 73894, std::vector<Hash>(hashes.begin(), hashes.begin() + n),
                      checkpoint};
      std::string text = format_tlog_proof(proof);
      auto back = parse_tlog_proof(text);
      ASSERT_TRUE(back) << back.status().to_string() << "\n" << text;
      EXPECT_EQ(back->extra, extra);
      EXPECT_EQ(back->index, 73894u);
      EXPECT_EQ(back->inclusion, proof.inclusion);
      EXPECT_EQ(back->checkpoint, checkpoint);
      EXPECT_EQ(format_tlog_proof(*back), text);
    }
  }
}

TEST_F(TlogProofTest, MatchesSpecLayout) {
  TlogProof proof{"age", 73894, {hashes[0]}, checkpoint};
  EXPECT_EQ(format_tlog_proof(proof), "c2sp.org/tlog-proof@v1\nextra YWdl\nindex 73894\n" +
                                          crypto::base64_encode(as_view(hashes[0])) + "\n\n" +
                                          checkpoint);
  // The checkpoint is kept verbatim and opens with the log key.
  auto parsed = parse_tlog_proof(format_tlog_proof(proof));
  ASSERT_TRUE(parsed);
  VerifierKey v = verifier_of(log);
  auto opened = open_note(parsed->checkpoint, std::span(&v, 1));
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(parse_checkpoint(opened->text)->size, 109482u);
}

TEST_F(TlogProofTest, IndexLimits) {
  auto zero = parse_tlog_proof(proof_text("index 0", ""));
  ASSERT_TRUE(zero) << zero.status().to_string();
  EXPECT_EQ(zero->index, 0u);
  auto max = parse_tlog_proof(proof_text("index 18446744073709551615", ""));
  ASSERT_TRUE(max);
  EXPECT_EQ(max->index, UINT64_MAX);
}

TEST_F(TlogProofTest, HashLimit) {
  auto at_limit = parse_tlog_proof(proof_text("index 1", hash_lines(kMaxProofHashes)));
  ASSERT_TRUE(at_limit) << at_limit.status().to_string();
  EXPECT_EQ(at_limit->inclusion.size(), kMaxProofHashes);
  expect_invalid(proof_text("index 1", hash_lines(kMaxProofHashes + 1)));
}

TEST_F(TlogProofTest, RejectsBadHeaders) {
  std::string good = proof_text("index 1", hash_lines(2));
  ASSERT_TRUE(parse_tlog_proof(good));
  std::string body = good.substr(good.find('\n'));
  for (std::string header :
       {"", "c2sp.org/tlog-proof@v2", "c2sp.org/tlog-proof@v1 ", " c2sp.org/tlog-proof@v1",
        "C2SP.org/tlog-proof@v1", "c2sp.org/tlog-proof", "c2sp.org/tlog-proof@v1\r"}) {
    expect_invalid(header + body);
  }
  expect_invalid(body.substr(1));  // no header line at all
  expect_invalid("");
  expect_invalid("c2sp.org/tlog-proof@v1");
  expect_invalid("c2sp.org/tlog-proof@v1\n");
}

TEST_F(TlogProofTest, RejectsBadExtraAndIndex) {
  const std::string hashes2 = hash_lines(2);
  for (std::string extra : {"extra ", "extra YWdl=", "extra YWd", "extra  YWdl", "extra YWdl ",
                            "extra YW-l", "extra YWdm" /* fine */}) {
    std::string text =
        "c2sp.org/tlog-proof@v1\n" + extra + "\nindex 1\n" + hashes2 + "\n" + checkpoint;
    if (extra == "extra YWdm") {
      EXPECT_TRUE(parse_tlog_proof(text));
    } else {
      expect_invalid(text);
    }
  }
  // "extra" after the index, twice, or without its space.
  expect_invalid("c2sp.org/tlog-proof@v1\nindex 1\nextra YWdl\n" + hashes2 + "\n" + checkpoint);
  expect_invalid("c2sp.org/tlog-proof@v1\nextra YWdl\nextra YWdl\nindex 1\n\n" + checkpoint);
  expect_invalid("c2sp.org/tlog-proof@v1\nextraYWdl\nindex 1\n\n" + checkpoint);
  for (std::string index :
       {"index 01", "index 00", "index -1", "index +1", "index  1", "index 1 ", "index ", "index",
        "index 18446744073709551616", "index 0x1", "Index 1", "index\t1", "idx 1"}) {
    expect_invalid(proof_text(index, hashes2));
  }
  expect_invalid("c2sp.org/tlog-proof@v1\n" + hashes2 + "\n" + checkpoint);  // no index line
}

TEST_F(TlogProofTest, RejectsBadHashes) {
  auto b64 = [](size_t n) { return crypto::base64_encode(std::string(n, 'h')) + "\n"; };
  expect_invalid(proof_text("index 1", b64(31)));
  expect_invalid(proof_text("index 1", b64(33)));
  expect_invalid(proof_text("index 1", hash_lines(1) + b64(64)));
  expect_invalid(proof_text("index 1", hex_encode(crypto::sha256("x")) + "\n"));
  std::string h = hash_lines(1);
  expect_invalid(proof_text("index 1", h.substr(0, h.size() - 2) + "\n"));  // missing padding
  expect_invalid(proof_text("index 1", " " + h));
  expect_invalid(proof_text("index 1", h.substr(0, h.size() - 1) + " \n"));
}

TEST_F(TlogProofTest, RejectsBadLayout) {
  const std::string hashes2 = hash_lines(2);
  // No blank line: the hashes run into the checkpoint (or the text ends).
  expect_invalid("c2sp.org/tlog-proof@v1\nindex 1\n" + hashes2 + checkpoint);
  expect_invalid("c2sp.org/tlog-proof@v1\nindex 1\n" + hashes2);
  expect_invalid("c2sp.org/tlog-proof@v1\nindex 1");
  // Two blank lines; nothing after the blank line.
  expect_invalid(proof_text("index 1", hashes2 + "\n"));
  expect_invalid("c2sp.org/tlog-proof@v1\nindex 1\n" + hashes2 + "\n");
  // Trailing garbage after the checkpoint note.
  std::string good = proof_text("index 1", hashes2);
  expect_invalid(good + "garbage");
  expect_invalid(good + "garbage\n");
  expect_invalid(good + "\n");
  expect_invalid(good.substr(0, good.size() - 1));
  // CRLF.
  std::string crlf = good;
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  expect_invalid(crlf);
}

TEST_F(TlogProofTest, RejectsBadCheckpoints) {
  const std::string head = "c2sp.org/tlog-proof@v1\nindex 1\n" + hash_lines(1) + "\n";
  std::string unsigned_cp = format_checkpoint({"example.com/fancylog", 5, crypto::sha256("r"), {}});
  expect_invalid(head + unsigned_cp);  // no signatures
  expect_invalid(head + unsigned_cp + "\n");
  expect_invalid(head + *sign_note("not a checkpoint\n", std::span(&log, 1)));
  expect_invalid(head + *sign_note("example.com/fancylog\n01\n" +
                                       crypto::base64_encode(as_view(crypto::sha256("r"))) + "\n",
                                   std::span(&log, 1)));
  // Signatures are not verified here: an unknown or broken signature still parses.
  std::string broken = checkpoint;
  broken[broken.size() - 5] = broken[broken.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(parse_tlog_proof(head + broken));
}

}  // namespace
}  // namespace medseal::note
