// The log's tlog-witness client: the request body, strict parsing of what witnesses answer, and
// one call against a fake witness for each kind of answer (cosigned, 409, refused, failed, hung).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "support/fake_witness.h"
#include "witness/witness_client.h"

namespace medseal::witness {
namespace {

using medseal::testing::FakeWitness;
using Kind = WitnessReply::Kind;

const note::SignerKey& log_key() {
  static const note::SignerKey key = note::generate_signer_key("example.org/witness-client-test");
  return key;
}

// A signed checkpoint of `size` with a made-up root (the client does not care).
std::string checkpoint_note(uint64_t size, std::string_view root_label = "root") {
  std::string text = note::format_checkpoint({log_key().name, size, crypto::sha256(root_label), {}});
  return *note::sign_note(text, std::span(&log_key(), 1));
}

std::string text_of(const std::string& signed_note) { return note::parse_note(signed_note)->text; }

std::unique_ptr<WitnessClient> client_for(const std::string& url, int read_timeout_ms = 2000) {
  WitnessClientOptions options;
  options.read_timeout = std::chrono::milliseconds(read_timeout_ms);
  auto client = WitnessClient::open(url, options);
  EXPECT_TRUE(client) << client.status().to_string();
  return std::move(*client);
}

TEST(WitnessRequest, BodyIsOldSizeProofBlankLineAndCheckpoint) {
  std::vector<Hash> proof = {crypto::sha256("a"), crypto::sha256("b")};
  auto body = format_add_checkpoint(20, proof, "NOTE\n");
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, "old 20\n" + crypto::base64_encode(as_view(proof[0])) + "\n" +
                       crypto::base64_encode(as_view(proof[1])) + "\n\nNOTE\n");
  EXPECT_EQ(*format_add_checkpoint(0, {}, "N\n"), "old 0\n\nN\n");
  std::vector<Hash> too_long(64, crypto::sha256("x"));
  EXPECT_EQ(format_add_checkpoint(1, too_long, "N\n").status().code(), Code::kInvalidArgument);
}

TEST(WitnessResponse, SizeIsStrict) {
  EXPECT_EQ(*parse_tlog_size("0\n"), 0u);
  EXPECT_EQ(*parse_tlog_size("20852014\n"), 20852014u);
  for (std::string_view bad : {"", "12", "012\n", "+1\n", "-1\n", "1 \n", "1\n\n", "1\r\n", "x\n",
                               "18446744073709551616\n"}) {
    EXPECT_FALSE(parse_tlog_size(bad)) << bad;
  }
}

TEST(WitnessResponse, CosignatureLinesAreStrict) {
  note::SignerKey w = note::generate_signer_key("w.example/w", note::KeyType::kCosignatureV1);
  std::string line = note::format_signature_line(*note::cosign(text_of(checkpoint_note(3)), w, 1));
  auto two = parse_cosignature_lines(line + "\n" + line + "\n");
  ASSERT_TRUE(two) << two.status().to_string();
  EXPECT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].name, "w.example/w");
  for (const std::string& bad : std::vector<std::string>{"", line, line + "\n\n", "garbage\n", "- w.example/w AAAA\n"}) {
    EXPECT_FALSE(parse_cosignature_lines(bad)) << bad;
  }
}

TEST(WitnessClient, RejectsUrlsThatAreNoHttpPrefix) {
  for (std::string_view bad : {"127.0.0.1:1", "ftp://x", "http://", "http://u@h/", "http://h/?q"}) {
    EXPECT_EQ(WitnessClient::open(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(WitnessClient, CosignatureFromAnHonestWitnessVerifies) {
  FakeWitness fake("w.example/honest", note::verifier_of(log_key()));
  auto client = client_for(fake.url());
  std::string cp = checkpoint_note(5);
  WitnessReply r = client->add_checkpoint(0, {}, cp);
  ASSERT_EQ(r.kind, Kind::kCosigned) << r.error;
  EXPECT_EQ(r.http_status, 200);
  ASSERT_EQ(r.cosignatures.size(), 1u);
  EXPECT_TRUE(note::verify_cosignature(text_of(cp), fake.vkey(), r.cosignatures[0]));
  EXPECT_EQ(fake.size(), 5u);
}

TEST(WitnessClient, ConflictCarriesTheWitnessSize) {
  FakeWitness fake("w.example/409", note::verifier_of(log_key()));
  fake.set_state(7, crypto::sha256("old root"));
  auto client = client_for(fake.url());
  WitnessReply r = client->add_checkpoint(0, {}, checkpoint_note(9));
  ASSERT_EQ(r.kind, Kind::kConflict) << r.error;
  EXPECT_EQ(r.witness_size, 7u);
}

TEST(WitnessClient, RefusalsAndErrorsCarryTheStatus) {
  FakeWitness fake("w.example/moody", note::verifier_of(log_key()));
  auto client = client_for(fake.url());
  const std::pair<FakeWitness::Mode, std::pair<Kind, int>> cases[] = {
      {FakeWitness::Mode::kRefuse403, {Kind::kRefused, 403}},
      {FakeWitness::Mode::kRefuse422, {Kind::kRefused, 422}},
      {FakeWitness::Mode::kFail500, {Kind::kFailed, 500}},
  };
  for (const auto& [mode, expected] : cases) {
    fake.set_mode(mode);
    WitnessReply r = client->add_checkpoint(0, {}, checkpoint_note(2));
    EXPECT_EQ(r.kind, expected.first);
    EXPECT_EQ(r.http_status, expected.second);
    EXPECT_NE(r.error.find(std::to_string(expected.second)), std::string::npos) << r.error;
  }
  // A checkpoint the witness does not trust: its own 403.
  fake.set_mode(FakeWitness::Mode::kHonest);
  note::SignerKey stranger = note::generate_signer_key(log_key().name);
  std::string text = text_of(checkpoint_note(2));
  WitnessReply r = client->add_checkpoint(0, {}, *note::sign_note(text, std::span(&stranger, 1)));
  EXPECT_EQ(r.kind, Kind::kRefused);
  EXPECT_EQ(r.http_status, 403);
}

TEST(WitnessClient, HangingWitnessTimesOut) {
  FakeWitness fake("w.example/hang", note::verifier_of(log_key()));
  fake.set_mode(FakeWitness::Mode::kHang);
  auto client = client_for(fake.url(), 300);
  auto start = std::chrono::steady_clock::now();
  WitnessReply r = client->add_checkpoint(0, {}, checkpoint_note(2));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.kind, Kind::kFailed);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_LT(took, std::chrono::seconds(3));
  fake.set_mode(FakeWitness::Mode::kHonest);
}

TEST(WitnessClient, UnreachableWitnessFails) {
  // A port that was free a moment ago and that nobody listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  int port = ntohs(addr.sin_port);
  auto client = client_for("http://127.0.0.1:" + std::to_string(port));
  WitnessReply r = client->add_checkpoint(0, {}, checkpoint_note(2));
  EXPECT_EQ(r.kind, Kind::kFailed);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_NE(r.error.find("POST add-checkpoint"), std::string::npos) << r.error;
}

// Answers that are not what tlog-witness says: never taken as cosignatures or sizes.
TEST(WitnessClient, MalformedAnswersFail) {
  httplib::Server s;
  std::string body, type;
  int status = 200;
  s.Post("/w/add-checkpoint", [&](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    res.set_content(body, type.c_str());
  });
  int port = s.bind_to_any_port("127.0.0.1");
  std::thread t([&] { s.listen_after_bind(); });
  while (!s.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto client = client_for("http://127.0.0.1:" + std::to_string(port) + "/w/");
  const struct {
    int status;
    std::string type, body;
  } cases[] = {
      {200, "text/plain", ""},
      {200, "text/plain", "not a signature\n"},
      {409, "text/plain", "5\n"},           // wrong content type
      {409, "text/x.tlog.size", "05\n"},    // leading zero
      {409, "text/x.tlog.size", "5"},       // no newline
      {200, "text/plain", std::string(kMaxWitnessResponseBytes + 1, 'x')},
  };
  for (const auto& c : cases) {
    status = c.status;
    type = c.type;
    body = c.body;
    WitnessReply r = client->add_checkpoint(0, {}, checkpoint_note(2));
    EXPECT_EQ(r.kind, Kind::kFailed) << c.status << " " << c.body.substr(0, 20);
  }
  status = 409;
  type = "text/x.tlog.size; charset=utf-8";
  body = "5\n";
  WitnessReply r = client->add_checkpoint(0, {}, checkpoint_note(2));
  EXPECT_EQ(r.kind, Kind::kConflict) << r.error;
  s.stop();
  t.join();
}

}  // namespace
}  // namespace medseal::witness
