// medseal publish, extend and verify (witness quorum, publications, consistency) as a user runs
// them: a real `medseal serve`, receipts fetched over HTTP from loopback, publications of the live
// log, an old receipt extended to a later publication and verified with no key. Witness
// cosignatures are made here with note::cosign, as a witness would.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>

#include "crypto/sha256.h"
#include "ledger/keyfile.h"
#include "ledger/ledger.h"
#include "ledger/publication.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "note/tlog_proof.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::cli {
namespace {

using medseal::testing::ProgramOutcome;
using medseal::testing::read_file;
using medseal::testing::run_medseal;
using medseal::testing::Server;
using medseal::testing::TempDir;

std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

bool one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

std::string chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void expect_failure(const ProgramOutcome& r, int status, const std::string& command, const std::string& reason) {
  EXPECT_EQ(r.status, status) << r.out << r.err;
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_EQ(r.err.rfind("medseal " + command + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
}

// `receipt` with its tlog-proof changed by `edit`.
template <typename Edit>
std::string edited(const std::string& receipt, Edit edit) {
  auto proof = note::parse_tlog_proof(receipt);
  EXPECT_TRUE(proof.is_ok()) << proof.status().to_string();
  edit(*proof);
  return note::format_tlog_proof(*proof);
}

// ---- publications of a live log ----

class CliPublishTest : public ::testing::Test {
 protected:
  void append(uint64_t first, uint64_t count) {
    std::string text;
    for (uint64_t i = first; i < first + count; ++i) text += R"({"event":"test","n":)" + std::to_string(i) + "}\n";
    ProgramOutcome r = run_medseal({"log", "append", "--data", data_}, write_file(tmp_.path() + "/in", text));
    ASSERT_EQ(r.status, 0) << r.err;
  }

  // GET /ledger/receipts/N over loopback with the admin token.
  std::string fetch_receipt(const Server& server, uint64_t index) {
    httplib::Client client(server.base());
    httplib::Headers auth = {{"Authorization", "Bearer " + chomp(read_file(data_ + "/admin.token"))}};
    auto res = client.Get("/ledger/receipts/" + std::to_string(index), auth);
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    return res ? res->body : "";
  }

  ProgramOutcome publish(const Server& server, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"publish", "--url", server.log_url(), "--vkey", vkey(), "--append-to", pubs_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_medseal(args);
  }

  ProgramOutcome verify_with_code(const std::string& receipt, const std::string& code) {
    return run_medseal({"verify", "--receipt", write_file(tmp_.path() + "/to-verify", receipt), "--publication", code});
  }

  std::string vkey() const { return data_ + "/log.vkey"; }

  TempDir tmp_;
  std::string data_ = tmp_.path() + "/data";
  std::string pubs_ = tmp_.path() + "/publications.jsonl";
};

TEST_F(CliPublishTest, AnOldReceiptExtendedToALaterPublicationVerifiesWithNoKey) {
  append(0, 300);
  std::string old_receipt, code1, code2;
  {
    Server server(data_);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    old_receipt = fetch_receipt(server, 5);
    ProgramOutcome r = publish(server);
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_TRUE(one_line(r.out)) << r.out;
    code1 = chomp(r.out);
    EXPECT_EQ(code1.rfind("localhost/medseal 30", 0), 0u) << code1;  // 300 entries and the receipt's access
    // Publishing the same checkpoint again prints the same code and adds no line.
    r = publish(server);
    EXPECT_EQ(chomp(r.out), code1) << r.err;
  }
  append(300, 700);  // crosses tile boundaries: the old partial tiles are full now
  Server server(data_);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ProgramOutcome r = publish(server);
  ASSERT_EQ(r.status, 0) << r.err;
  code2 = chomp(r.out);
  auto records = ledger::parse_publications_file(read_file(pubs_));
  ASSERT_TRUE(records.is_ok()) << records.status().to_string();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].code, code2);

  // The log's current checkpoint is the published one, so the code alone is enough to extend.
  std::string extended = tmp_.path() + "/extended";
  r = run_medseal({"extend", "--receipt", write_file(tmp_.path() + "/old", old_receipt), "--url", server.log_url(),
                   "--publication", code2, "--out", extended});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("to the publication " + code2), std::string::npos) << r.out;

  r = verify_with_code(read_file(extended), code2);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(one_line(r.out)) << r.out;
  EXPECT_EQ(r.out.rfind("verified: entry 5 (system), checkpoint size " + std::to_string((*records)[1].publication.size), 0), 0u) << r.out;
  EXPECT_NE(r.out.find("no signature was checked, the publication pins the root"), std::string::npos) << r.out;
  // The extended receipt carries the published signed checkpoint: the log key verifies it too.
  r = run_medseal({"verify", "--receipt", extended, "--vkey", vkey()});
  EXPECT_EQ(r.status, 0) << r.err;

  // From the publications file: the first publication covering the receipt, or the one named.
  r = run_medseal({"extend", "--receipt", tmp_.path() + "/old", "--url", server.log_url(), "--publications", pubs_,
                   "--out", extended, "--vkey", vkey()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(code1), std::string::npos) << r.out;
  EXPECT_EQ(verify_with_code(read_file(extended), code1).status, 0);
  r = run_medseal({"extend", "--receipt", tmp_.path() + "/old", "--url", server.log_url(), "--publications", pubs_,
                   "--publication", code2, "--out", extended});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(verify_with_code(read_file(extended), code2).status, 0);

  // A receipt against another publication, a forged code, a tampered receipt: exit 1, one line.
  expect_failure(verify_with_code(read_file(extended), code1), 1, "verify", "is not the pinned one");
  expect_failure(verify_with_code(old_receipt, code2), 1, "verify", "is not the pinned one");
  auto pub = ledger::parse_publication_code(code2);
  ASSERT_TRUE(pub.is_ok());
  pub->root[0] ^= 1;
  expect_failure(verify_with_code(read_file(extended), *ledger::format_publication_code(*pub)), 1, "verify",
                 "is not the pinned one");
  std::string tampered = edited(read_file(extended), [](note::TlogProof& p) { p.inclusion.back()[3] ^= 1; });
  expect_failure(verify_with_code(tampered, code2), 1, "verify", "inclusion proof does not lead to the checkpoint's root");
  tampered = edited(read_file(extended), [](note::TlogProof& p) { (*p.extra)[50] ^= 1; });
  expect_failure(verify_with_code(tampered, code2), 1, "verify", "do not match the entry's commitment");
  // A mistyped code is malformed input (exit 2), named as a typo.
  std::string typo = code2;
  typo[typo.size() - 5] = typo[typo.size() - 5] == '7' ? '8' : '7';
  expect_failure(verify_with_code(read_file(extended), typo), 2, "verify", "mistyped");

  // The log has moved on since code1: the code alone cannot extend to it.
  expect_failure(run_medseal({"extend", "--receipt", tmp_.path() + "/old", "--url", server.log_url(), "--publication",
                              code1, "--out", extended}),
                 1, "extend", "is not the published one; give --publications FILE");
  // A receipt newer than the publication cannot be extended back to it.
  std::string new_receipt = write_file(tmp_.path() + "/new", fetch_receipt(server, 900));
  expect_failure(run_medseal({"extend", "--receipt", new_receipt, "--url", server.log_url(), "--publications", pubs_,
                              "--publication", code1, "--out", extended}),
                 1, "extend", "smaller than the old one");
}

TEST_F(CliPublishTest, PublishRefusesWhatDoesNotExtendTheLastPublicationOrMeetTheQuorum) {
  append(0, 20);
  Server server(data_);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ASSERT_EQ(publish(server).status, 0);
  // A publications file whose last entry is a fork of this log (same key, another root).
  auto key = ledger::read_signer_key_file(data_ + "/log.key");
  ASSERT_TRUE(key.is_ok());
  note::Checkpoint fork{key->name, 20, crypto::sha256("fork"), {}};
  auto fork_note = note::sign_note(note::format_checkpoint(fork), std::span(&*key, 1));
  std::string forked = tmp_.path() + "/forked.jsonl";
  write_file(forked, ledger::format_publication_record(*ledger::make_publication_record(*fork_note, 1)));
  expect_failure(run_medseal({"publish", "--url", server.log_url(), "--vkey", vkey(), "--append-to", forked}), 1,
                 "publish", "against the last publication");
  // A witness policy the unwitnessed checkpoint does not meet.
  std::string witness = note::format_verifier_key(
      note::verifier_of(note::generate_signer_key("witness.example/w1", note::KeyType::kCosignatureV1)));
  expect_failure(publish(server, {"--witness", witness}), 1, "publish", "0 of 1 witnesses cosigned");
  EXPECT_EQ(ledger::parse_publications_file(read_file(pubs_))->size(), 1u);
}

TEST_F(CliPublishTest, ConsistencyBetweenCheckpointFilesAndTheLiveLog) {
  append(0, 100);
  std::string old_cp = tmp_.path() + "/old.checkpoint";
  {
    Server server(data_);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    httplib::Client client(server.base());
    auto res = client.Get("/log/checkpoint");
    ASSERT_TRUE(res && res->status == 200);
    write_file(old_cp, res->body);
  }
  append(100, 400);
  Server server(data_);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  httplib::Client client(server.base());
  std::string new_cp = write_file(tmp_.path() + "/new.checkpoint", client.Get("/log/checkpoint")->body);

  ProgramOutcome r = run_medseal({"verify", "--old", old_cp, "--url", server.log_url(), "--vkey", vkey()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("consistent: localhost/medseal size 100 ", 0), 0u) << r.out;
  r = run_medseal({"verify", "--old", old_cp, "--new", new_cp, "--url", server.log_url(), "--vkey", vkey()});
  EXPECT_EQ(r.status, 0) << r.err;
  expect_failure(run_medseal({"verify", "--old", new_cp, "--new", old_cp, "--url", server.log_url(), "--vkey", vkey()}),
                 1, "verify", "a rollback");
  // A checkpoint of size 100 with another root, signed by the log key: a fork.
  auto key = ledger::read_signer_key_file(data_ + "/log.key");
  ASSERT_TRUE(key.is_ok());
  note::Checkpoint fork{key->name, 100, crypto::sha256("fork"), {}};
  std::string forked = write_file(tmp_.path() + "/fork", *note::sign_note(note::format_checkpoint(fork), std::span(&*key, 1)));
  expect_failure(run_medseal({"verify", "--old", forked, "--url", server.log_url(), "--vkey", vkey()}), 1, "verify",
                 "the log forked or serves bad tiles");
  expect_failure(run_medseal({"verify", "--old", forked, "--new", old_cp, "--url", server.log_url(), "--vkey", vkey()}),
                 1, "verify", "the log forked");
  // The whole log through medseal verify, as medseal log verify.
  r = run_medseal({"verify", "--url", server.log_url(), "--vkey", vkey()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("verified localhost/medseal at size 500"), std::string::npos) << r.out;
}

TEST(CliPublishUsage, MalformedArgumentsExit2WithOneLine) {
  TempDir tmp;
  std::string f = write_file(tmp.path() + "/f", "x");
  std::string vkey = note::format_verifier_key(note::verifier_of(note::generate_signer_key("a.example/log")));
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"verify"},
           {"verify", "--receipt", f, "--publication", "a 1 b c", "--vkey", vkey},
           {"verify", "--receipt", f},
           {"verify", "--receipt", f, "--vkey", vkey, "--witness", vkey, "--quorum", "2"},
           {"verify", "--receipt", f, "--vkey", vkey, "--quorum", "0"},
           {"verify", "--receipt", f, "--publication", "not a code"},
           {"verify", "--publication", "x"},
           {"verify", "--new", f},
           {"verify", "--old", f, "--vkey", vkey},
           {"verify", "--receipt", f, "--old", f, "--vkey", vkey},
           {"publish", "--vkey", vkey},
           {"publish", "--url", "ftp://x", "--vkey", vkey},
           {"publish", "--url", "http://127.0.0.1:1/log", "--vkey", "nonsense"},
           {"extend", "--receipt", f, "--url", "http://127.0.0.1:1/log", "--out", f},
           {"extend", "--receipt", f, "--url", "http://127.0.0.1:1/log", "--publication", "bad", "--out", f},
       }) {
    ProgramOutcome r = run_medseal(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << ": " << r.err;
    EXPECT_TRUE(one_line(r.err)) << joined << ": " << r.err;
  }
  ProgramOutcome help = run_medseal({"verify", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("Exit codes: 0 verified; 1 did not verify"), std::string::npos) << help.out;
}

// ---- witness quorum on receipts whose checkpoints are cosigned here ----

class CliWitnessQuorumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::open_sqlite_store(tmp_.path() + "/medseal.db");
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    auto ledger = ledger::Ledger::open(**store, log_);
    ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
    std::vector<ledger::AppendRequest> requests(10);
    for (auto& r : requests) r.statement = R"({"event":"test"})";
    ASSERT_TRUE((*ledger)->append_all(std::move(requests)).is_ok());
    auto receipt = (*ledger)->receipt(3);
    ASSERT_TRUE(receipt.is_ok()) << receipt.status().to_string();
    receipt_ = *receipt;
    for (int i = 1; i <= 4; ++i) {
      witnesses_.push_back(note::generate_signer_key("witness.example/w" + std::to_string(i), note::KeyType::kCosignatureV1));
    }
  }

  // The receipt with its checkpoint cosigned by witnesses `which` (indexes into witnesses_).
  std::string cosigned(const std::vector<size_t>& which, bool forge_last = false) {
    return edited(receipt_, [&](note::TlogProof& p) {
      auto parsed = note::parse_note(p.checkpoint);
      ASSERT_TRUE(parsed.is_ok());
      for (size_t i : which) {
        auto sig = note::cosign(parsed->text, witnesses_[i], kTime + i);
        ASSERT_TRUE(sig.is_ok()) << sig.status().to_string();
        parsed->signatures.push_back(*sig);
      }
      if (forge_last) parsed->signatures.back().signature[20] ^= 1;
      p.checkpoint = note::format_note(*parsed);
    });
  }

  ProgramOutcome verify(const std::string& receipt, const std::vector<size_t>& given, const std::string& quorum = "") {
    std::vector<std::string> args = {"verify", "--receipt", write_file(tmp_.path() + "/r", receipt), "--vkey",
                                     note::format_verifier_key(note::verifier_of(log_))};
    for (size_t i : given) args.insert(args.end(), {"--witness", note::format_verifier_key(note::verifier_of(witnesses_[i]))});
    if (!quorum.empty()) args.insert(args.end(), {"--quorum", quorum});
    return run_medseal(args);
  }

  static constexpr uint64_t kTime = 1795780800;  // 2026-11-27T12:00:00Z
  TempDir tmp_;
  note::SignerKey log_ = note::generate_signer_key("example.org/quorum-test");
  std::vector<note::SignerKey> witnesses_;
  std::string receipt_;
};

TEST_F(CliWitnessQuorumTest, KOfNMetReportsWhoCosignedAndWhen) {
  ProgramOutcome r = verify(cosigned({0, 1}), {0, 1, 2}, "2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(one_line(r.out)) << r.out;
  EXPECT_NE(r.out.find("; cosigned by 2 of 3 witnesses (quorum 2): witness.example/w1 at 2026-11-27T12:00:00.000Z, "
                       "witness.example/w2 at 2026-11-27T12:00:01.000Z\n"),
            std::string::npos)
      << r.out;
  r = verify(cosigned({0, 1, 2}), {0, 1, 2});  // default quorum: all given
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(CliWitnessQuorumTest, KNotMetFails) {
  expect_failure(verify(cosigned({0, 1}), {0, 1, 2}), 1, "verify",
                 "2 of 3 witnesses cosigned, the quorum is 3 (cosigned: witness.example/w1, witness.example/w2)");
  expect_failure(verify(receipt_, {0}), 1, "verify", "0 of 1 witnesses cosigned");
}

TEST_F(CliWitnessQuorumTest, AForgedCosignatureFails) {
  expect_failure(verify(cosigned({0, 1}, true), {0, 1, 2}, "1"), 1, "verify", "checkpoint signatures: ");
}

TEST_F(CliWitnessQuorumTest, AnUnknownWitnessDoesNotCount) {
  std::string receipt = cosigned({0, 3});  // w4 is nobody this verifier trusts
  expect_failure(verify(receipt, {0, 1}, "2"), 1, "verify", "1 of 2 witnesses cosigned, the quorum is 2");
  ProgramOutcome r = verify(receipt, {0, 1}, "1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("w4"), std::string::npos) << r.out;
  // A witness key given twice, or the log's own key as a witness, is a usage error.
  expect_failure(verify(receipt, {0, 0}, "1"), 2, "verify", "given twice");
}

}  // namespace
}  // namespace medseal::cli
