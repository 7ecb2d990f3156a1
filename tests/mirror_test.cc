// The mirror in process: logs built with the ledger library over memory stores and served by
// server::HttpServer; the mirror follows them over HTTP, and is served and audited in turn.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include "ledger/ledger.h"
#include "merkle/hash.h"
#include "merkle/tile.h"
#include "mirror/mirror.h"
#include "note/checkpoint.h"
#include "note/cosignature.h"
#include "note/note.h"
#include "server/http_server.h"
#include "support/memory_store.h"
#include "support/paths.h"
#include "tlog_client/tile_source.h"
#include "tlog_client/verify.h"

namespace medseal::mirror {
namespace {

using medseal::testing::TempDir;
using merkle::TileId;

// An HTTP server on a free loopback port for `ledger`, stopped on destruction.
class Served {
 public:
  explicit Served(ledger::Ledger& ledger) : http_(ledger, server::HttpOptions{"127.0.0.1", 0, 8}) {
    auto port = http_.bind();
    EXPECT_TRUE(port.is_ok());
    url_ = "http://127.0.0.1:" + std::to_string(port.is_ok() ? *port : 0) + "/log";
    thread_ = std::thread([this] { (void)http_.run(); });
  }
  ~Served() {
    http_.stop();
    thread_.join();
  }
  const std::string& url() const { return url_; }

 private:
  server::HttpServer http_;
  std::string url_;
  std::thread thread_;
};

// A log: the ledger over a memory store, served over HTTP.
class TestLog {
 public:
  explicit TestLog(const note::SignerKey& key) {
    auto opened = ledger::Ledger::open(store_, key);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    ledger_ = std::move(*opened);
    served_ = std::make_unique<Served>(*ledger_);
  }
  ~TestLog() {
    served_.reset();
    ledger_.reset();
  }

  // Appends `count` entries whose statements start with `tag`.
  void append(uint64_t count, const std::string& tag) {
    std::vector<ledger::AppendRequest> chunk;
    for (uint64_t i = 0; i < count; ++i) {
      chunk.push_back({ledger::EntryKind::kSystem, R"({"tag":")" + tag + R"(","n":)" + std::to_string(i) + "}", 0});
      if (chunk.size() < 4096 && i + 1 < count) continue;
      ASSERT_TRUE(ledger_->append_all(std::move(chunk)).is_ok());
      chunk.clear();
    }
  }
  std::string checkpoint() const { return ledger_->head().checkpoint; }
  uint64_t size() const { return ledger_->head().size; }
  const std::string& url() const { return served_->url(); }

 private:
  testing::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Served> served_;
};

// The log over HTTP, counting tile reads; its checkpoint and tiles can be replaced.
class ScriptedSource : public tlog_client::TileSource {
 public:
  explicit ScriptedSource(const std::string& url) {
    auto opened = tlog_client::open_http_source(url);
    EXPECT_TRUE(opened.is_ok());
    if (opened) inner_ = std::move(*opened);
  }
  Result<std::string> read_checkpoint() override {
    if (checkpoint) return *checkpoint;
    return inner_->read_checkpoint();
  }
  Result<std::string> read_tile(const TileId& id) override {
    ++tiles_read;
    auto bytes = inner_->read_tile(id);
    if (bytes && tamper) tamper(id, *bytes);
    return bytes;
  }
  std::string describe() const override { return inner_->describe(); }

  std::optional<std::string> checkpoint;
  std::function<void(const TileId&, std::string&)> tamper;
  uint64_t tiles_read = 0;

 private:
  std::unique_ptr<tlog_client::TileSource> inner_;
};

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override { open_mirror(); }

  void open_mirror(MirrorConfig config = {}) {
    mirror_.reset();
    if (config.log_key.name.empty()) config.log_key = note::verifier_of(key_);
    auto store = MirrorStore::open(tmp_.path() + "/mirror");
    ASSERT_TRUE(store.is_ok());
    auto opened = Mirror::open(std::move(*store), std::move(config), sink_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    mirror_ = std::move(*opened);
  }

  SyncReport sync(tlog_client::TileSource& source, std::vector<tlog_client::TileSource*> peers = {}) {
    return mirror_->sync(source, peers);
  }

  // The alerts raised since the last call.
  std::vector<alerts::Alert> take_alerts() {
    std::vector<alerts::Alert> all = sink_.alerts();
    std::vector<alerts::Alert> fresh(all.begin() + static_cast<ptrdiff_t>(taken_), all.end());
    taken_ = all.size();
    return fresh;
  }
  std::vector<std::string> alert_kinds() {
    std::vector<std::string> kinds;
    for (const alerts::Alert& a : take_alerts()) kinds.push_back(a.kind);
    return kinds;
  }

  // Syncs `log` to its current size and expects a clean adoption.
  void sync_cleanly(ScriptedSource& source, uint64_t size) {
    SyncReport r = sync(source);
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
    EXPECT_EQ(r.alerts, 0u);
    EXPECT_EQ(r.size, size);
  }

  TempDir tmp_;
  note::SignerKey key_ = note::generate_signer_key("example.org/mirrored");
  alerts::MemorySink sink_;
  std::unique_ptr<Mirror> mirror_;
  size_t taken_ = 0;
};

TEST_F(MirrorTest, HonestGrowthIsFetchedIncrementallyAndTheMirrorServesAVerifiableLog) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  SyncReport first = sync(source);
  ASSERT_TRUE(first.errors.empty()) << first.errors.front();
  EXPECT_TRUE(first.adopted);
  EXPECT_EQ(first.size, 300u);
  // tile/0/000, tile/0/001.p/44, their bundles, tile/1/000.p/1.
  EXPECT_EQ(source.tiles_read, 5u);
  EXPECT_EQ(first.fetched, 5u);

  log.append(10, "a");
  source.tiles_read = 0;
  SyncReport second = sync(source);
  EXPECT_TRUE(second.adopted);
  EXPECT_EQ(second.size, 310u);
  EXPECT_EQ(source.tiles_read, 2u) << "only the grown level-0 tile and its bundle";

  source.tiles_read = 0;
  SyncReport idle = sync(source);
  EXPECT_FALSE(idle.adopted);
  EXPECT_EQ(source.tiles_read, 0u);
  EXPECT_TRUE(sink_.alerts().empty());

  // Three tile levels: level 1 fills up and a level-2 tile appears.
  log.append(65536, "b");
  sync_cleanly(source, 65846);

  auto view = serving_ledger(*mirror_);
  Served mirror_http(*view);
  auto mirror_source = tlog_client::open_http_source(mirror_http.url());
  ASSERT_TRUE(mirror_source.is_ok());
  auto audit = tlog_client::verify_log(**mirror_source, note::verifier_of(key_));
  ASSERT_TRUE(audit.is_ok()) << audit.status().to_string();
  EXPECT_EQ(audit->checkpoint.size, 65846u);
  EXPECT_EQ(audit->checkpoint_note, log.checkpoint());
  // The mirror's own directory is a tlog-tiles log too.
  auto dir = tlog_client::open_dir_source(tmp_.path() + "/mirror/log");
  EXPECT_TRUE(tlog_client::verify_log(*dir, note::verifier_of(key_)).is_ok());
}

TEST_F(MirrorTest, ServesTheSamePathsBodiesAndHeadersAsTheLog) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  sync_cleanly(source, 300);
  auto view = serving_ledger(*mirror_);
  Served mirror_http(*view);
  auto base = [](const std::string& url) { return url.substr(0, url.size() - 4); };
  httplib::Client from_log(base(log.url())), from_mirror(base(mirror_http.url()));
  for (std::string path : {"/log/checkpoint", "/log/tile/0/000", "/log/tile/0/001.p/44", "/log/tile/0/001.p/7",
                           "/log/tile/entries/001.p/44", "/log/tile/entries/000", "/log/tile/1/000.p/1",
                           "/log/tile/0/001.p/45", "/log/tile/0/002", "/log/tile/0/0001", "/log/nothing"}) {
    auto a = from_log.Get(path), b = from_mirror.Get(path);
    ASSERT_TRUE(a && b) << path;
    EXPECT_EQ(a->status, b->status) << path;
    EXPECT_EQ(a->get_header_value("Content-Type"), b->get_header_value("Content-Type")) << path;
    EXPECT_EQ(a->get_header_value("Cache-Control"), b->get_header_value("Cache-Control")) << path;
    if (a->status == 200) {
      EXPECT_EQ(a->body, b->body) << path;
    }
  }
  auto post = from_mirror.Post("/fhir/Patient", "{}", "application/fhir+json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404) << "a mirror has no FHIR API";
}

TEST_F(MirrorTest, ARestartResumesWithoutDownloadingAgain) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(700, "a");
  sync_cleanly(source, 700);
  open_mirror();  // a new process over the same directory
  EXPECT_EQ(mirror_->head().size, 700u);
  EXPECT_EQ(mirror_->head().checkpoint, log.checkpoint());
  log.append(5, "a");
  source.tiles_read = 0;
  sync_cleanly(source, 705);
  EXPECT_EQ(source.tiles_read, 2u) << "tile/0/002.p/193 and its bundle; tile/1/000.p/2 is unchanged";
}

// A sync interrupted after staging (a crash before the checkpoint was replaced) leaves files
// that are never served, and the next sync overwrites them.
TEST_F(MirrorTest, FilesOfAnInterruptedSyncAreNeverServed) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  sync_cleanly(source, 300);
  std::string good = *mirror_->read_tile(TileId{false, 0, 1, 44});
  {
    auto crashed = MirrorStore::open(tmp_.path() + "/mirror");
    ASSERT_TRUE(crashed.is_ok());
    const std::string garbage(32 * 256, 'g');
    ASSERT_TRUE(crashed->stage_tile(TileId{false, 0, 1, 50}, garbage.substr(0, 50 * 32)).is_ok());
    ASSERT_TRUE(crashed->stage_tile(TileId{false, 0, 1, 256}, garbage).is_ok());
  }
  open_mirror();
  EXPECT_EQ(mirror_->head().size, 300u);
  EXPECT_EQ(*mirror_->read_tile(TileId{false, 0, 1, 44}), good);
  EXPECT_EQ(*mirror_->read_tile(TileId{false, 0, 1, 20}), good.substr(0, 20 * 32));
  EXPECT_EQ(mirror_->read_tile(TileId{false, 0, 1, 50}).status().code(), Code::kNotFound);
  EXPECT_EQ(mirror_->read_tile(TileId{false, 0, 1, 256}).status().code(), Code::kNotFound);
  log.append(212, "a");  // tile/0/001 becomes full
  sync_cleanly(source, 512);
  auto full = mirror_->read_tile(TileId{false, 0, 1, 256});
  ASSERT_TRUE(full.is_ok());
  EXPECT_TRUE(full->starts_with(good));
}

TEST_F(MirrorTest, ASmallerCheckpointIsARollbackAndIsNotAdopted) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(200, "a");
  std::string old = log.checkpoint();
  log.append(100, "a");
  sync_cleanly(source, 300);
  source.checkpoint = old;  // the log serves an earlier state
  SyncReport r = sync(source);
  EXPECT_EQ(r.alerts, 1u);
  std::vector<alerts::Alert> raised = take_alerts();
  ASSERT_EQ(raised.size(), 1u);
  const alerts::Alert& alert = raised[0];
  EXPECT_EQ(alert.kind, "log-rollback");
  EXPECT_EQ(alert.evidence["verified"]["size"], 300);
  EXPECT_EQ(alert.evidence["found"]["size"], 200);
  EXPECT_EQ(alert.evidence["found"]["checkpoint"], old);
  EXPECT_EQ(alert.evidence["verified"]["checkpoint"], log.checkpoint());
  EXPECT_EQ(mirror_->head().size, 300u);
  EXPECT_EQ(sync(source).alerts, 0u) << "the same alert is raised once";
}

// A second log with the same key and different entries: what a log that rewrites its history
// shows, at a smaller, equal and larger size than the mirror verified.
TEST_F(MirrorTest, ACheckpointOfAnotherHistoryIsAForkAtEverySize) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  sync_cleanly(source, 300);
  std::string good = log.checkpoint();
  for (uint64_t size : {200u, 300u, 600u}) {
    TestLog forked(key_);
    forked.append(size, "forged");
    ScriptedSource fork_source(forked.url());
    SyncReport r = sync(fork_source);
    EXPECT_EQ(r.alerts, 1u) << size;
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
    std::vector<alerts::Alert> raised = take_alerts();
    ASSERT_EQ(raised.size(), 1u) << size;
    const alerts::Alert& alert = raised[0];
    EXPECT_EQ(alert.kind, "fork") << size;
    EXPECT_EQ(alert.evidence["found"]["size"], size);
    EXPECT_EQ(alert.evidence["found"]["checkpoint"], forked.checkpoint());
    EXPECT_EQ(alert.evidence["verified"]["checkpoint"], good);
    EXPECT_EQ(mirror_->head().checkpoint, good) << "the mirror keeps its last good state";
  }
  log.append(1, "a");
  sync_cleanly(source, 301);  // the honest log is still followed
}

TEST_F(MirrorTest, ACheckpointByAnotherKeyOrWithABadSignatureIsABadSignature) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(10, "a");
  sync_cleanly(source, 10);
  log.append(10, "a");

  TestLog impostor(note::generate_signer_key(key_.name));  // same origin, another key
  impostor.append(30, "x");
  ScriptedSource impostor_source(impostor.url());
  EXPECT_EQ(sync(impostor_source).alerts, 1u);

  std::string corrupted = log.checkpoint();
  corrupted[corrupted.size() - 5] ^= 0x04;  // in the base64 of the signature
  source.checkpoint = corrupted;
  EXPECT_EQ(sync(source).alerts, 1u);
  EXPECT_EQ(alert_kinds(), (std::vector<std::string>{"bad-signature", "bad-signature"}));
  EXPECT_EQ(mirror_->head().size, 10u);
}

TEST_F(MirrorTest, TilesThatDoNotMatchTheirCheckpointAreAnErrorNotAnAlert) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  source.tamper = [](const TileId& id, std::string& bytes) {
    if (id.entries && id.index == 1) bytes[bytes.size() - 1] ^= 0x01;
  };
  SyncReport r = sync(source);
  EXPECT_EQ(r.alerts, 0u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("tile/entries/001.p/44"), std::string::npos) << r.errors[0];
  EXPECT_EQ(mirror_->head().size, 0u);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/mirror/log/tile/0/000")) << "staged tiles are dropped";
  source.tamper = nullptr;
  sync_cleanly(source, 300);
}

// The new tiles give the right root but rewrite an entry the mirror already verified: refused.
TEST_F(MirrorTest, GrownTilesMustKeepTheVerifiedEntries) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  sync_cleanly(source, 300);
  log.append(10, "a");
  const std::string forged_entry(42, 'x');
  source.tamper = [&](const TileId& id, std::string& bytes) {
    if (id.level != 0 || id.index != 1) return;
    if (id.entries) {
      bytes.replace(2, forged_entry.size(), forged_entry);  // entry 256, after its length
    } else {
      bytes.replace(0, 32, as_view(merkle::leaf_hash(forged_entry)));
    }
  };
  SyncReport r = sync(source);
  EXPECT_EQ(r.alerts, 0u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(mirror_->head().size, 300u);
  source.tamper = nullptr;
  sync_cleanly(source, 310);
}

TEST_F(MirrorTest, APeerShownAnotherHistoryIsASplitView) {
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(300, "a");
  ScriptedSource honest_peer(log.url());
  SyncReport r = sync(source, {&honest_peer});
  EXPECT_EQ(r.alerts, 0u);
  EXPECT_TRUE(r.errors.empty());

  for (uint64_t size : {100u, 300u, 400u}) {
    TestLog other_view(key_);  // what the log shows another client
    other_view.append(size, "other");
    ScriptedSource peer(other_view.url());
    r = sync(source, {&honest_peer, &peer});
    EXPECT_EQ(r.alerts, 1u) << size;
    std::vector<alerts::Alert> raised = take_alerts();
    ASSERT_EQ(raised.size(), 1u) << size;
    EXPECT_EQ(raised[0].kind, "fork");
    EXPECT_EQ(raised[0].resources, std::vector<std::string>{other_view.url()});
    EXPECT_EQ(raised[0].evidence["found"]["size"], size);
  }
  // A peer that lags behind on the same history is fine.
  honest_peer.checkpoint = log.checkpoint();
  log.append(50, "a");
  r = sync(source, {&honest_peer});
  EXPECT_EQ(r.size, 350u);
  EXPECT_EQ(r.alerts, 0u);
}

TEST_F(MirrorTest, AWitnessQuorumGatesAdoption) {
  note::SignerKey witness = note::generate_signer_key("example.org/witness", note::KeyType::kCosignatureV1);
  MirrorConfig config;
  config.log_key = note::verifier_of(key_);
  config.witnesses = {note::verifier_of(witness)};
  config.quorum = 1;
  open_mirror(config);
  TestLog log(key_);
  ScriptedSource source(log.url());
  log.append(20, "a");
  SyncReport r = sync(source);
  EXPECT_TRUE(r.awaiting_quorum);
  EXPECT_FALSE(r.adopted);
  EXPECT_EQ(mirror_->head().size, 0u);

  std::string text = log.checkpoint().substr(0, log.checkpoint().find("\n\n") + 1);
  auto sig = note::cosign(text, witness, 1'700'000'000);
  ASSERT_TRUE(sig.is_ok());
  std::string cosigned = log.checkpoint() + note::format_signature_line(*sig) + "\n";
  source.checkpoint = cosigned;
  r = sync(source);
  EXPECT_TRUE(r.adopted);
  EXPECT_EQ(mirror_->head().checkpoint, cosigned);

  std::string forged = cosigned;
  forged[forged.size() - 3] ^= 0x01;  // the cosignature no longer verifies
  source.checkpoint = forged;
  EXPECT_EQ(sync(source).alerts, 1u);
  EXPECT_EQ(alert_kinds(), std::vector<std::string>{"bad-signature"});
}

}  // namespace
}  // namespace medseal::mirror
