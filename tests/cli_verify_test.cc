// `medseal verify` and `medseal token issue` as a user runs them. Receipts come from a real ledger
// over the SQLite store; every kind of tampering (the resource, the statement inside the receipt,
// the inclusion proof, the checkpoint, the key) must fail with exit 1 and a one-line reason.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/data_dir.h"
#include "crypto/sha256.h"
#include "identity/token_store.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "note/tlog_proof.h"
#include "records/statement.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/paths.h"
#include "support/process.h"

namespace medseal::cli {
namespace {

using medseal::testing::ProgramOutcome;
using medseal::testing::run_medseal;
using medseal::testing::TempDir;

constexpr uint64_t kWriteTime = 1767139200123;
const std::string kResource = R"({"resourceType":"Observation","id":"o-1","valueQuantity":{"value":1.00}})";

bool one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

std::string statement_for(const std::string& op, const std::string& resource_bytes) {
  records::Statement s;
  s.op = op;
  s.time_ms = kWriteTime;
  s.who = "dr.house";
  s.role = "clinician";
  s.purpose = "TREAT";
  s.resources = {"Observation/o-1/_history/1"};
  if (op != "delete") s.sha256 = hex_encode(crypto::sha256(resource_bytes));
  s.patients = {"Patient/p-1"};
  return records::format_statement(s);
}

// A log of 20 entries over the SQLite store: entry 5 writes kResource, entry 9 deletes it,
// entry 0 is a system event; receipts for those against the final checkpoint.
class CliVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::open_sqlite_store(tmp_.path() + "/medseal.db");
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    auto ledger = ledger::Ledger::open(**store, key_);
    ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
    std::vector<ledger::AppendRequest> requests(20);
    for (size_t i = 0; i < requests.size(); ++i) requests[i].statement = R"({"event":"test"})";
    requests[kWrite] = {ledger::EntryKind::kRecordVersion, statement_for("create", kResource), kWriteTime};
    requests[kDelete] = {ledger::EntryKind::kRecordVersion, statement_for("delete", ""), kWriteTime};
    ASSERT_TRUE((*ledger)->append_all(std::move(requests)).is_ok());
    for (uint64_t index : {kSystem, kWrite, kDelete}) {
      auto receipt = (*ledger)->receipt(index);
      ASSERT_TRUE(receipt.is_ok()) << receipt.status().to_string();
      receipts_[index] = *receipt;
    }
    ledger->reset();
    vkey_ = write_file(tmp_.path() + "/log.vkey", note::format_verifier_key(note::verifier_of(key_)) + "\n");
    resource_ = write_file(tmp_.path() + "/resource.json", kResource);
  }

  ProgramOutcome verify(const std::string& receipt_text, const std::string& resource = "") {
    std::string path = write_file(tmp_.path() + "/receipt", receipt_text);
    std::vector<std::string> args = {"verify", "--receipt", path, "--vkey", vkey_};
    if (!resource.empty()) args.insert(args.end(), {"--resource", resource});
    return run_medseal(args);
  }

  // `receipt` parsed, changed by `edit`, formatted again.
  template <typename Edit>
  std::string edited(const std::string& receipt, Edit edit) {
    auto proof = note::parse_tlog_proof(receipt);
    EXPECT_TRUE(proof.is_ok()) << proof.status().to_string();
    edit(*proof);
    return note::format_tlog_proof(*proof);
  }

  void expect_failure(const ProgramOutcome& r, const std::string& reason) {
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_EQ(r.err.rfind("medseal verify: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }

  static constexpr uint64_t kSystem = 0, kWrite = 5, kDelete = 9;
  TempDir tmp_;
  note::SignerKey key_ = note::generate_signer_key("example.org/verify-test");
  std::map<uint64_t, std::string> receipts_;
  std::string vkey_, resource_;
};

TEST_F(CliVerifyTest, AReceiptAndItsResourceVerify) {
  ProgramOutcome r = verify(receipts_[kWrite], resource_);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(one_line(r.out)) << r.out;
  EXPECT_EQ(r.out.rfind("verified: entry 5 (record version), checkpoint size 20 of example.org/verify-test, root ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("the resource is the one written (create Observation/o-1/_history/1)"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");

  r = verify(receipts_[kWrite]);  // without the resource: the receipt alone
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("resource"), std::string::npos) << r.out;

  std::string vkey_text = note::format_verifier_key(note::verifier_of(key_));
  r = run_medseal({"verify", "--receipt", write_file(tmp_.path() + "/r", receipts_[kSystem]), "--vkey", vkey_text});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("verified: entry 0 (system), checkpoint size 20", 0), 0u) << r.out;
}

TEST_F(CliVerifyTest, OneChangedByteOfTheResourceFails) {
  std::string changed = kResource;
  changed[changed.find("1.00") + 3] = '1';
  expect_failure(verify(receipts_[kWrite], write_file(tmp_.path() + "/changed.json", changed)),
                 "the resource's SHA-256 does not match the statement");
  expect_failure(verify(receipts_[kWrite], write_file(tmp_.path() + "/longer.json", kResource + "\n")),
                 "the resource's SHA-256 does not match the statement");
}

TEST_F(CliVerifyTest, OneChangedByteOfTheStatementFails) {
  std::string receipt = edited(receipts_[kWrite], [](note::TlogProof& p) {
    std::string& extra = *p.extra;
    size_t at = extra.find("dr.house");
    ASSERT_NE(at, std::string::npos);
    extra[at] = 'D';
  });
  expect_failure(verify(receipt, resource_), "salt and statement do not match the entry's commitment");
  expect_failure(verify(receipt), "salt and statement do not match the entry's commitment");
}

TEST_F(CliVerifyTest, OneChangedByteOfTheProofFails) {
  std::string receipt = edited(receipts_[kWrite], [](note::TlogProof& p) {
    ASSERT_FALSE(p.inclusion.empty());
    p.inclusion[p.inclusion.size() / 2][7] ^= 0x01;
  });
  expect_failure(verify(receipt, resource_), "inclusion proof does not lead to the checkpoint's root");
  receipt = edited(receipts_[kWrite], [](note::TlogProof& p) { p.index = 6; });
  expect_failure(verify(receipt, resource_), "inclusion proof does not lead to the checkpoint's root");
}

TEST_F(CliVerifyTest, OneChangedByteOfTheCheckpointFails) {
  std::string receipt = edited(receipts_[kWrite], [](note::TlogProof& p) {
    size_t root = p.checkpoint.find('\n', p.checkpoint.find('\n') + 1) + 1;  // the root line
    p.checkpoint[root + 5] = p.checkpoint[root + 5] == 'A' ? 'B' : 'A';
  });
  expect_failure(verify(receipt, resource_), "not signed by the log key");
}

TEST_F(CliVerifyTest, AnotherLogsKeyFails) {
  std::string other = note::format_verifier_key(
      note::verifier_of(note::generate_signer_key("example.org/verify-test")));
  ProgramOutcome r = run_medseal({"verify", "--receipt", write_file(tmp_.path() + "/r", receipts_[kWrite]),
                                  "--vkey", other});
  expect_failure(r, "not signed by the log key");
}

TEST_F(CliVerifyTest, EveryChangedByteOfTheReceiptFileFails) {
  const std::string& receipt = receipts_[kWrite];
  for (size_t i = 0; i < receipt.size(); i += 17) {
    std::string changed = receipt;
    changed[i] = static_cast<char>(changed[i] ^ 0x04);
    ProgramOutcome r = verify(changed, resource_);
    EXPECT_EQ(r.status, 1) << "byte " << i << " changed and still: " << r.out;
    EXPECT_TRUE(one_line(r.err)) << i << ": " << r.err;
  }
}

TEST_F(CliVerifyTest, AResourceNeedsAWriteWithAHash) {
  expect_failure(verify(receipts_[kDelete], resource_), "records no resource bytes (op delete)");
  expect_failure(verify(receipts_[kSystem], resource_), "entry 0 is not a record version");
}

TEST_F(CliVerifyTest, UsageErrorsAndUnreadableFilesExitTwo) {
  std::string receipt = write_file(tmp_.path() + "/ok", receipts_[kWrite]);
  std::string missing = tmp_.path() + "/missing";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"verify"},
           {"verify", "--receipt", receipt},
           {"verify", "--vkey", vkey_},
           {"verify", "--receipt", missing, "--vkey", vkey_},
           {"verify", "--receipt", receipt, "--vkey", "not a key"},
           {"verify", "--receipt", receipt, "--vkey", missing},
           {"verify", "--receipt", receipt, "--vkey", vkey_, "--resource", missing},
           {"verify", "--receipt", tmp_.path(), "--vkey", vkey_},
       }) {
    ProgramOutcome r = run_medseal(args);
    EXPECT_EQ(r.status, 2) << args.back() << ": " << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
  }
  ProgramOutcome help = run_medseal({"verify", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--resource"), std::string::npos);
}

// ---- token issue ----

class CliTokenTest : public ::testing::Test {
 protected:
  ProgramOutcome issue(std::vector<std::string> extra) {
    std::vector<std::string> args = {"token", "issue", "--data", data_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_medseal(args);
  }

  TempDir tmp_;
  std::string data_ = tmp_.path();
  std::string tokens_ = tmp_.path() + "/" + std::string(kTokensFile);
};

TEST_F(CliTokenTest, PrintsATokenTheStoreAcceptsWhileTheDataDirectoryIsInUse) {
  auto held = DataDir::open(data_);  // as a running server holds it
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  auto store = identity::TokenStore::open(tokens_);
  ASSERT_TRUE(store.is_ok());

  ProgramOutcome r = issue({"--role", "clinician", "--name", "dr.house"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(one_line(r.out)) << r.out;
  // The token alone on stdout (for $(...)); its id, for `token revoke`, on stderr.
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_EQ(r.err.rfind("token id ", 0), 0u) << r.err;
  std::string token = r.out.substr(0, r.out.size() - 1);
  EXPECT_EQ(r.err.find(token), std::string::npos) << "the secret stays off stderr";
  auto who = (*store)->authenticate(token);
  ASSERT_TRUE(who.is_ok()) << who.status().to_string();
  EXPECT_EQ(who->name, "dr.house");
  EXPECT_EQ(who->role, identity::Role::kClinician);

  r = issue({"--role", "patient", "--name", "jane", "--patient", "Patient/p-1"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(one_line(r.out));
  auto reopened = identity::TokenStore::open(tokens_);
  ASSERT_TRUE(reopened.is_ok());
  who = (*reopened)->authenticate(r.out.substr(0, r.out.size() - 1));
  ASSERT_TRUE(who.is_ok());
  EXPECT_EQ(who->patient, "Patient/p-1");
}

TEST_F(CliTokenTest, RefusesBadIdentitiesWithOneLine) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--role", "doctor", "--name", "x"},
           {"--role", "Admin", "--name", "x"},
           {"--role", "patient", "--name", "jane"},
           {"--role", "patient", "--name", "jane", "--patient", "p-1"},
           {"--role", "clinician", "--name", "dr.house", "--patient", "Patient/p-1"},
           {"--role", "clinician", "--name", "has space"},
           {"--role", "clinician"},
           {"--name", "x"},
       }) {
    ProgramOutcome r = issue(args);
    EXPECT_EQ(r.status, 2) << args[1] << ": " << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_EQ(r.out, "");
  }
  ProgramOutcome r = issue({"--role", "patient", "--name", "jane"});
  EXPECT_NE(r.err.find("--patient"), std::string::npos) << r.err;
  ProgramOutcome nowhere = run_medseal({"token", "issue", "--data", tmp_.path() + "/nope", "--role", "admin", "--name", "a"});
  EXPECT_EQ(nowhere.status, 2) << nowhere.err;
  EXPECT_TRUE(one_line(nowhere.err));
}

}  // namespace
}  // namespace medseal::cli
