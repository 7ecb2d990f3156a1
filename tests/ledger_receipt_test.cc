// verify_receipt: a genuine receipt verifies; every way of tampering with one is caught, each with
// its own reason.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "ledger/ledger.h"
#include "ledger/receipt.h"
#include "note/checkpoint.h"
#include "note/note.h"
#include "note/tlog_proof.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/ledger_check.h"
#include "support/paths.h"

namespace medseal::ledger {
namespace {

class LedgerReceiptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::open_sqlite_store(dir_.path() + "/ledger.db");
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    store_ = std::move(*s);
    auto l = Ledger::open(*store_, key_);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ledger_ = std::move(*l);
    std::vector<AppendRequest> group;
    for (int i = 0; i < 1000; ++i) {
      group.push_back({EntryKind::kRecordVersion, R"({"n":)" + std::to_string(i) + "}", 0});
    }
    ASSERT_TRUE(ledger_->append_all(std::move(group)));
    Result<std::string> r = ledger_->receipt(kIndex);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    receipt_ = *r;
  }

  // The receipt after `edit` has changed its parsed form.
  std::string tampered(const std::function<void(note::TlogProof&)>& edit) {
    Result<note::TlogProof> p = note::parse_tlog_proof(receipt_);
    EXPECT_TRUE(p.is_ok());
    edit(*p);
    return note::format_tlog_proof(*p);
  }

  // The checkpoint text re-signed by `signer`.
  std::string resigned(const note::SignerKey& signer) {
    Result<note::TlogProof> p = note::parse_tlog_proof(receipt_);
    Result<note::Note> n = note::parse_note(p->checkpoint);
    Result<note::Checkpoint> cp = note::parse_checkpoint(n->text);
    return *note::sign_note(note::format_checkpoint(*cp), std::span(&signer, 1));
  }

  static constexpr uint64_t kIndex = 517;
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  note::SignerKey key_ = testing::test_log_key();
  note::VerifierKey verifier_ = note::verifier_of(key_);
  std::unique_ptr<Ledger> ledger_;
  std::string receipt_;
};

TEST_F(LedgerReceiptTest, AGenuineReceiptVerifies) {
  Result<VerifiedReceipt> v = verify_receipt(receipt_, verifier_);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_EQ(v->index, kIndex);
  EXPECT_EQ(v->statement, R"({"n":517})");
  EXPECT_EQ(v->salt.size(), 32u);
  EXPECT_EQ(v->entry.kind, EntryKind::kRecordVersion);
  EXPECT_EQ(v->checkpoint.size, 1000u);
  EXPECT_EQ(v->checkpoint.origin, "localhost/medseal");
  EXPECT_EQ(v->checkpoint_note, ledger_->head().checkpoint);
  EXPECT_EQ(receipt_.rfind("c2sp.org/tlog-proof@v1\nextra ", 0), 0u) << receipt_;
}

TEST_F(LedgerReceiptTest, EveryTamperingIsCaughtWithItsOwnReason) {
  note::SignerKey other_name =
      note::signer_key_from_seed("example.org/log", testing::test_log_key().seed);
  struct Case {
    const char* what;
    std::string receipt;
    const note::VerifierKey* key;
    Code code;
  };
  const note::VerifierKey other_verifier = note::verifier_of(other_name);
  const note::VerifierKey stranger =
      note::verifier_of(note::generate_signer_key("localhost/medseal"));
  std::vector<Case> cases = {
      {"not a proof", "hello\n", &verifier_, Code::kInvalidArgument},
      {"no extra", tampered([](auto& p) { p.extra.reset(); }), &verifier_, Code::kInvalidArgument},
      {"short extra", tampered([](auto& p) { p.extra->resize(60); }), &verifier_,
       Code::kInvalidArgument},
      {"bad entry", tampered([](auto& p) { (*p.extra)[0] = 9; }), &verifier_,
       Code::kInvalidArgument},
      {"statement", tampered([](auto& p) { p.extra->back() ^= 1; }), &verifier_,
       Code::kVerificationFailed},
      {"salt", tampered([](auto& p) { (*p.extra)[50] ^= 1; }), &verifier_,
       Code::kVerificationFailed},
      {"wrong key", receipt_, &stranger, Code::kVerificationFailed},
      {"origin", tampered([&](auto& p) { p.checkpoint = resigned(other_name); }), &other_verifier,
       Code::kVerificationFailed},
      {"index beyond", tampered([](auto& p) { p.index = 5000; }), &verifier_,
       Code::kVerificationFailed},
      {"inclusion", tampered([](auto& p) { p.inclusion[3][0] ^= 1; }), &verifier_,
       Code::kVerificationFailed},
  };
  // Changing what the entry says (its kind) keeps the commitment but not the leaf hash.
  cases.push_back({"kind", tampered([](auto& p) { (*p.extra)[1] = 0x02; }), &verifier_,
                   Code::kVerificationFailed});
  std::set<std::string> reasons;
  for (const Case& c : cases) {
    Result<VerifiedReceipt> v = verify_receipt(c.receipt, *c.key);
    ASSERT_FALSE(v.is_ok()) << c.what;
    EXPECT_EQ(v.status().code(), c.code) << c.what << ": " << v.status().to_string();
    EXPECT_EQ(v.status().message().find('\n'), std::string::npos) << c.what;
    reasons.insert(v.status().message().substr(0, 40));
  }
  // "inclusion", "kind" and "index" share the inclusion failure; every other reason is its own.
  EXPECT_GE(reasons.size(), cases.size() - 2);
}

TEST_F(LedgerReceiptTest, AnotherIndexDoesNotVerify) {
  Result<VerifiedReceipt> v =
      verify_receipt(tampered([](auto& p) { p.index = kIndex + 1; }), verifier_);
  EXPECT_EQ(v.status().code(), Code::kVerificationFailed);
}

TEST_F(LedgerReceiptTest, AWitnessCosignatureDoesNotGetInTheWay) {
  // Unknown signatures (witnesses this verifier does not know) are ignored by verify_receipt.
  note::SignerKey witness = note::generate_signer_key("witness.example");
  Result<note::TlogProof> p = note::parse_tlog_proof(receipt_);
  Result<note::Note> n = note::parse_note(p->checkpoint);
  Result<note::NoteSignature> sig = note::sign_text(n->text, witness);
  ASSERT_TRUE(sig.is_ok());
  n->signatures.push_back(*sig);
  p->checkpoint = note::format_note(*n);
  EXPECT_TRUE(verify_receipt(note::format_tlog_proof(*p), verifier_).is_ok());
}

TEST_F(LedgerReceiptTest, EveryIndexOfASmallLogVerifies) {
  for (uint64_t i = 0; i < 1000; i += 1) {
    Result<std::string> r = ledger_->receipt(i);
    ASSERT_TRUE(r.is_ok()) << i;
    Result<VerifiedReceipt> v = verify_receipt(*r, verifier_);
    ASSERT_TRUE(v.is_ok()) << i << ": " << v.status().to_string();
  }
}

}  // namespace
}  // namespace medseal::ledger
