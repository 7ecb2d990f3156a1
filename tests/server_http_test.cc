// The HTTP surface of the public log, in process: a ledger over SQLite behind a FaultStore, the
// server on a free loopback port, and an HTTP client. Content types, caching, 404 for what the
// tree does not have, 400 for non-canonical paths (answered without touching the store), no
// receipts without the record service (they are tested with it in server_fhir_api_test), and our
// own verifier over HTTP.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "ledger/ledger.h"
#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "server/http_server.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/fault_store.h"
#include "support/paths.h"
#include "tlog_client/tile_source.h"
#include "tlog_client/verify.h"

namespace medseal::server {
namespace {

using medseal::testing::FaultStore;
using medseal::testing::TempDir;

constexpr uint64_t kEntries = 300;  // one full level-0 tile and a partial one of width 44

class ServerHttpTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { stop(); }

  void start() {
    auto sqlite = storage::open_sqlite_store(tmp_.path() + "/medseal.db");
    ASSERT_TRUE(sqlite.is_ok()) << sqlite.status().to_string();
    sqlite_ = std::move(*sqlite);
    faults_ = std::make_unique<FaultStore>(*sqlite_);
    auto ledger = ledger::Ledger::open(*faults_, key_);
    ASSERT_TRUE(ledger.is_ok()) << ledger.status().to_string();
    ledger_ = std::move(*ledger);
    append(kEntries);
    http_ = std::make_unique<HttpServer>(*ledger_, HttpOptions{"127.0.0.1", 0, 16, false});
    auto port = http_->bind();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = *port;
    thread_ = std::thread([this] { EXPECT_TRUE(http_->run().is_ok()); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  void stop() {
    if (http_) http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
    ledger_.reset();
  }

  void append(uint64_t n) {
    std::vector<ledger::AppendRequest> requests(n);
    for (uint64_t i = 0; i < n; ++i) requests[i].statement = R"({"n":)" + std::to_string(i) + "}";
    ASSERT_TRUE(ledger_->append_all(std::move(requests)).is_ok());
  }

  httplib::Result get(const std::string& path) { return client_->Get(path.c_str()); }

  // GETs `path` and checks status, content type and Cache-Control; returns the body.
  std::string expect(const std::string& path, int status, std::string_view type,
                     std::string_view cache) {
    auto res = get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return "";
    EXPECT_EQ(res->status, status) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), type) << path;
    EXPECT_EQ(res->get_header_value("Cache-Control"), cache) << path;
    return res->body;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/log"; }

  TempDir tmp_;
  note::SignerKey key_ = note::generate_signer_key("example.org/server-test");
  std::unique_ptr<storage::Store> sqlite_;
  std::unique_ptr<FaultStore> faults_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST_F(ServerHttpTest, HealthzSaysOk) {
  EXPECT_EQ(expect("/healthz", 200, "text/plain; charset=utf-8", "no-store"), "ok\n");
}

TEST_F(ServerHttpTest, CheckpointIsTheSignedHeadAndBarelyCached) {
  std::string body = expect("/log/checkpoint", 200, "text/plain; charset=utf-8", "no-cache");
  EXPECT_EQ(body, ledger_->head().checkpoint);
  auto cp = tlog_client::open_checkpoint(body, note::verifier_of(key_));
  ASSERT_TRUE(cp.is_ok()) << cp.status().to_string();
  EXPECT_EQ(cp->size, kEntries);
}

TEST_F(ServerHttpTest, FullTilesAreImmutable) {
  const std::string_view immutable = "public, max-age=31536000, immutable";
  std::string tile = expect("/log/tile/0/000", 200, "application/octet-stream", immutable);
  EXPECT_EQ(tile.size(), 8192u);
  std::string bundle = expect("/log/tile/entries/000", 200, "application/octet-stream", immutable);
  auto entries = merkle::parse_entry_bundle(bundle);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ(entries->size(), 256u);
  // Served twice (the second time from the server's cache), byte for byte the same.
  EXPECT_EQ(expect("/log/tile/0/000", 200, "application/octet-stream", immutable), tile);
}

TEST_F(ServerHttpTest, PartialTilesHaveAShortCache) {
  const std::string_view partial = "public, max-age=60";
  EXPECT_EQ(expect("/log/tile/0/001.p/44", 200, "application/octet-stream", partial).size(), 44u * 32);
  EXPECT_EQ(expect("/log/tile/1/000.p/1", 200, "application/octet-stream", partial).size(), 32u);
  auto bundle = expect("/log/tile/entries/001.p/44", 200, "application/octet-stream", partial);
  EXPECT_EQ(merkle::parse_entry_bundle(bundle)->size(), 44u);
  // A narrower partial tile, as a client holding an older checkpoint asks for it.
  EXPECT_EQ(expect("/log/tile/0/001.p/3", 200, "application/octet-stream", partial).size(), 3u * 32);
  EXPECT_EQ(expect("/log/tile/0/000.p/255", 200, "application/octet-stream", partial).size(), 255u * 32);
}

TEST_F(ServerHttpTest, TilesTheTreeDoesNotHaveAre404) {
  for (std::string path : {"tile/0/001",            // partial, not yet full
                           "tile/0/001.p/45",       // wider than the tree
                           "tile/0/001.p/255",      // likewise
                           "tile/entries/001.p/45", "tile/entries/001", "tile/0/002",
                           "tile/0/002.p/1", "tile/entries/002.p/1", "tile/1/000",
                           "tile/2/000.p/1", "tile/1/001.p/1", "tile/0/x001/000",
                           "tile/7/000.p/1", "checkpoints", "tile", "tiles/0/000", ""}) {
    auto res = get("/log/" + path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  }
}

TEST_F(ServerHttpTest, NonCanonicalPathsAre400WithoutTouchingTheStore) {
  // While every store read fails, a path that reached the store would be a 500.
  faults_->fail_reads(Status::io("the test forbids store reads"));
  for (std::string path :
       {"tile/01/000", "tile/00/000", "tile/0/00", "tile/0/0000", "tile/0/1", "tile/0/x000/001",
        "tile/0/x000/x001/000", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01",
        "tile/0/000.p/", "tile/0/000.p", "tile/64/000", "tile/-1/000", "tile/+0/000",
        "tile/0/../0/000", "tile/0/./000", "tile/../checkpoint", "tile/0/000/", "tile//0/000",
        "tile/0//000", "tile/entries/1/000", "tile/entries/x000/000", "tile/0/x999/000/000",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/000",
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000", "tile/0/99999999999999999999999",
        "tile/0/%30%30%30", "tile/%30/000", "tile/0/000%2ep/1", "tile/0/0x1", "tile/0/abc",
        "tile/0/000.p/1/", "tile/0/000.p.p/1"}) {
    auto res = get("/log/" + path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 400) << path << ": " << res->body;
  }
  // A tile wider than the tree is 404, also without a store read.
  auto wide = get("/log/tile/0/001.p/200");
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->status, 404);
  // The fault is real: a valid tile that is not cached needs the store, and fails.
  auto partial = get("/log/tile/0/001.p/44");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, 500);
  EXPECT_EQ(partial->body.find("the test forbids"), std::string::npos) << "no internals leak";
}

TEST_F(ServerHttpTest, OverlongPathsAreRefused) {
  auto res = get("/log/tile/0/" + std::string(20000, 'x'));
  ASSERT_TRUE(res);
  EXPECT_GE(res->status, 400);
  EXPECT_LT(res->status, 500);
}

TEST_F(ServerHttpTest, OnlyGetAndHeadAreAllowed) {
  auto post = client_->Post("/log/checkpoint", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto head = client_->Head("/log/tile/0/000");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), "8192");
  EXPECT_TRUE(head->body.empty());
}

// Everything the connection brings back until the server closes it (or 5 s pass).
std::string exchange_until_closed(int port, std::string_view request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

size_t count_of(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A body the server answers without reading closes the connection after the answer (header
// and body of each answer go out together, but a "Connection: close" one is the last); the
// unread bytes are never taken for further requests. A bodiless keep-alive request is answered
// and the connection stays open for the next.
TEST_F(ServerHttpTest, AnAnswerLeavingTheBodyUnreadClosesTheConnection) {
  const std::string body = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";  // would be a request if parsed
  const std::string post = "POST /log/checkpoint HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string got = exchange_until_closed(port_, post + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 405 ")) << got;
  EXPECT_NE(got.find("\r\nConnection: close\r\n"), std::string::npos) << got;
  EXPECT_EQ(count_of(got, "HTTP/1.1 "), 1u) << got;

  const std::string two_gets = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n"
                               "Connection: close\r\n\r\n";
  got = exchange_until_closed(port_, two_gets);
  EXPECT_EQ(count_of(got, "HTTP/1.1 200 "), 2u) << got;
  EXPECT_NE(got.find("\r\n\r\nok\n"), std::string::npos) << got;
}

TEST_F(ServerHttpTest, UnknownPathsAre404WithABody) {
  auto res = get("/no/such/thing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_FALSE(res->body.empty());
}

TEST_F(ServerHttpTest, NoReceiptsOrFhirWithoutTheRecordService) {
  for (std::string path : {"/ledger/receipts/5", "/fhir/metadata", "/fhir/Patient/1"}) {
    auto res = get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/fhir+json; charset=utf-8") << path;
  }
  EXPECT_EQ(get("/log/checkpoint")->status, 200);  // the public log stays public
}

TEST_F(ServerHttpTest, OurVerifierAcceptsTheServedLogAsItGrows) {
  auto source = tlog_client::open_http_source(url());
  ASSERT_TRUE(source.is_ok());
  auto first = tlog_client::verify_log(**source, note::verifier_of(key_));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->checkpoint.size, kEntries);
  append(65536);
  tlog_client::VerifyOptions options;
  options.old_checkpoint = first->checkpoint_note;
  auto second = tlog_client::verify_log(**source, note::verifier_of(key_), options);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(second->checkpoint.size, kEntries + 65536);
  EXPECT_EQ(second->old_size, kEntries);
  // 65836 entries. Level 0: 257 full tiles and a partial one; level 1: one full tile and a
  // partial one of width 1; level 2: a partial one of width 1.
  EXPECT_EQ(second->hash_tiles, 258u + 2 + 1);
}

TEST(IsLoopbackHost, KnowsLoopbackFromTheRest) {
  for (std::string host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) EXPECT_TRUE(is_loopback_host(host)) << host;
  for (std::string host : {"0.0.0.0", "10.0.0.1", "::", "example.org", "128.0.0.1", ""}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

}  // namespace
}  // namespace medseal::server
