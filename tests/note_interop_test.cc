// Interoperability with Go's golang.org/x/mod/sumdb/note, a third-party implementation, in both
// directions: Go opens what we sign, we open what Go signs, and both derive the same keys from the
// same seed. The Go side is tests/interop/note_interop.go, built offline in GOPATH mode against
// Debian's golang-golang-x-mod-dev. Without Go these tests fail (CI installs it through
// scripts/install-deps.sh); they never skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "crypto/sha256.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/keys.h"
#include "note/note.h"
#include "support/paths.h"
#include "support/process.h"
#include "witness/cosigned_checkpoint.h"

namespace medseal::note {
namespace {

using medseal::testing::CommandOutcome;
using medseal::testing::go_interop_tool;
using medseal::testing::run_command;
using medseal::testing::shell_quote;
using medseal::testing::TempDir;

TempDir& scratch() {
  static TempDir dir;
  return dir;
}

std::string write_file(const std::string& name, const std::string& content) {
  std::string path = scratch().path() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

crypto::Ed25519Seed seed_of(std::string_view label) {
  Hash h = crypto::sha256(label);
  crypto::Ed25519Seed seed;
  std::copy(h.begin(), h.end(), seed.begin());
  return seed;
}

std::string hex_of(const crypto::Ed25519Seed& seed) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
}

std::string label(const SignerKey& k) {
  char id[9];
  std::snprintf(id, sizeof id, "%08x", k.id);
  return k.name + "+" + id;
}

class GoNoteInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    tool = go_interop_tool("note_interop", &why);
    ASSERT_FALSE(tool.empty()) << why;
  }
  CommandOutcome go(const std::string& args) { return run_command(shell_quote(tool) + " " + args); }

  std::string tool;
  const SignerKey ours = signer_key_from_seed("example.com/medseal-interop", seed_of("ours"));
  const SignerKey other = signer_key_from_seed("other.example/key", seed_of("other"));
};

TEST_F(GoNoteInterop, GoOpensOurNote) {
  const std::string text = "medseal interop\n\nline with \xc3\xa9 and \xe2\x80\x94 dash\n";
  std::vector<SignerKey> signers = {ours, other};
  auto note = sign_note(text, signers);
  ASSERT_TRUE(note) << note.status().to_string();
  std::string path = write_file("ours.note", *note);

  CommandOutcome r = go("verify " + shell_quote(path) + " " + shell_quote(format_verifier_key(verifier_of(ours))));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, text + "verified " + label(ours) + "\nunverified " + label(other) + "\n");

  r = go("verify " + shell_quote(path) + " " + shell_quote(format_verifier_key(verifier_of(ours))) + " " +
         shell_quote(format_verifier_key(verifier_of(other))));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, text + "verified " + label(ours) + "\nverified " + label(other) + "\n");
}

TEST_F(GoNoteInterop, GoOpensOurCosignedCheckpoint) {
  const std::string cp =
      format_checkpoint({"example.com/medseal-interop", 15, crypto::sha256("root"), {}});
  SignerKey witness =
      signer_key_from_seed("witness.example/w", seed_of("witness"), KeyType::kCosignatureV1);
  auto parsed = parse_note(*sign_note(cp, std::span(&ours, 1)));
  ASSERT_TRUE(parsed);
  parsed->signatures.push_back(*cosign(cp, witness, 1767139200));
  std::string path = write_file("checkpoint.note", format_note(*parsed));

  // Go's x/mod 0.7.0 knows no type 0x04 keys, so to it the cosignature is simply unknown.
  CommandOutcome r = go("verify " + shell_quote(path) + " " + shell_quote(format_verifier_key(verifier_of(ours))));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, cp + "verified " + label(ours) + "\nunverified " + label(witness) + "\n");
}

// What /log/checkpoint serves with witnesses (witness/cosigned_checkpoint.h): Go verifies the log's
// signature and passes over the quorum's cosignatures as signatures by unknown keys.
TEST_F(GoNoteInterop, GoOpensTheCheckpointWeServeWithWitnesses) {
  const std::string cp =
      format_checkpoint({"example.com/medseal-interop", 1234, crypto::sha256("tree"), {}});
  std::vector<NoteSignature> cosignatures;
  std::vector<VerifierKey> witness_keys;
  std::string expected_unverified;
  for (std::string name : {"witness.example/a", "witness.example/b", "witness.example/c"}) {
    SignerKey w = signer_key_from_seed(name, seed_of(name), KeyType::kCosignatureV1);
    cosignatures.push_back(*cosign(cp, w, 1767139200 + cosignatures.size()));
    witness_keys.push_back(verifier_of(w));
    expected_unverified += "unverified " + label(w) + "\n";
  }
  auto served = witness::add_cosignatures(*sign_note(cp, std::span(&ours, 1)), cosignatures);
  ASSERT_TRUE(served) << served.status().to_string();
  ASSERT_TRUE(witness::open_cosigned(*served, verifier_of(ours), witness_keys, 3));

  CommandOutcome r = go("verify " + shell_quote(write_file("served.note", *served)) + " " +
                        shell_quote(format_verifier_key(verifier_of(ours))));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, cp + "verified " + label(ours) + "\n" + expected_unverified);
}

TEST_F(GoNoteInterop, GoRejectsWhatWeReject) {
  std::string note = *sign_note("tamper with me\n", std::span(&ours, 1));
  std::string vkey = shell_quote(format_verifier_key(verifier_of(ours)));
  std::string changed = note;
  changed[0] = 'T';
  CommandOutcome r = go("verify " + shell_quote(write_file("changed.note", changed)) + " " + vkey);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("invalid signature"), std::string::npos) << r.output;
  EXPECT_EQ(open_note(changed, std::vector<VerifierKey>{verifier_of(ours)}).status().code(),
            Code::kVerificationFailed);

  std::string no_newline = note.substr(0, note.size() - 1);
  r = go("verify " + shell_quote(write_file("short.note", no_newline)) + " " + vkey);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_EQ(parse_note(no_newline).status().code(), Code::kInvalidArgument);
}

TEST_F(GoNoteInterop, SameKeysFromSameSeed) {
  for (std::string name : {"example.com/log/testdata", "PeterNeumann", "localhost/medseal",
                           "\xc3\xa9t\xc3\xa9.example/k"}) {
    for (std::string label_text : {"a", "b", "c"}) {
      crypto::Ed25519Seed seed = seed_of(name + label_text);
      CommandOutcome r = go("generate " + shell_quote(name) + " " + hex_of(seed));
      ASSERT_EQ(r.status, 0) << r.output;
      SignerKey k = signer_key_from_seed(name, seed);
      EXPECT_EQ(r.output, format_signer_key(k) + "\n" + format_verifier_key(verifier_of(k)) + "\n");
      std::string go_skey = r.output.substr(0, r.output.find('\n'));
      auto parsed = parse_signer_key(go_skey);
      ASSERT_TRUE(parsed) << parsed.status().to_string();
      EXPECT_EQ(parsed->seed, seed);
    }
  }
}

TEST_F(GoNoteInterop, WeOpenWhatGoSigns) {
  // Keys generated by Go itself, then a note signed by Go with two of them.
  CommandOutcome gen1 = go("generate example.com/go-one " + hex_of(seed_of("go-one")));
  CommandOutcome gen2 = go("generate example.com/go-two " + hex_of(seed_of("go-two")));
  ASSERT_EQ(gen1.status, 0) << gen1.output;
  ASSERT_EQ(gen2.status, 0) << gen2.output;
  auto lines = [](const std::string& out) {
    size_t nl = out.find('\n');
    return std::pair(out.substr(0, nl), out.substr(nl + 1, out.size() - nl - 2));
  };
  auto [skey1, vkey1] = lines(gen1.output);
  auto [skey2, vkey2] = lines(gen2.output);

  const std::string text = "signed by Go\n\xf0\x9f\x94\x91\n";
  std::string text_path = write_file("text", text);
  CommandOutcome signed_note = go("sign " + shell_quote(text_path) + " " + shell_quote(skey1) + " " + shell_quote(skey2));
  ASSERT_EQ(signed_note.status, 0) << signed_note.output;

  auto v1 = parse_verifier_key(vkey1);
  auto v2 = parse_verifier_key(vkey2);
  ASSERT_TRUE(v1 && v2) << vkey1 << " " << vkey2;
  std::vector<VerifierKey> known = {*v1, *v2};
  auto opened = open_note(signed_note.output, known);
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(opened->text, text);
  EXPECT_EQ(opened->verified.size(), 2u);

  // And our signatures with the same keys are the same bytes.
  std::vector<SignerKey> signers = {*parse_signer_key(skey1), *parse_signer_key(skey2)};
  auto ours_signed = sign_note(text, signers);
  ASSERT_TRUE(ours_signed);
  EXPECT_EQ(*ours_signed, signed_note.output);

  // Go signing with a key we formatted.
  CommandOutcome r = go("sign " + shell_quote(text_path) + " " + shell_quote(format_signer_key(ours)));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, *sign_note(text, std::span(&ours, 1)));
}

}  // namespace
}  // namespace medseal::note
