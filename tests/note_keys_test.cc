// note/keys.h: key names, key ids and the vkey / signer-key encodings.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "note/keys.h"

namespace medseal::note {
namespace {

constexpr const char* kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr const char* kPeterSkey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

crypto::Ed25519Seed test_seed(uint8_t fill) {
  crypto::Ed25519Seed seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill + i);
  return seed;
}

// A vkey for arbitrary key material (any type byte, any length), with the id computed the way the
// spec says, so that only the property under test is wrong.
std::string vkey_for(const std::string& name, const std::string& material) {
  Hash h = crypto::sha256(name + "\n" + material);
  char id[9];
  std::snprintf(id, sizeof id, "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
  return name + "+" + id + "+" + crypto::base64_encode(material);
}

std::string public_material(uint8_t type, const crypto::Ed25519PublicKey& pub) {
  return std::string(1, static_cast<char>(type)) +
         std::string(reinterpret_cast<const char*>(pub.data()), pub.size());
}

void expect_invalid_vkey(const std::string& text) {
  auto key = parse_verifier_key(text);
  EXPECT_FALSE(key) << text;
  if (!key) {
    EXPECT_EQ(key.status().code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(key.status().message().find('\n'), std::string::npos);
  }
}

TEST(NoteKeys, ValidKeyNames) {
  for (const char* good : {"a", "example.com/log", "localhost/medseal", "PeterNeumann",
                           "\xc3\xa9t\xc3\xa9", "x-y_z.w:8080/~p?q=1&r#s", "\xf0\x9f\x94\x91"}) {
    EXPECT_TRUE(valid_key_name(good)) << good;
  }
  for (const char* bad : {"", " ", "a b", "a+b", "+", "\xff", "a\xc0\xaf", "\xed\xa0\x80"}) {
    EXPECT_FALSE(valid_key_name(bad)) << bad;
  }
  // Control characters and every kind of Unicode space, between "a" and "b".
  for (const char* mid : {"\t", "\n", "\r", "\x01", "\x1f",
                          "\xc2\xa0",         // U+00A0 no-break space
                          "\xc2\x85",         // U+0085 next line
                          "\xe2\x80\x83",     // U+2003 em space
                          "\xe2\x80\xa8",     // U+2028 line separator
                          "\xe3\x80\x80",     // U+3000 ideographic space
                          "\xe1\x9a\x80"}) {  // U+1680 ogham space mark
    EXPECT_FALSE(valid_key_name(std::string("a") + mid + "b")) << mid;
  }
  EXPECT_FALSE(valid_key_name(std::string("a\0b", 3)));
}

TEST(NoteKeys, KeyIdIsTruncatedSha256) {
  auto key = parse_verifier_key(kPeterVkey);
  ASSERT_TRUE(key) << key.status().to_string();
  EXPECT_EQ(key->id, 0xc74f20a3u);
  EXPECT_EQ(key_id("PeterNeumann", KeyType::kEd25519, key->public_key), 0xc74f20a3u);
  // The type byte is hashed in, so one public key has a different id per signature type.
  EXPECT_NE(key_id("PeterNeumann", KeyType::kCosignatureV1, key->public_key), 0xc74f20a3u);
  EXPECT_NE(key_id("PeterNeumann2", KeyType::kEd25519, key->public_key), 0xc74f20a3u);
}

TEST(NoteKeys, ParsesAndFormatsKnownKeys) {
  auto vkey = parse_verifier_key(kPeterVkey);
  ASSERT_TRUE(vkey);
  EXPECT_EQ(vkey->name, "PeterNeumann");
  EXPECT_EQ(vkey->type, KeyType::kEd25519);
  EXPECT_EQ(format_verifier_key(*vkey), kPeterVkey);
  auto skey = parse_signer_key(kPeterSkey);
  ASSERT_TRUE(skey) << skey.status().to_string();
  EXPECT_EQ(skey->name, "PeterNeumann");
  EXPECT_EQ(skey->id, 0xc74f20a3u);
  EXPECT_EQ(format_signer_key(*skey), kPeterSkey);
  EXPECT_EQ(format_verifier_key(verifier_of(*skey)), kPeterVkey);
}

TEST(NoteKeys, Base64WithPlusIsNotSplit) {
  // This key's base64 contains a '+': only the first two '+' separate fields.
  const std::string tessera =
      "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
  auto key = parse_verifier_key(tessera);
  ASSERT_TRUE(key) << key.status().to_string();
  EXPECT_EQ(key->name, "example.com/log/testdata");
  EXPECT_EQ(format_verifier_key(*key), tessera);
}

TEST(NoteKeys, GenerateRoundTripsBothTypes) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kCosignatureV1}) {
    SignerKey signer = generate_signer_key("example.com/roundtrip", type);
    EXPECT_EQ(signer.type, type);
    auto parsed = parse_signer_key(format_signer_key(signer));
    ASSERT_TRUE(parsed) << parsed.status().to_string();
    EXPECT_EQ(parsed->name, signer.name);
    EXPECT_EQ(parsed->id, signer.id);
    EXPECT_EQ(parsed->type, type);
    EXPECT_EQ(parsed->seed, signer.seed);
    VerifierKey verifier = verifier_of(signer);
    EXPECT_EQ(verifier.id, key_id(signer.name, type, verifier.public_key));
    auto vparsed = parse_verifier_key(format_verifier_key(verifier));
    ASSERT_TRUE(vparsed) << vparsed.status().to_string();
    EXPECT_EQ(vparsed->public_key, verifier.public_key);
    EXPECT_EQ(vparsed->type, type);
  }
  EXPECT_NE(generate_signer_key("a").seed, generate_signer_key("a").seed);
}

TEST(NoteKeys, SeedDeterminesKey) {
  SignerKey a = signer_key_from_seed("example.com/a", test_seed(1));
  SignerKey b = signer_key_from_seed("example.com/a", test_seed(1));
  EXPECT_EQ(format_signer_key(a), format_signer_key(b));
  SignerKey c = signer_key_from_seed("example.com/a", test_seed(1), KeyType::kCosignatureV1);
  EXPECT_NE(a.id, c.id);
  EXPECT_EQ(verifier_of(a).public_key, verifier_of(c).public_key);
}

TEST(NoteKeys, RejectsBadVerifierKeys) {
  const auto pub = verifier_of(signer_key_from_seed("n", test_seed(7))).public_key;
  const std::string good = vkey_for("example.com/k", public_material(1, pub));
  ASSERT_TRUE(parse_verifier_key(good)) << good;

  // Structure.
  expect_invalid_vkey("");
  expect_invalid_vkey("example.com/k");
  expect_invalid_vkey("example.com/k+c74f20a3");
  expect_invalid_vkey(good + "\n");
  expect_invalid_vkey(" " + good);
  // Wrong id: another id, upper case, too short or long, not hex.
  std::string other_id = good;
  other_id[good.find('+') + 1] = other_id[good.find('+') + 1] == '0' ? '1' : '0';
  expect_invalid_vkey(other_id);
  std::string upper = good;
  for (size_t i = good.find('+') + 1; i < good.find('+') + 9; ++i) {
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  }
  if (upper != good) expect_invalid_vkey(upper);
  std::string id = good.substr(good.find('+') + 1, 8);
  std::string rest = good.substr(good.find('+') + 9);
  expect_invalid_vkey("example.com/k+" + id.substr(0, 7) + rest);
  expect_invalid_vkey("example.com/k+0" + id + rest);
  expect_invalid_vkey("example.com/k+" + id.substr(0, 7) + "g" + rest);
  // Unknown types, each with a matching id so that only the type is wrong.
  for (uint8_t type : {0x00, 0x02, 0x03, 0x05, 0xff}) {
    expect_invalid_vkey(vkey_for("example.com/k", public_material(type, pub)));
  }
  // Bad names.
  for (std::string name : {"", "a b", "a+b", "a\tb", "a\xc2\xa0", "\xff"}) {
    expect_invalid_vkey(vkey_for(name, public_material(1, pub)));
  }
  // Key material of the wrong length: short, long, empty, type byte only.
  std::string material = public_material(1, pub);
  expect_invalid_vkey(vkey_for("example.com/k", material.substr(0, 32)));
  expect_invalid_vkey(vkey_for("example.com/k", material + "x"));
  expect_invalid_vkey(vkey_for("example.com/k", ""));
  expect_invalid_vkey(vkey_for("example.com/k", material.substr(0, 1)));
  // Bad base64: extra padding, a missing character, whitespace, the URL alphabet.
  std::string head = good.substr(0, good.find('+', good.find('+') + 1) + 1);
  std::string key64 = good.substr(head.size());
  expect_invalid_vkey(head + key64 + "=");
  expect_invalid_vkey(head + key64.substr(0, key64.size() - 1));
  expect_invalid_vkey(head + " " + key64);
  expect_invalid_vkey(head + key64 + " ");
  std::string url = key64;
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  if (url != key64) expect_invalid_vkey(head + url);
}

TEST(NoteKeys, ChangedKeyFailsIdCheck) {
  const auto pub = verifier_of(signer_key_from_seed("n", test_seed(9))).public_key;
  std::string good = vkey_for("k", public_material(1, pub));
  ASSERT_TRUE(parse_verifier_key(good));
  std::string bad = good;
  bad.back() = bad.back() == 'A' ? 'B' : 'A';  // another key under the same id
  expect_invalid_vkey(bad);
}

TEST(NoteKeys, RejectsBadSignerKeys) {
  const std::string good = kPeterSkey;
  ASSERT_TRUE(parse_signer_key(good));
  for (std::string bad :
       {std::string(""), std::string("PRIVATE+KEY"), good.substr(12),
        "private+key+" + good.substr(12), "PRIVATE+KEYS+" + good.substr(12),
        std::string(kPeterVkey), "PRIVATE+KEY+" + std::string(kPeterVkey), good + "=",
        good.substr(0, good.size() - 1),
        "PRIVATE+KEY+PeterNeumann+c74f20a4+" + good.substr(good.rfind("+AY") + 1),
        "PRIVATE+KEY+Peter Neumann+c74f20a3+" + good.substr(good.rfind("+AY") + 1),
        "PRIVATE+KEY+PeterNeumann+C74F20A3+" + good.substr(good.rfind("+AY") + 1)}) {
    auto key = parse_signer_key(bad);
    EXPECT_FALSE(key) << bad;
    if (!key) {
      EXPECT_EQ(key.status().code(), Code::kInvalidArgument) << bad;
    }
  }
  // A seed of the wrong length and an unknown type, with otherwise sensible fields.
  auto seed = test_seed(3);
  std::string raw = "\x01" + std::string(reinterpret_cast<const char*>(seed.data()), 31);
  EXPECT_FALSE(parse_signer_key("PRIVATE+KEY+k+00000000+" + crypto::base64_encode(raw)));
  SignerKey typed = signer_key_from_seed("k", seed);
  std::string s = format_signer_key(typed);
  auto b = crypto::base64_decode(s.substr(s.rfind('+') + 1));
  ASSERT_TRUE(b);
  (*b)[0] = 0x02;
  EXPECT_FALSE(parse_signer_key(s.substr(0, s.rfind('+') + 1) + crypto::base64_encode(*b)));
}

}  // namespace
}  // namespace medseal::note
