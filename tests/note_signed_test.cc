// note/note.h: signed-note parsing, signing and opening, and every way a note can be wrong.
#include <gtest/gtest.h>

#include <vector>

#include "crypto/base64.h"
#include "note/keys.h"
#include "note/note.h"

namespace medseal::note {
namespace {

const std::string kDash = "\xe2\x80\x94";  // U+2014

crypto::Ed25519Seed test_seed(uint8_t fill) {
  crypto::Ed25519Seed seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill * 31 + i);
  return seed;
}

class NoteTest : public ::testing::Test {
 protected:
  const SignerKey alice = signer_key_from_seed("example.com/alice", test_seed(1));
  const SignerKey bob = signer_key_from_seed("example.com/bob", test_seed(2));
  const VerifierKey alice_v = verifier_of(alice);
  const VerifierKey bob_v = verifier_of(bob);
  const std::string text = "hello\n\nworld \xc3\xa9t\xc3\xa9\n";  // an empty line inside is fine

  std::string sign(std::string_view t, std::vector<SignerKey> signers) {
    auto out = sign_note(t, signers);
    EXPECT_TRUE(out) << out.status().to_string();
    return out ? *out : std::string();
  }
  std::string signed_by_alice() { return sign(text, {alice}); }
  // The signature line for `text` by `key`, with its newline.
  std::string line(const SignerKey& key, std::string_view t) {
    auto sig = sign_text(t, key);
    EXPECT_TRUE(sig);
    return format_signature_line(*sig) + "\n";
  }
};

// Both the parser and the opener must refuse a malformed note as kInvalidArgument, with a one-line
// message.
void expect_malformed(const std::string& message, std::span<const VerifierKey> known) {
  auto parsed = parse_note(message);
  EXPECT_FALSE(parsed) << message;
  if (!parsed) {
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << message;
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
  }
  auto opened = open_note(message, known);
  EXPECT_FALSE(opened) << message;
  if (!opened) {
    EXPECT_EQ(opened.status().code(), Code::kInvalidArgument) << message;
  }
}

void expect_rejected(const std::string& message, std::span<const VerifierKey> known) {
  auto opened = open_note(message, known);
  EXPECT_FALSE(opened) << message;
  if (!opened) {
    EXPECT_EQ(opened.status().code(), Code::kVerificationFailed) << opened.status().message();
  }
}

TEST_F(NoteTest, SignsAndOpens) {
  std::string note = signed_by_alice();
  EXPECT_EQ(note.substr(0, text.size() + 1), text + "\n");
  EXPECT_EQ(note.substr(text.size() + 1, kDash.size() + 1), kDash + " ");
  auto opened = open_note(note, std::span(&alice_v, 1));
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->text, text);
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].key.name, alice.name);
  EXPECT_EQ(opened->verified[0].key.id, alice.id);
  EXPECT_TRUE(opened->unknown.empty());

  auto parsed = parse_note(note);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->text, text);
  ASSERT_EQ(parsed->signatures.size(), 1u);
  EXPECT_EQ(parsed->signatures[0].name, alice.name);
  EXPECT_EQ(parsed->signatures[0].id, alice.id);
  EXPECT_EQ(parsed->signatures[0].signature.size(), 64u);
  EXPECT_EQ(format_note(*parsed), note);
}

TEST_F(NoteTest, FreshKeysRoundTrip) {
  SignerKey k = generate_signer_key("example.com/fresh");
  auto reparsed = parse_signer_key(format_signer_key(k));
  auto vkey = parse_verifier_key(format_verifier_key(verifier_of(k)));
  ASSERT_TRUE(reparsed && vkey);
  std::string note = sign("a\n", {*reparsed});
  auto opened = open_note(note, std::span(&*vkey, 1));
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->text, "a\n");
}

TEST_F(NoteTest, EdgeTextsRoundTrip) {
  // The text is everything up to the last blank line, so texts ending in blank lines survive.
  for (std::string t : std::vector<std::string>{"\n", "\n\n", "a\n\n", "a\n\n\n",
                                                "\xf0\x9f\x94\x91 \xe2\x80\x94 x\n",
                                                kDash + " example.com/alice AAAA\n"}) {
    std::string note = sign(t, {alice});
    auto opened = open_note(note, std::span(&alice_v, 1));
    ASSERT_TRUE(opened) << opened.status().to_string();
    EXPECT_EQ(opened->text, t);
  }
}

TEST_F(NoteTest, SeveralSigners) {
  std::string note = sign(text, {alice, bob});
  std::vector<VerifierKey> both = {alice_v, bob_v};
  auto opened = open_note(note, both);
  ASSERT_TRUE(opened) << opened.status().to_string();
  ASSERT_EQ(opened->verified.size(), 2u);
  EXPECT_EQ(opened->verified[0].key.name, alice.name);
  EXPECT_EQ(opened->verified[1].key.name, bob.name);

  // Unknown keys are ignored but returned.
  auto only_bob = open_note(note, std::span(&bob_v, 1));
  ASSERT_TRUE(only_bob) << only_bob.status().to_string();
  ASSERT_EQ(only_bob->verified.size(), 1u);
  EXPECT_EQ(only_bob->verified[0].key.name, bob.name);
  ASSERT_EQ(only_bob->unknown.size(), 1u);
  EXPECT_EQ(only_bob->unknown[0].name, alice.name);
  EXPECT_EQ(only_bob->unknown[0].id, alice.id);
}

TEST_F(NoteTest, UnknownKeyAloneIsRejected) {
  std::string note = sign(text, {bob});
  expect_rejected(note, std::span(&alice_v, 1));
  expect_rejected(note, {});
}

TEST_F(NoteTest, NameOrIdAloneDoesNotMakeAKeyKnown) {
  // Same name, other key (so other id); and same id under another name: both are unknown keys,
  // ignored rather than failed.
  SignerKey alice2 = signer_key_from_seed(alice.name, test_seed(9));
  ASSERT_NE(alice2.id, alice.id);
  std::string note = sign(text, {alice2, alice});
  auto opened = open_note(note, std::span(&alice_v, 1));
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->unknown.size(), 1u);

  NoteSignature renamed = *sign_text(text, alice);
  renamed.name = "example.com/mallory";
  std::string note2 = text + "\n" + format_signature_line(renamed) + "\n" + line(alice, text);
  auto opened2 = open_note(note2, std::span(&alice_v, 1));
  ASSERT_TRUE(opened2) << opened2.status().to_string();
  ASSERT_EQ(opened2->unknown.size(), 1u);
  EXPECT_EQ(opened2->unknown[0].name, "example.com/mallory");
}

TEST_F(NoteTest, KnownKeyWithBadSignatureRejectsWholeNote) {
  std::string note = signed_by_alice();
  auto parsed = parse_note(note);
  ASSERT_TRUE(parsed);
  parsed->signatures[0].signature[10] ^= 1;
  expect_rejected(format_note(*parsed), std::span(&alice_v, 1));

  // Even next to a good signature by another known key.
  std::vector<VerifierKey> both = {alice_v, bob_v};
  expect_rejected(format_note(*parsed) + line(bob, text), both);
  // A signature over another text.
  expect_rejected(text + "\n" + line(alice, "other\n"), std::span(&alice_v, 1));
  // A modified text.
  std::string changed = note;
  changed[0] = 'j';
  expect_rejected(changed, std::span(&alice_v, 1));
  // A known Ed25519 key whose signature has the wrong length.
  NoteSignature short_sig{alice.name, alice.id, std::string(63, 'x')};
  expect_rejected(text + "\n" + format_signature_line(short_sig) + "\n", std::span(&alice_v, 1));
}

TEST_F(NoteTest, RepeatedSignatureCountsOnce) {
  std::string l = line(alice, text);
  auto opened = open_note(text + "\n" + l + l, std::span(&alice_v, 1));
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->verified.size(), 1u);

  std::string b = line(bob, text);
  auto unknown = open_note(text + "\n" + b + l + b, std::span(&alice_v, 1));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->unknown.size(), 1u);
}

TEST_F(NoteTest, AmbiguousKnownKeysAreAnError) {
  VerifierKey fake = alice_v;
  fake.public_key = bob_v.public_key;
  std::vector<VerifierKey> known = {alice_v, fake};
  auto opened = open_note(signed_by_alice(), known);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.status().code(), Code::kInvalidArgument);
  // The same key twice is not ambiguous.
  std::vector<VerifierKey> twice = {alice_v, alice_v};
  EXPECT_TRUE(open_note(signed_by_alice(), twice));
}

TEST_F(NoteTest, RejectsInvalidUtf8) {
  const std::string sig = "\n" + line(alice, text);
  for (std::string bad : {"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf",  // overlong
                          "\xed\xa0\x80", "\xed\xbf\xbf",                              // surrogates
                          "\xe2\x80", "\xc3", "\xf0\x9f\x94",                          // truncated
                          "\x80", "\xbf", "\xff", "\xfe", "\xf8\x88\x80\x80\x80",  // not a start
                          "\xf4\x90\x80\x80"}) {                                   // > U+10FFFF
    expect_malformed("a" + bad + "\n" + sig, std::span(&alice_v, 1));
    expect_malformed(text + "\n" + kDash + " example.com/a" + bad + " AAAAAAA=\n",
                     std::span(&alice_v, 1));
    EXPECT_FALSE(check_note_text("a" + bad + "\n").is_ok());
    EXPECT_FALSE(sign_note("a" + bad + "\n", std::span(&alice, 1)));
  }
  // Truncated at the very end of the message.
  std::string note = signed_by_alice();
  expect_malformed(note.substr(0, note.size() - 1) + "\xe2\x80", std::span(&alice_v, 1));
  // The largest valid code points are fine.
  EXPECT_TRUE(check_note_text("\xf4\x8f\xbf\xbf \xef\xbf\xbf \xee\x80\x80\n").is_ok());
}

TEST_F(NoteTest, RejectsControlCharacters) {
  const std::string good_sig = line(alice, text);
  for (std::string c :
       std::vector<std::string>{"\r", "\t", std::string(1, '\0'), "\x01", "\x1b", "\x1f"}) {
    expect_malformed("a" + c + "b\n\n" + good_sig, std::span(&alice_v, 1));
    // In a signature line: in the name, before the base64, at the end.
    std::string in_name = good_sig;
    in_name.insert(kDash.size() + 3, c);
    expect_malformed(text + "\n" + in_name, std::span(&alice_v, 1));
    std::string at_end = good_sig;
    at_end.insert(at_end.size() - 1, c);
    expect_malformed(text + "\n" + at_end, std::span(&alice_v, 1));
    EXPECT_FALSE(check_note_text("a" + c + "\n").is_ok());
  }
  // CRLF line endings are a control character too.
  std::string crlf = signed_by_alice();
  crlf.insert(crlf.size() - 1, "\r");
  expect_malformed(crlf, std::span(&alice_v, 1));
}

TEST_F(NoteTest, RejectsBadStructure) {
  const std::string note = signed_by_alice();
  const std::string sig = line(alice, text);
  const auto known = std::span(&alice_v, 1);
  expect_malformed("", known);
  expect_malformed(note.substr(0, note.size() - 1), known);  // no final newline
  expect_malformed(text + sig, known);                       // no blank separator line
  expect_malformed(text + "\n", known);                      // no signatures
  expect_malformed(text, known);
  expect_malformed(note + "\n", known);  // blank line after
  // The last blank line separates, so these are well-formed notes whose text differs from the
  // signed one: they parse, and fail verification.
  expect_rejected(text + "\n\n" + sig, known);
  expect_rejected(text + "\n" + sig + "\n" + sig, known);
  expect_malformed(note + "trailing\n", known);
  expect_malformed(text + "\n" + sig.substr(kDash.size()), known);   // no em dash
  expect_malformed(text + "\n-" + sig.substr(kDash.size()), known);  // a hyphen instead
  expect_malformed(text + "\n" + "\xe2\x80\x93" + sig.substr(kDash.size()), known);  // en dash
  expect_malformed(text + "\n" + kDash + sig.substr(kDash.size() + 1), known);       // no space
  expect_malformed(text + "\n" + kDash + "  " + sig.substr(kDash.size() + 1), known);
  expect_malformed(text + "\n " + sig, known);                             // leading space
  expect_malformed(text + "\n" + kDash + " example.com/alice\n", known);   // no signature
  expect_malformed(text + "\n" + kDash + " example.com/alice \n", known);  // empty signature
}

TEST_F(NoteTest, RejectsBadSignatureLines) {
  const auto known = std::span(&alice_v, 1);
  NoteSignature sig = *sign_text(text, alice);
  auto with_name = [&](const std::string& name) {
    NoteSignature s = sig;
    s.name = name;
    return text + "\n" + format_signature_line(s) + "\n";
  };
  // Empty, a plus, U+00A0, U+2003, U+3000.
  for (std::string name : {"", "a+b", "+", "a\xc2\xa0", "\xe2\x80\x83", "a\xe3\x80\x80"}) {
    expect_malformed(with_name(name), known);
  }
  std::string b64 = crypto::base64_encode(std::string("\0\0\0\0", 4) + sig.signature);
  auto with_b64 = [&](const std::string& s) {
    return text + "\n" + kDash + " " + alice.name + " " + s + "\n";
  };
  ASSERT_TRUE(parse_note(with_b64(b64)));
  expect_malformed(with_b64(b64 + "="), known);                                 // extra padding
  expect_malformed(with_b64(b64.substr(0, b64.size() - 1)), known);             // missing padding
  expect_malformed(with_b64(b64.substr(0, 10) + " " + b64.substr(10)), known);  // a space inside
  expect_malformed(with_b64(b64 + " "), known);                                 // trailing space
  expect_malformed(with_b64(b64.substr(0, 10) + "*" + b64.substr(11)), known);
  expect_malformed(with_b64("AB-_" + b64.substr(4)), known);  // URL alphabet
  // Non-zero unused bits: 68 bytes end in "xx==" where the second char carries 4 spare bits.
  std::string spare = b64;
  spare[spare.size() - 3] = spare[spare.size() - 3] == 'A' ? 'B' : 'A';
  if (spare.ends_with("==")) expect_malformed(with_b64(spare), known);
  // Shorter than a key id plus one byte.
  for (size_t n : {0, 1, 3, 4}) {
    expect_malformed(with_b64(crypto::base64_encode(std::string(n, 'x'))), known);
  }
  EXPECT_TRUE(
      parse_note(with_b64(crypto::base64_encode(std::string(5, 'x')))));  // unknown key, parses
}

TEST_F(NoteTest, ParseSignatureLine) {
  NoteSignature sig = *sign_text(text, alice);
  std::string l = format_signature_line(sig);
  auto back = parse_signature_line(l);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, sig.name);
  EXPECT_EQ(back->id, sig.id);
  EXPECT_EQ(back->signature, sig.signature);
  EXPECT_FALSE(parse_signature_line(l + "\n"));
  EXPECT_FALSE(parse_signature_line(l.substr(kDash.size())));
  EXPECT_FALSE(parse_signature_line(""));
}

TEST_F(NoteTest, SignatureLimit) {
  std::vector<SignerKey> signers;
  std::vector<VerifierKey> verifiers;
  for (int i = 0; i < 101; ++i) {
    signers.push_back(signer_key_from_seed("example.com/s" + std::to_string(i),
                                           test_seed(static_cast<uint8_t>(i))));
    verifiers.push_back(verifier_of(signers.back()));
  }
  auto hundred = sign_note(text, std::span(signers).first(100));
  ASSERT_TRUE(hundred) << hundred.status().to_string();
  auto opened = open_note(*hundred, std::span(verifiers).first(100));
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->verified.size(), 100u);
  // One key known is enough; the other 99 are returned unverified.
  auto one = open_note(*hundred, std::span(verifiers).first(1));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->unknown.size(), 99u);

  std::string hundred_and_one = *hundred + line(signers[100], text);
  expect_malformed(hundred_and_one, verifiers);
  // Even when all 101 lines repeat one signature.
  std::string l = line(alice, text);
  std::string repeated = text + "\n";
  for (int i = 0; i < 101; ++i) repeated += l;
  expect_malformed(repeated, std::span(&alice_v, 1));

  auto too_many = sign_note(text, signers);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.status().code(), Code::kInvalidArgument);
}

TEST_F(NoteTest, SizeLimit) {
  std::string big(kMaxNoteSize, 'a');
  big.back() = '\n';
  EXPECT_TRUE(check_note_text(big).is_ok());
  // The text fits but the signed note would not.
  auto signed_big = sign_note(big, std::span(&alice, 1));
  ASSERT_FALSE(signed_big);
  EXPECT_EQ(signed_big.status().code(), Code::kInvalidArgument);

  std::string over = big + "\n";
  EXPECT_FALSE(check_note_text(over).is_ok());
  EXPECT_FALSE(sign_note(over, std::span(&alice, 1)));

  // A note just over the limit is refused before any signature work; one just under is opened.
  std::string sig_line = line(alice, "x\n");
  size_t text_size = kMaxNoteSize - 1 - sig_line.size();
  std::string fits(text_size, 'b');
  fits.back() = '\n';
  std::string fitting_note = sign(fits, {alice});
  ASSERT_EQ(fitting_note.size(), kMaxNoteSize);
  EXPECT_TRUE(open_note(fitting_note, std::span(&alice_v, 1)));
  std::string too_big = "b" + fitting_note;
  expect_malformed(too_big, std::span(&alice_v, 1));
}

TEST_F(NoteTest, SigningNeedsGoodInputs) {
  EXPECT_FALSE(sign_note(text, {}));
  EXPECT_FALSE(sign_note("no newline", std::span(&alice, 1)));
  EXPECT_FALSE(sign_note("", std::span(&alice, 1)));
  SignerKey witness = signer_key_from_seed("example.com/w", test_seed(5), KeyType::kCosignatureV1);
  auto wrong_type = sign_note(text, std::span(&witness, 1));
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.status().code(), Code::kInvalidArgument);
  SignerKey bad_name = alice;
  bad_name.name = "has space";
  EXPECT_FALSE(sign_text(text, bad_name));
}

}  // namespace
}  // namespace medseal::note
