// note/checkpoint.h: the tlog-checkpoint v1.0.0 note body.
#include <gtest/gtest.h>

#include <vector>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "note/checkpoint.h"

namespace medseal::note {
namespace {

const std::string kRoot = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";  // from the spec
const std::string kSpecExample = "example.com/behind-the-sofa\n20852163\n" + kRoot + "\n";

void expect_invalid(const std::string& text) {
  auto cp = parse_checkpoint(text);
  EXPECT_FALSE(cp) << text;
  if (!cp) {
    EXPECT_EQ(cp.status().code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(cp.status().message().find('\n'), std::string::npos);
  }
}

std::string with_size(const std::string& size) {
  return "example.com/log\n" + size + "\n" + kRoot + "\n";
}
std::string with_root(const std::string& root) { return "example.com/log\n1\n" + root + "\n"; }

TEST(Checkpoint, ParsesSpecExample) {
  auto cp = parse_checkpoint(kSpecExample);
  ASSERT_TRUE(cp) << cp.status().to_string();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(crypto::base64_encode(as_view(cp->root)), kRoot);
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(format_checkpoint(*cp), kSpecExample);
}

TEST(Checkpoint, ExtensionsAndOddOriginsRoundTrip) {
  // The origin only has to be non-empty: clients must not assume it is a URL.
  for (std::string origin : {"example.com/log", "a", "with space+plus", "\xc3\xa9"}) {
    std::string text = origin + "\n0\n" + kRoot + "\next one\n\xe2\x80\x94 ext two\n";
    auto cp = parse_checkpoint(text);
    ASSERT_TRUE(cp) << cp.status().to_string();
    EXPECT_EQ(cp->origin, origin);
    EXPECT_EQ(cp->extensions, (std::vector<std::string>{"ext one", "\xe2\x80\x94 ext two"}));
    EXPECT_EQ(format_checkpoint(*cp), text);
  }
}

TEST(Checkpoint, FormatParseRoundTrip) {
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{10}, uint64_t{1} << 40, UINT64_MAX}) {
    Checkpoint cp{"localhost/medseal", size, crypto::sha256(std::to_string(size)), {}};
    if (size == 10) cp.extensions = {"x", "y z"};
    std::string text = format_checkpoint(cp);
    auto back = parse_checkpoint(text);
    ASSERT_TRUE(back) << back.status().to_string();
    EXPECT_EQ(back->origin, cp.origin);
    EXPECT_EQ(back->size, size);
    EXPECT_EQ(back->root, cp.root);
    EXPECT_EQ(back->extensions, cp.extensions);
  }
}

TEST(Checkpoint, SizeLimits) {
  auto max = parse_checkpoint(with_size("18446744073709551615"));
  ASSERT_TRUE(max);
  EXPECT_EQ(max->size, UINT64_MAX);
  auto zero = parse_checkpoint(with_size("0"));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->size, 0u);
}

TEST(Checkpoint, RejectsBadSizes) {
  for (std::string size :
       {"", "01", "00", "+1", "-1", " 1", "1 ", "1.0", "1e3", "0x10", "one", "18446744073709551616",
        "99999999999999999999", "184467440737095516150", "\xef\xbc\x91" /* fullwidth 1 */}) {
    expect_invalid(with_size(size));
  }
}

TEST(Checkpoint, RejectsBadRoots) {
  expect_invalid(with_root(crypto::base64_encode(std::string(31, 'r'))));
  expect_invalid(with_root(crypto::base64_encode(std::string(33, 'r'))));
  expect_invalid(with_root(""));
  expect_invalid(with_root(kRoot.substr(0, kRoot.size() - 1)));  // missing padding
  expect_invalid(with_root(kRoot + " "));
  expect_invalid(with_root(" " + kRoot));
  std::string spare = kRoot;      // 32 bytes end in "x=" whose last char has 2 unused bits
  spare[spare.size() - 2] = 'J';  // 'I' = 001000, 'J' = 001001: a non-zero unused bit
  expect_invalid(with_root(spare));
  expect_invalid(with_root(hex_encode(crypto::sha256("x"))));
}

TEST(Checkpoint, RejectsBadStructure) {
  expect_invalid("");
  expect_invalid("\n");
  expect_invalid("\n1\n" + kRoot + "\n");  // empty origin
  expect_invalid("example.com/log\n");     // missing lines
  expect_invalid("example.com/log\n1\n");
  expect_invalid("example.com/log\n1\n" + kRoot);  // no final newline
  expect_invalid(kSpecExample + "\n");             // empty extension line
  expect_invalid(kSpecExample + "ext\n\n");
  expect_invalid(kSpecExample + "\next\n");
  expect_invalid(kSpecExample + "ext");
  expect_invalid("example.com/log\r\n1\r\n" + kRoot + "\r\n");  // CRLF
  expect_invalid("example.com/\tlog\n1\n" + kRoot + "\n");      // control character
  expect_invalid("example.com/log\xff\n1\n" + kRoot + "\n");    // invalid UTF-8
  expect_invalid(kSpecExample + std::string("e\0xt\n", 5));
}

}  // namespace
}  // namespace medseal::note
