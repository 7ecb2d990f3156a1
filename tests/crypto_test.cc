#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "crypto/ed25519.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "util/bytes.h"

namespace medseal::crypto {
namespace {

TEST(Random, FillsEveryByteOfLargeAndSmallRequestsWithFreshBytes) {
  // 1 MiB is past the DRBG's largest single request (64 KiB): every 4 KiB piece must be filled.
  std::vector<uint8_t> a(1 << 20, 0), b(1 << 20, 0);
  random_bytes(a.data(), a.size());
  random_bytes(b.data(), b.size());
  EXPECT_NE(a, b);
  for (size_t at = 0; at < a.size(); at += 4096) {
    EXPECT_NE(std::count(a.begin() + long(at), a.begin() + long(at + 4096), 0), 4096) << at;
  }
  uint8_t one[32] = {}, two[32] = {};
  random_bytes(one, sizeof one);
  random_bytes(two, sizeof two);
  EXPECT_NE(std::string(one, one + 32), std::string(two, two + 32));
  random_bytes(nullptr, 0);  // nothing to fill
}

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(hex_encode(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_encode(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("ab", "c"), sha256("abc"));
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish(), sha256("abc"));
}

TEST(Base64, RoundTripsAndRejectsNonCanonical) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  for (const char* bad : {"Zm8", "Zm9=", "Zg=", "Z===", "====", "Zm 8=", "Zm8=\n", "Zm-_", "Zg==Zg==",
                          "Zh=="}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

// RFC 8032 section 7.1, TEST 2.
TEST(Ed25519, Rfc8032Vector) {
  auto seed_bytes = hex_decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  ASSERT_TRUE(seed_bytes);
  Ed25519Seed seed;
  std::copy(seed_bytes->begin(), seed_bytes->end(), seed.begin());
  Ed25519PublicKey pub = ed25519_public_key(seed);
  EXPECT_EQ(hex_encode(std::string_view(reinterpret_cast<const char*>(pub.data()), 32)),
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  std::string msg("\x72", 1);
  Ed25519Signature sig = ed25519_sign(seed, msg);
  EXPECT_EQ(hex_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), 64)),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  EXPECT_TRUE(ed25519_verify(pub, msg, sig));
  sig[0] ^= 1;
  EXPECT_FALSE(ed25519_verify(pub, msg, sig));
}

}  // namespace
}  // namespace medseal::crypto
