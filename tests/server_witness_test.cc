// The HTTP server of a log with witnesses, in process, against fake witnesses: /log/checkpoint
// serves the newest checkpoint the quorum cosigned (with the cosignatures, never going
// backwards), `medseal log verify --url` accepts it while the tree has grown past it (partial
// tiles included), and receipts carry the cosignatures once the quorum has signed, or say they
// are pending. Also `medseal serve`'s witness flags.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "identity/token_store.h"
#include "ledger/receipt.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "records/resource.h"
#include "records/service.h"
#include "server/http_server.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/eventually.h"
#include "support/fake_witness.h"
#include "support/paths.h"
#include "support/process.h"
#include "tlog_client/verify.h"
#include "witness/cosigned_checkpoint.h"
#include "witness/cosigner.h"
#include "witness/witnessed_ledger.h"

namespace medseal::server {
namespace {

using medseal::testing::eventually;
using medseal::testing::FakeWitness;
using medseal::testing::run_medseal;
using medseal::testing::TempDir;
using Mode = FakeWitness::Mode;
using namespace std::chrono_literals;

constexpr size_t kQuorum = 2;

class WitnessedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::open_sqlite_store(tmp_.path() + "/medseal.db");
    ASSERT_TRUE(store) << store.status().to_string();
    store_ = std::move(*store);
    ledger::LedgerOptions ledger_options;
    ledger_options.batch_window = 500us;
    auto ledger = ledger::Ledger::open(*store_, key_, ledger_options);
    ASSERT_TRUE(ledger) << ledger.status().to_string();
    ledger_ = std::move(*ledger);
    for (const char* name : {"w.example/a", "w.example/b", "w.example/c"}) {
      witnesses_.push_back(std::make_unique<FakeWitness>(name, log_vkey_));
    }
    std::vector<witness::WitnessConfig> configs;
    for (auto& w : witnesses_) configs.push_back({w->url(), w->vkey()});
    witness::CosignerOptions options;
    options.quorum = kQuorum;
    options.poll_interval = 2ms;
    options.backoff_initial = 20ms;
    options.backoff_max = 100ms;
    options.target_max_age = 200ms;
    options.client.read_timeout = 2s;
    auto cosigner = witness::Cosigner::start(*ledger_, *store_, log_vkey_, configs, alerts_, options);
    ASSERT_TRUE(cosigner) << cosigner.status().to_string();
    cosigner_ = std::move(*cosigner);
    witnessed_ = std::make_unique<witness::WitnessedLedger>(*ledger_, *store_, *cosigner_);

    auto tokens = identity::TokenStore::open(tmp_.path() + "/tokens");
    ASSERT_TRUE(tokens) << tokens.status().to_string();
    tokens_ = std::move(*tokens);
    auditor_ = *tokens_->issue({"audit.team", identity::Role::kAuditor, ""});
    records_ = std::make_unique<records::RecordService>(*witnessed_, *store_, system_clock());
    fhir::ApiOptions api_options;
    api_options.receipt_witnessed = [this](std::string_view r) {
      return witness::is_witnessed_receipt(*cosigner_, r);
    };
    api_ = std::make_unique<fhir::Api>(*records_, *tokens_, records::r4_resource_types(), system_clock(),
                                       api_options);
    HttpOptions http_options{"127.0.0.1", 0, 8, false};
    http_options.witnessed = [this] { return cosigner_->cosigned(); };
    http_ = std::make_unique<HttpServer>(*witnessed_, http_options, api_.get());
    auto port = http_->bind();
    ASSERT_TRUE(port) << port.status().to_string();
    port_ = *port;
    thread_ = std::thread([this] { EXPECT_TRUE(http_->run()); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  void TearDown() override {
    if (http_) http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
    api_.reset();
    records_.reset();
    cosigner_.reset();
    witnessed_.reset();
    ledger_.reset();
  }

  void append(size_t n) {
    std::vector<ledger::AppendRequest> requests(n);
    for (size_t i = 0; i < n; ++i) requests[i].statement = R"({"i":)" + std::to_string(i) + "}";
    ASSERT_TRUE(ledger_->append_all(std::move(requests)));
  }

  void set_all(Mode mode) {
    for (auto& w : witnesses_) w->set_mode(mode);
  }

  // The served checkpoint's body and size (0 when none is served).
  std::pair<int, uint64_t> served() {
    auto res = client_->Get("/log/checkpoint");
    if (!res) return {0, 0};
    if (res->status != 200) return {res->status, 0};
    auto cp = tlog_client::open_checkpoint(res->body, log_vkey_);
    EXPECT_TRUE(cp) << cp.status().to_string();
    return {200, cp ? cp->size : 0};
  }

  httplib::Result receipt(uint64_t index) {
    return client_->Get(("/ledger/receipts/" + std::to_string(index)).c_str(),
                        httplib::Headers{{"Authorization", "Bearer " + auditor_}});
  }

  std::vector<note::VerifierKey> witness_keys() const {
    std::vector<note::VerifierKey> keys;
    for (auto& w : witnesses_) keys.push_back(w->vkey());
    return keys;
  }

  TempDir tmp_;
  note::SignerKey key_ = note::generate_signer_key("example.org/witnessed-server-test");
  note::VerifierKey log_vkey_ = note::verifier_of(key_);
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::vector<std::unique_ptr<FakeWitness>> witnesses_;
  alerts::MemorySink alerts_;
  std::unique_ptr<witness::Cosigner> cosigner_;
  std::unique_ptr<witness::WitnessedLedger> witnessed_;
  std::unique_ptr<identity::TokenStore> tokens_;
  std::string auditor_;
  std::unique_ptr<records::RecordService> records_;
  std::unique_ptr<fhir::Api> api_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST_F(WitnessedServerTest, CheckpointCarriesTheQuorumsCosignatures) {
  EXPECT_EQ(served(), std::make_pair(200, uint64_t{0}));  // an empty log: nothing to witness
  append(10);
  ASSERT_TRUE(eventually([&] { return served().second == 10; }));
  auto res = client_->Get("/log/checkpoint");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
  auto opened = witness::open_cosigned(res->body, log_vkey_, witness_keys(), kQuorum);
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_GE(opened->witnesses, kQuorum);

  // Without a quorum, a newer head is not served: the newest cosigned checkpoint is.
  set_all(Mode::kFail500);
  append(5);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(served().second, 10u);
  EXPECT_EQ(ledger_->head().size, 15u);
  set_all(Mode::kHonest);
  ASSERT_TRUE(eventually([&] { return served().second == 15; }));
}

TEST_F(WitnessedServerTest, ServedCheckpointNeverGoesBackwards) {
  std::atomic<bool> done{false};
  std::vector<uint64_t> seen;
  std::thread watcher([&] {
    while (!done) {
      auto [status, size] = served();
      if (status == 200) seen.push_back(size);
    }
  });
  for (int i = 0; i < 60; ++i) {
    append(5);
    if (i == 20) witnesses_[0]->set_mode(Mode::kHang);  // the quorum goes on with the others
  }
  EXPECT_TRUE(eventually([&] { return served().second == 300; }));
  done = true;
  watcher.join();
  witnesses_[0]->set_mode(Mode::kHonest);
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(WitnessedServerTest, LogVerifyAcceptsTheSmallerCosignedCheckpointWithPartialTiles) {
  append(300);  // a full tile and a partial one of width 44
  ASSERT_TRUE(eventually([&] { return served().second == 300; }));
  set_all(Mode::kHang);
  append(100);  // the partial tile is now 144 wide; the served checkpoint still needs width 44
  EXPECT_EQ(served().second, 300u);
  std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/log";
  auto r = run_medseal({"log", "verify", "--url", url, "--vkey", note::format_verifier_key(log_vkey_)});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("at size 300"), std::string::npos) << r.out;
  set_all(Mode::kHonest);
}

TEST_F(WitnessedServerTest, ReceiptsCarryCosignaturesOnceTheQuorumSigned) {
  append(40);
  ASSERT_TRUE(eventually([&] { return cosigner_->cosigned().size == 40; }));
  auto res = receipt(17);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Medseal-Witnessed"), "witnessed");
  auto verified = ledger::verify_receipt(res->body, log_vkey_);
  ASSERT_TRUE(verified) << verified.status().to_string();
  EXPECT_EQ(verified->index, 17u);
  auto note = note::parse_note(verified->checkpoint_note);
  ASSERT_TRUE(note);
  size_t cosignatures = 0;
  for (const note::NoteSignature& sig : note->signatures) {
    for (auto& w : witnesses_) {
      if (sig.name == w->vkey().name) cosignatures += note::verify_cosignature(note->text, w->vkey(), sig).is_ok();
    }
  }
  EXPECT_GE(cosignatures, kQuorum);

  // An entry newer than anything cosigned: proven against the log's latest, and said so.
  set_all(Mode::kHang);
  append(3);
  res = receipt(41);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Medseal-Witnessed"), "pending");
  verified = ledger::verify_receipt(res->body, log_vkey_);
  ASSERT_TRUE(verified) << verified.status().to_string();
  EXPECT_GE(verified->checkpoint.size, 43u);
  // Fetched again once the witnesses are back: witnessed.
  set_all(Mode::kHonest);
  uint64_t head = ledger_->head().size;
  ASSERT_TRUE(eventually([&] { return cosigner_->cosigned().size >= head; }));
  res = receipt(41);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("X-Medseal-Witnessed"), "witnessed");
  EXPECT_TRUE(ledger::verify_receipt(res->body, log_vkey_));
}

// The flags, checked before anything is opened or served.
TEST(ServeWitnessFlags, BadFlagsAreUsageErrors) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  auto r = run_medseal({"serve", "--data", data, "--listen", "127.0.0.1:0", "--witness-quorum", "1"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--witness-quorum needs --witness"), std::string::npos) << r.err;
  r = run_medseal({"serve", "--data", data, "--listen", "127.0.0.1:0", "--witness", "http://127.0.0.1:1"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("URL=VKEY"), std::string::npos) << r.err;
  note::VerifierKey w = note::verifier_of(note::generate_signer_key("w.example/x", note::KeyType::kCosignatureV1));
  std::string flag = "http://127.0.0.1:1=" + note::format_verifier_key(w);
  r = run_medseal({"serve", "--data", data, "--listen", "127.0.0.1:0", "--witness", flag, "--witness-quorum", "2"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("quorum must be 1..1"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace medseal::server
