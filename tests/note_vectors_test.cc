// Known answers from implementations nobody here wrote: Go's x/mod sumdb/note, Tessera and
// Sunlight (shared/testdata/note/vectors.json), and every checkpoint of Tessera's test log
// (shared/testdata/tessera-log). Ed25519 is deterministic, so signing must reproduce them byte for
// byte, not merely verify.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/keys.h"
#include "note/note.h"
#include "support/paths.h"
#include "util/bytes.h"

namespace medseal::note {
namespace {

using medseal::testing::read_file;
using medseal::testing::shared_dir;

nlohmann::json vectors() {
  return nlohmann::json::parse(read_file(shared_dir() + "/testdata/note/vectors.json"));
}

crypto::Ed25519Seed seed_from_hex(const std::string& hex) {
  auto bytes = hex_decode(hex);
  EXPECT_TRUE(bytes && bytes->size() == 32) << hex;
  crypto::Ed25519Seed seed{};
  if (bytes && bytes->size() == 32) std::copy(bytes->begin(), bytes->end(), seed.begin());
  return seed;
}

TEST(NoteVectors, FileHasVectors) {
  auto v = vectors();
  EXPECT_GE(v["notes"].size(), 2u);
  EXPECT_GE(v["cosignatures"].size(), 1u);
}

TEST(NoteVectors, SignedNotesReproduceByteForByte) {
  const auto all = vectors();  // a named object: range-for would not extend a temporary's life
  for (const auto& vec : all["notes"]) {
    SCOPED_TRACE(vec["source"].get<std::string>());
    const auto private_key = vec["private_key"].get<std::string>();
    const auto vkey = vec["vkey"].get<std::string>();
    const auto text = vec["text"].get<std::string>();
    const auto signed_note = vec["signed_note"].get<std::string>();

    auto signer = parse_signer_key(private_key);
    ASSERT_TRUE(signer) << signer.status().to_string();
    if (vec.contains("ed25519_seed_hex")) {
      EXPECT_EQ(signer->seed, seed_from_hex(vec["ed25519_seed_hex"].get<std::string>()));
    }
    EXPECT_EQ(signer->type, KeyType::kEd25519);
    EXPECT_EQ(format_signer_key(*signer), private_key);
    EXPECT_EQ(format_verifier_key(verifier_of(*signer)), vkey);

    auto verifier = parse_verifier_key(vkey);
    ASSERT_TRUE(verifier) << verifier.status().to_string();
    EXPECT_EQ(format_verifier_key(*verifier), vkey);
    EXPECT_EQ(verifier->public_key, verifier_of(*signer).public_key);
    EXPECT_EQ(verifier->id, key_id(verifier->name, KeyType::kEd25519, verifier->public_key));

    auto signed_again = sign_note(text, std::span(&*signer, 1));
    ASSERT_TRUE(signed_again) << signed_again.status().to_string();
    EXPECT_EQ(*signed_again, signed_note);

    auto opened = open_note(signed_note, std::span(&*verifier, 1));
    ASSERT_TRUE(opened) << opened.status().to_string();
    EXPECT_EQ(opened->text, text);
    ASSERT_EQ(opened->verified.size(), 1u);
    EXPECT_EQ(opened->verified[0].key.name, verifier->name);
    EXPECT_EQ(opened->verified[0].timestamp, 0u);
    EXPECT_TRUE(opened->unknown.empty());

    auto parsed = parse_note(signed_note);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(format_note(*parsed), signed_note);
  }
}

TEST(NoteVectors, CosignaturesReproduceByteForByte) {
  const auto all = vectors();
  for (const auto& vec : all["cosignatures"]) {
    SCOPED_TRACE(vec["source"].get<std::string>());
    const auto seed = seed_from_hex(vec["ed25519_seed_hex"].get<std::string>());
    const auto vkey = vec["cosigner_vkey"].get<std::string>();
    const auto checkpoint_text = vec["checkpoint_text"].get<std::string>();
    const auto timestamp = vec["timestamp"].get<uint64_t>();
    const auto line = vec["signature_line"].get<std::string>();
    if (vec.contains("seed_string")) {
      Hash h = crypto::sha256(vec["seed_string"].get<std::string>());
      EXPECT_TRUE(std::equal(h.begin(), h.end(), seed.begin()));
    }

    auto verifier = parse_verifier_key(vkey);
    ASSERT_TRUE(verifier) << verifier.status().to_string();
    EXPECT_EQ(verifier->type, KeyType::kCosignatureV1);
    SignerKey witness = signer_key_from_seed(verifier->name, seed, KeyType::kCosignatureV1);
    EXPECT_EQ(format_verifier_key(verifier_of(witness)), vkey);

    EXPECT_EQ(cosignature_message(checkpoint_text, timestamp),
              vec["signed_message"].get<std::string>());
    auto sig = cosign(checkpoint_text, witness, timestamp);
    ASSERT_TRUE(sig) << sig.status().to_string();
    EXPECT_EQ(format_signature_line(*sig), line);

    auto parsed = parse_signature_line(line);
    ASSERT_TRUE(parsed) << parsed.status().to_string();
    auto ts = verify_cosignature(checkpoint_text, *verifier, *parsed);
    ASSERT_TRUE(ts) << ts.status().to_string();
    EXPECT_EQ(*ts, timestamp);

    // The same line inside a note, with the witness as the only known key.
    auto opened = open_note(checkpoint_text + "\n" + line + "\n", std::span(&*verifier, 1));
    ASSERT_TRUE(opened) << opened.status().to_string();
    ASSERT_EQ(opened->verified.size(), 1u);
    EXPECT_EQ(opened->verified[0].timestamp, timestamp);
  }
}

TEST(NoteVectors, TesseraCheckpointsOpenAndParse) {
  const std::string dir = shared_dir() + "/testdata/tessera-log";
  const std::string vkey =
      "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
  EXPECT_NE(read_file(dir + "/README.md").find(vkey), std::string::npos);
  std::string private_key;
  const auto all = vectors();
  for (const auto& vec : all["notes"]) {
    if (vec["vkey"].get<std::string>() == vkey) private_key = vec["private_key"].get<std::string>();
  }
  ASSERT_FALSE(private_key.empty()) << "vectors.json has no private key for the Tessera log";
  auto verifier = parse_verifier_key(vkey);
  auto signer = parse_signer_key(private_key);
  ASSERT_TRUE(verifier && signer);

  for (uint64_t n = 0; n <= 15; ++n) {
    SCOPED_TRACE("checkpoint." + std::to_string(n));
    std::string file = read_file(dir + "/checkpoint." + std::to_string(n));
    auto opened = open_note(file, std::span(&*verifier, 1));
    ASSERT_TRUE(opened) << opened.status().to_string();
    auto cp = parse_checkpoint(opened->text);
    ASSERT_TRUE(cp) << cp.status().to_string();
    EXPECT_EQ(cp->origin, "example.com/log/testdata");
    EXPECT_EQ(cp->size, n);
    EXPECT_TRUE(cp->extensions.empty());
    EXPECT_EQ(format_checkpoint(*cp), opened->text);
    // Tessera signed with a published key, so our signature must be the very same bytes.
    auto resigned = sign_note(opened->text, std::span(&*signer, 1));
    ASSERT_TRUE(resigned);
    EXPECT_EQ(*resigned, file);
    if (n == 0) {
      EXPECT_EQ(cp->root, crypto::sha256(""));  // RFC 6962: the empty tree
    }
  }
  EXPECT_EQ(read_file(dir + "/checkpoint"), read_file(dir + "/checkpoint.15"));
}

}  // namespace
}  // namespace medseal::note
