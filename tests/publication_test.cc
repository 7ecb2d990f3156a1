// Publication codes and publications files (ledger/publication.h): the code survives a round trip,
// every single-character typo and every adjacent transposition of a printed code is caught, the
// parser tolerates only what copying from paper varies, and publications files parse strictly.
#include <gtest/gtest.h>

#include <span>

#include "crypto/sha256.h"
#include "ledger/publication.h"
#include "note/checkpoint.h"
#include "note/keys.h"
#include "note/note.h"

namespace medseal::ledger {
namespace {

Publication sample(std::string origin, uint64_t size, std::string_view seed) {
  return Publication{std::move(origin), size, crypto::sha256(seed)};
}

std::string code_of(const Publication& p) {
  auto code = format_publication_code(p);
  EXPECT_TRUE(code.is_ok()) << code.status().to_string();
  return code.is_ok() ? *code : "";
}

std::vector<Publication> samples() {
  Publication zeros{"example.org/medseal", 1, Hash{}};
  Publication ones{"a", UINT64_MAX, Hash{}};
  ones.root.fill(0xff);
  return {sample("localhost/medseal", 4711, "a"), sample("hospital.example/ledger", 0, "b"),
          sample("x~y_z-1/2.3", 1000000, "c"), zeros, ones};
}

// A mutated code must either be refused or mean exactly the same publication (case, look-alikes,
// moved separators); a different publication from a typo is the failure this guards against.
void expect_caught(const std::string& mutated, const Publication& original, const std::string& what) {
  auto parsed = parse_publication_code(mutated);
  if (parsed) {
    EXPECT_EQ(*parsed, original) << what << ": \"" << mutated << "\" parsed as another publication";
  }
}

TEST(PublicationCode, RoundTripsAndIsGroupedForPrint) {
  for (const Publication& p : samples()) {
    std::string code = code_of(p);
    auto parsed = parse_publication_code(code);
    ASSERT_TRUE(parsed.is_ok()) << code << ": " << parsed.status().to_string();
    EXPECT_EQ(*parsed, p);
    // origin, size, root as 13 groups of 4 joined by '-', a 3-character check.
    size_t s1 = code.find(' '), s2 = code.find(' ', s1 + 1), s3 = code.find(' ', s2 + 1);
    ASSERT_NE(s3, std::string::npos);
    EXPECT_EQ(code.substr(0, s1), p.origin);
    EXPECT_EQ(code.substr(s1 + 1, s2 - s1 - 1), std::to_string(p.size));
    EXPECT_EQ(s3 - s2 - 1, 13u * 4 + 12) << code;
    EXPECT_EQ(code.size() - s3 - 1, 3u) << code;
    EXPECT_EQ(code.find_first_of("ILOUilou", s2), std::string::npos) << code;
  }
}

TEST(PublicationCode, EverySingleCharacterSubstitutionIsCaught) {
  for (const Publication& p : samples()) {
    const std::string code = code_of(p);
    size_t refused = 0;
    for (size_t i = 0; i < code.size(); ++i) {
      for (int c = 0x20; c <= 0x7e; ++c) {
        if (c == code[i]) continue;
        std::string mutated = code;
        mutated[i] = static_cast<char>(c);
        expect_caught(mutated, p, "substitution at " + std::to_string(i));
        refused += parse_publication_code(mutated).is_ok() ? 0 : 1;
      }
    }
    // Sanity that the loop tested something: nearly every substitution is refused outright.
    EXPECT_GT(refused, code.size() * 80);
  }
}

TEST(PublicationCode, EveryAdjacentTranspositionIsCaught) {
  for (const Publication& p : samples()) {
    const std::string code = code_of(p);
    for (size_t i = 0; i + 1 < code.size(); ++i) {
      if (code[i] == code[i + 1]) continue;
      std::string mutated = code;
      std::swap(mutated[i], mutated[i + 1]);
      expect_caught(mutated, p, "transposition at " + std::to_string(i));
    }
  }
}

TEST(PublicationCode, ATypoInTheRootIsNamedAsATypo) {
  Publication p = samples()[0];
  std::string code = code_of(p);
  size_t root = code.find(' ', code.find(' ') + 1) + 1;
  code[root] = code[root] == '7' ? '8' : '7';
  auto parsed = parse_publication_code(code);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().message(), "publication code: the check does not match; a character is mistyped");
}

TEST(PublicationCode, ToleratesWhatCopyingFromPaperVaries) {
  Publication p = samples()[0];
  const std::string code = code_of(p);
  std::string lower = code;
  for (size_t i = code.find(' ', code.find(' ') + 1); i < lower.size(); ++i) lower[i] = static_cast<char>(std::tolower(lower[i]));
  std::string spaced = code;
  for (char& c : spaced) if (c == '-') c = ' ';
  std::string undashed;
  for (char c : code) if (c != '-') undashed += c;
  std::string lookalikes = code;
  for (size_t i = code.find(' ', code.find(' ') + 1); i < lookalikes.size(); ++i) {
    if (lookalikes[i] == '1') lookalikes[i] = 'l';
    if (lookalikes[i] == '0') lookalikes[i] = 'O';
  }
  std::string wrapped = "  " + code + "\n";
  wrapped[wrapped.find(' ', 2)] = '\n';
  for (const std::string& variant : {lower, spaced, undashed, lookalikes, wrapped, "\t" + code + "\r\n"}) {
    auto parsed = parse_publication_code(variant);
    ASSERT_TRUE(parsed.is_ok()) << variant << ": " << parsed.status().to_string();
    EXPECT_EQ(*parsed, p) << variant;
  }
}

TEST(PublicationCode, RejectsEverythingElseWithAReason) {
  Publication p = samples()[0];
  const std::string code = code_of(p);
  const size_t s1 = code.find(' ');
  const size_t root = code.find(' ', s1 + 1) + 1;
  struct Case {
    std::string text, reason;
  };
  std::string last_group_changed = code;
  last_group_changed[code.rfind(' ') - 1] = 'Z';  // the last root character carries padding bits
  std::vector<Case> cases = {
      {"", "found 0 fields"},
      {code.substr(0, code.rfind(' ')), "found 3 fields"},
      {"Localhost/medseal" + code.substr(s1), "check does not match"},
      {code.substr(0, s1) + " 04711" + code.substr(code.find(' ', s1 + 1)), "leading zeros"},
      {code.substr(0, s1) + " 18446744073709551616" + code.substr(code.find(' ', s1 + 1)), "size"},
      {code.substr(0, root) + "U" + code.substr(root + 1), "root character 1 is not Crockford"},
      {code.substr(0, root) + code.substr(root + 1), "fewer than 52"},
      {code.substr(0, root) + "A" + code.substr(root), "more than 52"},
      {code + "Q", "the check is not 3"},
      {"l\xc3\xa9" + code.substr(1), "offset 1 is not printable ASCII"},
      {"a+b" + code.substr(s1), "origin is not a printable key name"},
      {code + std::string(1100, ' '), "too long"},
      {last_group_changed, "check does not match"},
  };
  for (const Case& c : cases) {
    auto parsed = parse_publication_code(c.text);
    ASSERT_FALSE(parsed.is_ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.reason), std::string::npos) << c.text << ": " << parsed.status().message();
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
  }
  EXPECT_FALSE(format_publication_code(sample("caf\xc3\xa9/log", 1, "x")).is_ok());
  EXPECT_FALSE(format_publication_code(sample(std::string(201, 'a'), 1, "x")).is_ok());
}

// ---- publications files ----

class PublicationsFileTest : public ::testing::Test {
 protected:
  std::string signed_checkpoint(uint64_t size, std::string_view seed) {
    note::Checkpoint cp{key_.name, size, crypto::sha256(seed), {}};
    auto signed_note = note::sign_note(note::format_checkpoint(cp), std::span(&key_, 1));
    EXPECT_TRUE(signed_note.is_ok());
    return *signed_note;
  }

  std::string line(uint64_t size, std::string_view seed, uint64_t ms = 1795780800123) {
    auto record = make_publication_record(signed_checkpoint(size, seed), ms);
    EXPECT_TRUE(record.is_ok()) << record.status().to_string();
    return format_publication_record(*record);
  }

  void expect_refused(const std::string& text, Code code, const std::string& reason) {
    auto parsed = parse_publications_file(text);
    ASSERT_FALSE(parsed.is_ok()) << text;
    EXPECT_EQ(parsed.status().code(), code) << parsed.status().to_string();
    EXPECT_NE(parsed.status().message().find(reason), std::string::npos) << parsed.status().message();
  }

  note::SignerKey key_ = note::generate_signer_key("example.org/medseal");
};

TEST_F(PublicationsFileTest, RoundTrips) {
  std::string text = line(10, "a") + line(10, "a", 1795780900000) + line(25, "b");
  auto parsed = parse_publications_file(text);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[2].publication.size, 25u);
  EXPECT_EQ((*parsed)[2].publication.root, crypto::sha256("b"));
  EXPECT_EQ((*parsed)[0].published_ms, 1795780800123u);
  EXPECT_EQ(note::parse_note((*parsed)[2].checkpoint_note)->signatures.size(), 1u);
  EXPECT_EQ(parse_publication_code((*parsed)[2].code)->size, 25u);
  EXPECT_NE(text.find(R"("published":"2026-11-27T)"), std::string::npos) << text;
  // No final newline and the empty file are fine.
  EXPECT_TRUE(parse_publications_file(text.substr(0, text.size() - 1)).is_ok());
  EXPECT_TRUE(parse_publications_file("")->empty());
}

TEST_F(PublicationsFileTest, RejectsMalformedLines) {
  const std::string good = line(10, "a");
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  expect_refused(good + "\n" + good, Code::kInvalidArgument, "line 2");
  expect_refused("[]\n", Code::kInvalidArgument, "six publication keys");
  expect_refused(replaced("\"size\":10", "\"size\":\"10\""), Code::kInvalidArgument, "\"size\"");
  expect_refused(replaced("\"size\":10", "\"size\":11"), Code::kInvalidArgument, "do not all agree");
  expect_refused(replaced("\"size\":10,", "\"size\":10,\"size\":10,"), Code::kInvalidArgument, "line 1");
  expect_refused(replaced("\"origin\"", "\"Origin\""), Code::kInvalidArgument, "line 1");
  expect_refused(replaced(".123Z", ".123+00:00"), Code::kInvalidArgument, "\"published\"");
  expect_refused(replaced("2026-11-27", "2026-11-31"), Code::kInvalidArgument, "\"published\"");
  expect_refused(replaced("example.org/medseal\\n10", "example.org/medseal\\n11"), Code::kInvalidArgument, "line 1");
  std::string other_code = *format_publication_code(sample("example.org/medseal", 10, "z"));
  auto record = parse_publications_file(good);
  expect_refused(replaced((*record)[0].code, other_code), Code::kInvalidArgument, "do not all agree");
}

TEST_F(PublicationsFileTest, ARollbackOrForkBetweenPublicationsIsRefused) {
  expect_refused(line(25, "b") + line(10, "a"), Code::kVerificationFailed, "rolled back or forked");
  expect_refused(line(10, "a") + line(10, "c"), Code::kVerificationFailed, "line 2");
  // Another log's publications do not constrain this one's.
  note::SignerKey other = note::generate_signer_key("other.example/log");
  note::Checkpoint cp{other.name, 3, crypto::sha256("o"), {}};
  auto other_note = note::sign_note(note::format_checkpoint(cp), std::span(&other, 1));
  std::string other_line = format_publication_record(*make_publication_record(*other_note, 1));
  EXPECT_TRUE(parse_publications_file(line(25, "b") + other_line).is_ok());
}

}  // namespace
}  // namespace medseal::ledger
