// note/cosignature.h: tlog-cosignature/v1 witness cosignatures, alone and inside checkpoint notes.
#include <gtest/gtest.h>

#include <vector>

#include "crypto/sha256.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"

namespace medseal::note {
namespace {

crypto::Ed25519Seed test_seed(uint8_t fill) {
  crypto::Ed25519Seed seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill ^ (i * 7));
  return seed;
}

class CosignatureTest : public ::testing::Test {
 protected:
  const SignerKey log = signer_key_from_seed("example.com/log", test_seed(1));
  const SignerKey witness =
      signer_key_from_seed("witness.example/w1", test_seed(2), KeyType::kCosignatureV1);
  const SignerKey witness2 =
      signer_key_from_seed("witness.example/w2", test_seed(3), KeyType::kCosignatureV1);
  const VerifierKey log_v = verifier_of(log);
  const VerifierKey witness_v = verifier_of(witness);
  const VerifierKey witness2_v = verifier_of(witness2);
  const std::string checkpoint =
      format_checkpoint({"example.com/log", 42, crypto::sha256("root"), {}});
  const uint64_t ts = 1700000000;

  NoteSignature cosig(const SignerKey& w, uint64_t t) {
    auto sig = cosign(checkpoint, w, t);
    EXPECT_TRUE(sig) << sig.status().to_string();
    return sig ? *sig : NoteSignature{};
  }
  // The log's signed checkpoint with the given cosignatures appended.
  std::string cosigned(const std::vector<NoteSignature>& cosigs) {
    auto note = parse_note(*sign_note(checkpoint, std::span(&log, 1)));
    EXPECT_TRUE(note);
    for (const auto& c : cosigs) note->signatures.push_back(c);
    return format_note(*note);
  }
};

TEST_F(CosignatureTest, MessageFormat) {
  EXPECT_EQ(cosignature_message("o\n1\nr\n", 0), "cosignature/v1\ntime 0\no\n1\nr\n");
  EXPECT_EQ(cosignature_message("o\n1\nr\n", 1679315147),
            "cosignature/v1\ntime 1679315147\no\n1\nr\n");
}

TEST_F(CosignatureTest, CosignAndVerify) {
  NoteSignature sig = cosig(witness, ts);
  EXPECT_EQ(sig.name, witness.name);
  EXPECT_EQ(sig.id, witness.id);
  ASSERT_EQ(sig.signature.size(), 72u);
  EXPECT_EQ(get_be64(reinterpret_cast<const uint8_t*>(sig.signature.data())), ts);
  auto got = verify_cosignature(checkpoint, witness_v, sig);
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_EQ(*got, ts);
  // The extreme timestamps allowed.
  for (uint64_t t : {uint64_t{0}, uint64_t{INT64_MAX}}) {
    auto v = verify_cosignature(checkpoint, witness_v, cosig(witness, t));
    ASSERT_TRUE(v) << v.status().to_string();
    EXPECT_EQ(*v, t);
  }
}

TEST_F(CosignatureTest, IdDiffersFromPlainKey) {
  SignerKey plain = signer_key_from_seed(witness.name, witness.seed);
  EXPECT_NE(plain.id, witness.id);
  EXPECT_EQ(witness.id, key_id(witness.name, KeyType::kCosignatureV1, witness_v.public_key));
}

TEST_F(CosignatureTest, RejectsTamperedCosignatures) {
  NoteSignature sig = cosig(witness, ts);
  auto expect_failed = [&](std::string_view text, const NoteSignature& s) {
    auto r = verify_cosignature(text, witness_v, s);
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.status().code(), Code::kVerificationFailed) << r.status().message();
    }
  };
  // Another checkpoint.
  expect_failed(format_checkpoint({"example.com/log", 43, crypto::sha256("root"), {}}), sig);
  expect_failed(checkpoint + "extension\n", sig);
  // Another timestamp under the same signature.
  NoteSignature other_time = sig;
  other_time.signature[7] ^= 1;
  expect_failed(checkpoint, other_time);
  // A flipped signature bit, a wrong length.
  NoteSignature flipped = sig;
  flipped.signature[40] ^= 0x20;
  expect_failed(checkpoint, flipped);
  NoteSignature short_sig = sig;
  short_sig.signature.pop_back();
  expect_failed(checkpoint, short_sig);
  NoteSignature bare = sig;
  bare.signature = sig.signature.substr(8);  // a plain Ed25519 signature, no timestamp
  expect_failed(checkpoint, bare);
  // A timestamp above 2^63-1, even with a valid signature over it.
  const uint64_t too_late = uint64_t{1} << 63;
  auto raw = crypto::ed25519_sign(witness.seed, cosignature_message(checkpoint, too_late));
  std::string bytes(8, '\0');
  put_be64(reinterpret_cast<uint8_t*>(bytes.data()), too_late);
  bytes.append(reinterpret_cast<const char*>(raw.data()), raw.size());
  expect_failed(checkpoint, NoteSignature{witness.name, witness.id, bytes});
}

TEST_F(CosignatureTest, RejectsMisuse) {
  NoteSignature sig = cosig(witness, ts);
  // Not a cosignature key.
  EXPECT_FALSE(cosign(checkpoint, log, ts));
  EXPECT_FALSE(verify_cosignature(checkpoint, log_v, sig));
  // A signature by another key.
  auto other = verify_cosignature(checkpoint, witness2_v, sig);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument);
  // Not a checkpoint: cosignatures are statements about checkpoints only.
  for (std::string text : std::vector<std::string>{
           "hello\n", "example.com/log\n01\n" + std::string(44, 'A') + "\n", ""}) {
    auto c = cosign(text, witness, ts);
    ASSERT_FALSE(c) << text;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_FALSE(verify_cosignature(text, witness_v, sig));
  }
  // Timestamps above 2^63-1 are never produced.
  EXPECT_FALSE(cosign(checkpoint, witness, uint64_t{1} << 63));
  EXPECT_FALSE(cosign(checkpoint, witness, UINT64_MAX));
}

TEST_F(CosignatureTest, OpenCosignedCheckpoint) {
  std::string note = cosigned({cosig(witness, ts), cosig(witness2, ts + 1)});
  std::vector<VerifierKey> all = {log_v, witness_v, witness2_v};
  auto opened = open_note(note, all);
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->text, checkpoint);
  ASSERT_EQ(opened->verified.size(), 3u);
  EXPECT_EQ(opened->verified[0].key.name, log.name);
  EXPECT_EQ(opened->verified[0].timestamp, 0u);
  EXPECT_EQ(opened->verified[1].key.name, witness.name);
  EXPECT_EQ(opened->verified[1].timestamp, ts);
  EXPECT_EQ(opened->verified[2].timestamp, ts + 1);

  // A client that knows only the log sees the cosignatures as unknown.
  auto log_only = open_note(note, std::span(&log_v, 1));
  ASSERT_TRUE(log_only);
  EXPECT_EQ(log_only->verified.size(), 1u);
  EXPECT_EQ(log_only->unknown.size(), 2u);

  // A witness with the log's name: (name, id) differ by type, so both verify separately.
  SignerKey same_name = signer_key_from_seed(log.name, test_seed(4), KeyType::kCosignatureV1);
  std::string note2 = cosigned({cosig(same_name, ts)});
  std::vector<VerifierKey> both = {log_v, verifier_of(same_name)};
  auto opened2 = open_note(note2, both);
  ASSERT_TRUE(opened2) << opened2.status().to_string();
  EXPECT_EQ(opened2->verified.size(), 2u);
}

TEST_F(CosignatureTest, BadCosignatureRejectsNote) {
  NoteSignature bad = cosig(witness, ts);
  bad.signature[70] ^= 1;
  std::string note = cosigned({bad});
  std::vector<VerifierKey> all = {log_v, witness_v};
  auto opened = open_note(note, all);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.status().code(), Code::kVerificationFailed);
  // Unknown to the client, the same line is ignored.
  EXPECT_TRUE(open_note(note, std::span(&log_v, 1)));

  // A cosignature key over a note text that is no checkpoint fails verification.
  auto raw = crypto::ed25519_sign(witness.seed, cosignature_message("hello\n", ts));
  std::string bytes(8, '\0');
  put_be64(reinterpret_cast<uint8_t*>(bytes.data()), ts);
  bytes.append(reinterpret_cast<const char*>(raw.data()), raw.size());
  std::string hello = "hello\n\n" + format_signature_line({witness.name, witness.id, bytes}) + "\n";
  auto not_checkpoint = open_note(hello, std::span(&witness_v, 1));
  ASSERT_FALSE(not_checkpoint);
  EXPECT_EQ(not_checkpoint.status().code(), Code::kVerificationFailed);
}

}  // namespace
}  // namespace medseal::note
