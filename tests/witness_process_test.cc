// `medseal witness` as an operator runs it: a real process on a free port driven over HTTP, its
// key files, every status of tlog-witness v1.0.0 on the wire, racing clients, and persistence:
// after SIGKILL and a restart it still refuses a rollback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <thread>

#include "ledger/keyfile.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "support/background.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/witness_log.h"

namespace medseal::witness {
namespace {

using medseal::testing::go_interop_tool;
using medseal::testing::ProgramOutcome;
using medseal::testing::read_file;
using medseal::testing::run_program;
using medseal::testing::run_medseal;
using medseal::testing::TempDir;
using medseal::testing::WitnessedLog;
using medseal::testing::filled_seed;

constexpr std::string_view kTesseraVkey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

// A `medseal witness` process on a free loopback port; stderr in DATA.err.
class WitnessProcess : public medseal::testing::Background {
 public:
  WitnessProcess(const std::string& data, std::vector<std::string> extra)
      : Background(args(data, std::move(extra)), data + ".err") {}
  const std::string& url() const { return base(); }

 private:
  static std::vector<std::string> args(const std::string& data, std::vector<std::string> extra) {
    std::vector<std::string> a = {"witness", "--data", data, "--listen", "127.0.0.1:0"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

struct Answer {
  int status = -1;
  std::string content_type, body;
};

Answer post(const std::string& url, const std::string& body) {
  httplib::Client client(url);
  client.set_read_timeout(20, 0);
  auto res = client.Post("/add-checkpoint", body, "text/plain");
  if (!res) return {};
  return {res->status, res->get_header_value("Content-Type"), res->body};
}

// The reply is one cosignature by the witness's key (read from DIR/witness.vkey) on the checkpoint.
void expect_cosignature(const Answer& a, const std::string& note_text, const std::string& data) {
  ASSERT_EQ(a.status, 200) << a.body;
  auto vkey = ledger::read_verifier_key_file(data + "/witness.vkey");
  ASSERT_TRUE(vkey.is_ok()) << vkey.status().to_string();
  auto sig = note::parse_signature_line(std::string_view(a.body).substr(0, a.body.size() - 1));
  ASSERT_TRUE(sig.is_ok()) << a.body;
  std::string text = note_text.substr(0, note_text.find("\n\n") + 1);
  auto ts = note::verify_cosignature(text, *vkey, *sig);
  ASSERT_TRUE(ts.is_ok()) << ts.status().to_string();
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count());
  EXPECT_LE(*ts, now);
  EXPECT_GE(*ts + 60, now);
}

void expect_size(const Answer& a, uint64_t size) {
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_EQ(a.content_type, "text/x.tlog.size");
  EXPECT_EQ(a.body, std::to_string(size) + "\n");
}

class WitnessProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_vkey_file = tmp.path() + "/log.vkey";
    std::ofstream(log_vkey_file) << note::format_verifier_key(note::verifier_of(log.key)) << "\n";
  }
  std::vector<std::string> logs() const { return {"--log", log_vkey_file, "--log", std::string(kTesseraVkey)}; }
  std::vector<std::string> named(const std::string& name) const {
    auto args = logs();
    args.insert(args.end(), {"--name", name});
    return args;
  }

  TempDir tmp;
  WitnessedLog log;
  std::string log_vkey_file;
  std::string data = tmp.path() + "/witness";
};

TEST_F(WitnessProcessTest, CreatesItsKeyOnFirstStartAndPrintsIt) {
  WitnessProcess w(data, named("witness.example/w1"));
  ASSERT_TRUE(w.ready()) << w.stderr_text();
  EXPECT_EQ(testing::file_mode(data + "/witness.key"), 0600u);
  auto key = ledger::read_signer_key_file(data + "/witness.key");
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(key->name, "witness.example/w1");
  EXPECT_EQ(key->type, note::KeyType::kCosignatureV1);
  EXPECT_EQ(read_file(data + "/witness.key").rfind("PRIVATE+KEY+witness.example/w1+", 0), 0u);
  std::string vkey = read_file(data + "/witness.vkey");
  EXPECT_EQ(vkey, note::format_verifier_key(note::verifier_of(*key)) + "\n");
  EXPECT_NE(w.first_lines().find("witness vkey:  " + vkey), std::string::npos) << w.first_lines();
  EXPECT_NE(w.first_lines().find(std::string(kTesseraVkey)), std::string::npos) << w.first_lines();
  EXPECT_EQ(w.stop(), 0) << w.stderr_text();
}

TEST_F(WitnessProcessTest, AnswersEveryStatusOnTheWire) {
  WitnessProcess w(data, named("witness.example/w1"));
  ASSERT_TRUE(w.ready()) << w.stderr_text();
  expect_size(post(w.url(), log.body(3, 5)), 0);
  expect_cosignature(post(w.url(), log.body(0, 5)), log.checkpoint(5), data);
  expect_cosignature(post(w.url(), log.body(5, 5)), log.checkpoint(5), data);
  expect_cosignature(post(w.url(), log.body(5, 9)), log.checkpoint(9), data);
  expect_size(post(w.url(), log.body(0, 12)), 9);
  expect_size(post(w.url(), log.body(9, 9, 'z')), 9);              // a fork at the same size
  EXPECT_EQ(post(w.url(), log.body(9, 12, 'z')).status, 422);      // a fork further on
  EXPECT_EQ(post(w.url(), "old 9\n\n" + log.checkpoint(12)).status, 422);  // no proof
  EXPECT_EQ(post(w.url(), "old 10\n\n" + log.checkpoint(9)).status, 400);  // old > size
  EXPECT_EQ(post(w.url(), "old 9\nnot base64\n\n" + log.checkpoint(12)).status, 400);
  WitnessedLog stranger;
  stranger.key = note::signer_key_from_seed("example.com/unknown", filled_seed(7));
  EXPECT_EQ(post(w.url(), stranger.body(0, 3)).status, 404);
  WitnessedLog impostor;
  impostor.key = note::signer_key_from_seed(log.key.name, filled_seed(8));
  EXPECT_EQ(post(w.url(), impostor.body(9, 12)).status, 403);
  // The other watched log: Tessera's checkpoint, as any C2SP log would send it.
  const std::string tessera = testing::shared_dir() + "/testdata/tessera-log/checkpoint.15";
  expect_cosignature(post(w.url(), "old 0\n\n" + read_file(tessera)), read_file(tessera), data);

  EXPECT_EQ(post(w.url(), "old 0\n\n" + std::string((1 << 20) + 1, 'x')).status, 413);
  // A request over 8 KiB (many signatures) labelled as a form, as curl labels bodies by default.
  std::vector<note::SignerKey> signers = {log.key};
  for (uint8_t i = 0; i < 90; ++i) signers.push_back(note::signer_key_from_seed("other.example/k" + std::to_string(i), filled_seed(100 + i)));
  auto many = note::sign_note(log.checkpoint_text(12), signers);
  ASSERT_TRUE(many.is_ok());
  std::string big = testing::add_checkpoint_body(9, log.proof(9, 12), *many);
  ASSERT_GT(big.size(), 8192u);
  httplib::Client form(w.url());
  auto as_form = form.Post("/add-checkpoint", big, "application/x-www-form-urlencoded");
  ASSERT_TRUE(as_form);
  EXPECT_EQ(as_form->status, 200) << as_form->body;
  auto multipart = form.Post("/add-checkpoint", log.body(12, 12), "multipart/form-data; boundary=x");
  ASSERT_TRUE(multipart);
  EXPECT_EQ(multipart->status, 400);
  httplib::Client client(w.url());
  auto get = client.Get("/add-checkpoint");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  auto other = client.Post("/add-checkpoint/x", log.body(9, 12), "text/plain");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto root = client.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
}

TEST_F(WitnessProcessTest, RacingClientsHaveOneWinner) {
  WitnessProcess w(data, named("witness.example/w1"));
  ASSERT_TRUE(w.ready()) << w.stderr_text();
  expect_cosignature(post(w.url(), log.body(0, 4)), log.checkpoint(4), data);
  constexpr int kClients = 6;
  std::vector<std::string> bodies;
  for (int i = 0; i < kClients; ++i) bodies.push_back(log.body(4, 5 + i));
  std::vector<Answer> answers(kClients);
  std::latch start(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      answers[i] = post(w.url(), bodies[i]);
    });
  }
  for (auto& t : threads) t.join();
  int winner = -1;
  for (int i = 0; i < kClients; ++i) {
    if (answers[i].status != 200) continue;
    EXPECT_EQ(winner, -1) << "two cosignatures from old size 4";
    winner = i;
  }
  ASSERT_NE(winner, -1);
  for (int i = 0; i < kClients; ++i) {
    if (i != winner) expect_size(answers[i], 5 + winner);
  }
}

TEST_F(WitnessProcessTest, RefusesRollbackAfterSigkillAndRestart) {
  {
    WitnessProcess w(data, named("witness.example/w1"));
    ASSERT_TRUE(w.ready()) << w.stderr_text();
    expect_cosignature(post(w.url(), log.body(0, 7)), log.checkpoint(7), data);
    expect_cosignature(post(w.url(), log.body(7, 11)), log.checkpoint(11), data);
    EXPECT_EQ(w.kill(), 128 + SIGKILL);
  }
  std::string vkey = read_file(data + "/witness.vkey");
  WitnessProcess again(data, logs());  // no --name: the stored key's
  ASSERT_TRUE(again.ready()) << again.stderr_text();
  EXPECT_EQ(read_file(data + "/witness.vkey"), vkey);
  expect_size(post(again.url(), log.body(0, 7)), 11);
  expect_size(post(again.url(), log.body(7, 9)), 11);
  expect_size(post(again.url(), log.body(11, 11, 'z')), 11);
  EXPECT_EQ(post(again.url(), "old 11\n\n" + log.checkpoint(7)).status, 400);
  expect_cosignature(post(again.url(), log.body(11, 15)), log.checkpoint(15), data);
}

// A log written with Go's x/mod note and tlog (signing, tree hashes, consistency proofs) and the
// standard library's Ed25519 (cosignature checks) gets cosignatures and the protocol's refusals.
TEST_F(WitnessProcessTest, CosignsForALogWrittenInGo) {
  std::string why;
  std::string tool = go_interop_tool("witness_interop", &why);
  ASSERT_FALSE(tool.empty()) << why;
  auto go_log = note::signer_key_from_seed("example.com/go-log", filled_seed(5));
  WitnessProcess w(data, {"--name", "witness.example/w1", "--log", note::format_verifier_key(note::verifier_of(go_log))});
  ASSERT_TRUE(w.ready()) << w.stderr_text();
  std::string vkey = read_file(data + "/witness.vkey");
  ProgramOutcome r = run_program({tool, "-url", w.url(), "-key", note::format_signer_key(go_log), "-witness",
                                  vkey.substr(0, vkey.size() - 1)});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok cosigned=9\n");
}

TEST_F(WitnessProcessTest, BadStartsExitWithOneLine) {
  {
    WitnessProcess first(data, named("witness.example/w1"));
    ASSERT_TRUE(first.ready()) << first.stderr_text();
    ProgramOutcome locked = run_medseal({"witness", "--data", data, "--listen", "127.0.0.1:0", "--log", log_vkey_file});
    EXPECT_EQ(locked.status, 1) << locked.err;
  }
  std::string other = tmp.path() + "/other";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"witness", "--data", data, "--log", log_vkey_file, "--name", "witness.example/w2"},  // not its name
           {"witness", "--data", other, "--log", log_vkey_file},                                 // new key, no name
           {"witness", "--data", other, "--name", "w"},                                          // no log
           {"witness", "--data", other, "--name", "w", "--log", "not a key"},
           {"witness", "--data", other, "--name", "has space", "--log", log_vkey_file},
           {"witness", "--data", other, "--name", "w", "--log", log_vkey_file, "--listen", "x"},
           {"witness", "--data", other, "--name", "w", "--log", data + "/witness.vkey"},         // a cosigner key
       }) {
    ProgramOutcome r = run_medseal(args);
    EXPECT_NE(r.status, 0) << args.back();
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(other + "/witness.key")) << "a refused start creates no key";
  EXPECT_EQ(run_medseal({"witness", "--help"}).status, 0);
}

}  // namespace
}  // namespace medseal::witness
