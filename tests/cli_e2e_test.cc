// The medseal program end to end, as a user runs it: keygen, log append, serve (a real process on
// a free port), log verify over HTTP and on a directory copy, tampering, usage errors, shutdown.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ledger/keyfile.h"
#include "merkle/tile.h"
#include "note/checkpoint.h"
#include "note/keys.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "tlog_client/tile_source.h"

namespace medseal::cli {
namespace {

namespace fs = std::filesystem;
using medseal::testing::medseal_binary;
using medseal::testing::ProgramOutcome;
using medseal::testing::read_file;
using medseal::testing::run_medseal;
using medseal::testing::Server;
using medseal::testing::shared_dir;
using medseal::testing::TempDir;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

bool one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

std::string lines(uint64_t first, uint64_t count) {
  std::string text;
  for (uint64_t i = first; i < first + count; ++i) text += R"({"event":"test","n":)" + std::to_string(i) + "}\n";
  return text;
}

// Appends `count` entries through `medseal log append`.
void append(const std::string& data_dir, uint64_t first, uint64_t count) {
  std::string input = data_dir + ".stdin";
  write_file(input, lines(first, count));
  ProgramOutcome r = run_medseal({"log", "append", "--data", data_dir}, input);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("appended " + std::to_string(count) + " entries", 0), 0u) << r.out;
}

// Copies the served log into `dir`, laid out as tlog-tiles (a mirror, as a CDN or monitor keeps).
void mirror(const std::string& url, const std::string& dir) {
  auto source = tlog_client::open_http_source(url);
  ASSERT_TRUE(source.is_ok());
  auto checkpoint = (*source)->read_checkpoint();
  ASSERT_TRUE(checkpoint.is_ok());
  fs::create_directories(dir);
  write_file(dir + "/checkpoint", *checkpoint);
  auto size = note::parse_checkpoint(checkpoint->substr(0, checkpoint->find("\n\n") + 1))->size;
  for (uint8_t level = 0; level < 8; ++level) {
    for (uint64_t n = 0; merkle::tile_width(level, n, size) > 0; ++n) {
      for (bool entries : {false, true}) {
        if (entries && level > 0) continue;
        merkle::TileId id{entries, level, n, merkle::tile_width(level, n, size)};
        auto bytes = (*source)->read_tile(id);
        ASSERT_TRUE(bytes.is_ok()) << merkle::tile_path(id);
        std::string path = dir + "/" + merkle::tile_path(id);
        fs::create_directories(fs::path(path).parent_path());
        write_file(path, *bytes);
      }
    }
  }
}

// ---- keygen ----

TEST(CliKeygen, WritesAPrivateKeyFileAndAVkeyThatParses) {
  TempDir tmp;
  std::string dir = tmp.path() + "/keys";
  ProgramOutcome r = run_medseal({"keygen", "--origin", "example.org/medseal-test", "--out", dir});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(testing::file_mode(dir + "/log.key"), 0600u);
  EXPECT_EQ(testing::file_mode(dir), 0700u);
  auto vkey = ledger::read_verifier_key_file(dir + "/log.vkey");
  ASSERT_TRUE(vkey.is_ok()) << vkey.status().to_string();
  EXPECT_EQ(vkey->name, "example.org/medseal-test");
  EXPECT_EQ(r.out, read_file(dir + "/log.vkey"));
  std::string key_text = read_file(dir + "/log.key");
  EXPECT_EQ(key_text.rfind("PRIVATE+KEY+example.org/medseal-test+", 0), 0u);
  auto key = ledger::read_signer_key_file(dir + "/log.key");
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(note::format_verifier_key(note::verifier_of(*key)), note::format_verifier_key(*vkey));

  ProgramOutcome again = run_medseal({"keygen", "--origin", "example.org/other", "--out", dir});
  EXPECT_EQ(again.status, 1);
  EXPECT_TRUE(one_line(again.err)) << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
  EXPECT_EQ(read_file(dir + "/log.key"), key_text) << "an existing key is never overwritten";
}

TEST(CliKeygen, RejectsAnInvalidOrigin) {
  TempDir tmp;
  for (std::string origin : {"", "has space", "has+plus"}) {
    ProgramOutcome r = run_medseal({"keygen", "--origin", origin, "--out", tmp.path() + "/k"});
    EXPECT_EQ(r.status, 2) << origin;
    EXPECT_TRUE(one_line(r.err)) << r.err;
  }
}

// ---- usage ----

// Every subcommand the top-level help lists, and the nested ones, answer --help.
TEST(CliUsage, EveryCommandHasHelp) {
  ProgramOutcome top = run_medseal({"--help"});
  ASSERT_EQ(top.status, 0);
  std::vector<std::vector<std::string>> commands = {{"log", "append"}, {"log", "verify"}, {"token", "issue"}};
  std::istringstream lines(top.out.substr(top.out.find("Subcommands:")));
  for (std::string line; std::getline(lines, line);) {
    // "  name   description": a name at two spaces of indent; continuation lines are indented further.
    if (line.size() > 2 && line.rfind("  ", 0) == 0 && line[2] != ' ') {
      commands.push_back({line.substr(2, line.find(' ', 2) - 2)});
    }
  }
  EXPECT_GE(commands.size(), 12u) << top.out;
  for (std::vector<std::string> args : commands) {
    args.push_back("--help");
    ProgramOutcome r = run_medseal(args);
    EXPECT_EQ(r.status, 0) << args.front();
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  }
}

TEST(CliUsage, BadInputExitsNonZeroWithOneLine) {
  TempDir tmp;
  std::string vkey = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"serve"},
           {"serve", "--data", tmp.path(), "--listen", "nonsense"},
           {"serve", "--data", tmp.path(), "--listen", "127.0.0.1:65536"},
           {"serve", "--data", tmp.path(), "--listen", "127.0.0.1:080"},
           {"serve", "--data", tmp.path(), "--threads", "0"},
           {"log"},
           {"log", "append"},
           {"log", "verify", "--vkey", vkey},
           {"log", "verify", "--url", "http://x", "--dir", tmp.path(), "--vkey", vkey},
           {"log", "verify", "--url", "ftp://example.org/log", "--vkey", vkey},
           {"log", "verify", "--url", "http://127.0.0.1:1/log?x=1", "--vkey", vkey},
           {"log", "verify", "--dir", tmp.path(), "--vkey", "not a key"},
           {"log", "verify", "--dir", tmp.path(), "--vkey", vkey},  // no checkpoint there
           {"log", "verify", "--url", "http://127.0.0.1:1/log", "--vkey", vkey},  // nobody listens
           {"log", "verify", "--url", "http://127.0.0.1:1/log", "--checkpoint", "x", "--vkey", vkey},
       }) {
    ProgramOutcome r = run_medseal(args);
    std::string shown = args.empty() ? "(none)" : args[0] + " ... " + args.back();
    EXPECT_NE(r.status, 0) << shown;
    EXPECT_TRUE(one_line(r.err)) << shown << ": " << r.err;
  }
}

// ---- serve ----

TEST(CliServe, CreatesKeysOnFirstStartAndStopsOnSigterm) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  Server server(data);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  EXPECT_EQ(testing::file_mode(data + "/log.key"), 0600u);
  auto vkey = ledger::read_verifier_key_file(data + "/log.vkey");
  ASSERT_TRUE(vkey.is_ok());
  EXPECT_EQ(vkey->name, "localhost/medseal");
  for (std::string hint : {"curl " + server.base() + "/log/checkpoint", std::string("log verify --url"), std::string("log.vkey")}) {
    EXPECT_NE(server.first_lines().find(hint), std::string::npos) << server.first_lines();
  }
  httplib::Client client(server.base());
  auto res = client.Get("/log/checkpoint");
  ASSERT_TRUE(res);
  // The empty tree, signed by the new key.
  EXPECT_EQ(res->body.rfind("localhost/medseal\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
                            "\u2014 localhost/medseal ", 0), 0u) << res->body;
  EXPECT_EQ(server.stop(), 0);
  std::string log = server.stderr_text();
  EXPECT_NE(log.find(R"("msg":"stopped")"), std::string::npos) << log;
  // Every stderr line is a JSON object.
  for (size_t start = 0, end; (end = log.find('\n', start)) != std::string::npos; start = end + 1) {
    EXPECT_EQ(log[start], '{') << log.substr(start, end - start);
  }
}

TEST(CliServe, KeepsAnExistingKeyAndRefusesAnotherOrigin) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  ASSERT_EQ(run_medseal({"keygen", "--origin", "example.org/a", "--out", data}).status, 0);
  {
    Server server(data);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    httplib::Client client(server.base());
    auto res = client.Get("/log/checkpoint");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body.rfind("example.org/a\n0\n", 0), 0u) << res->body;
  }
  ProgramOutcome r = run_medseal({"serve", "--data", data, "--listen", "127.0.0.1:0", "--origin", "example.org/b"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("example.org/a"), std::string::npos) << r.err;
}

TEST(CliServe, RefusesAKeyFileOthersCanRead) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  ASSERT_EQ(run_medseal({"keygen", "--out", data}).status, 0);
  ASSERT_EQ(::chmod((data + "/log.key").c_str(), 0644), 0);
  ProgramOutcome r = run_medseal({"serve", "--data", data, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
}

TEST(CliServe, LogAppendIsRefusedWhileTheServerHoldsTheStore) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  Server server(data);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  write_file(tmp.path() + "/in", "one\n");
  ProgramOutcome r = run_medseal({"log", "append", "--data", data}, tmp.path() + "/in");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("another medseal process"), std::string::npos) << r.err;
}

// ---- log append, serve, log verify ----

class CliLogTest : public ::testing::Test {
 protected:
  std::string vkey_file() const { return data_ + "/log.vkey"; }

  ProgramOutcome verify_url(const Server& server, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"log", "verify", "--url", server.log_url(), "--vkey", vkey_file()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_medseal(args);
  }

  TempDir tmp_;
  std::string data_ = tmp_.path() + "/data";
};

TEST_F(CliLogTest, AppendServeVerifyAcrossTileLevelsAndConsistency) {
  append(data_, 0, 300);  // over 256: a full level-0 tile, a partial one, a level-1 tile
  std::string old = tmp_.path() + "/checkpoint.300";
  {
    Server server(data_);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    ProgramOutcome r = verify_url(server, {"--save", old});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("at size 300,"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << "no progress output when stderr is not a terminal: " << r.err;
  }
  append(data_, 300, 65536);  // over 65536: three tile levels
  Server server(data_);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ProgramOutcome r = verify_url(server, {"--old", old});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("at size 65836,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("consistent with the checkpoint of size 300"), std::string::npos) << r.out;

  // The vkey may also be given as text, and the wrong key fails.
  std::string vkey_text = read_file(vkey_file());
  vkey_text.pop_back();  // the newline
  ProgramOutcome text = run_medseal({"log", "verify", "--url", server.log_url(), "--vkey", vkey_text});
  EXPECT_EQ(text.status, 0) << text.err;
  std::string other = note::format_verifier_key(note::verifier_of(note::generate_signer_key("localhost/medseal")));
  ProgramOutcome wrong = run_medseal({"log", "verify", "--url", server.log_url(), "--vkey", other});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_TRUE(one_line(wrong.err)) << wrong.err;
}

TEST_F(CliLogTest, AMirrorOlderThanACheckpointSeenBeforeIsARollback) {
  append(data_, 0, 10);
  std::string stale = tmp_.path() + "/stale";
  {
    Server server(data_);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    mirror(server.log_url(), stale);
  }
  append(data_, 10, 10);
  std::string seen = tmp_.path() + "/checkpoint.20";
  {
    Server server(data_);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    ASSERT_EQ(verify_url(server, {"--save", seen}).status, 0);
  }
  ProgramOutcome r = run_medseal({"log", "verify", "--dir", stale, "--vkey", vkey_file(), "--old", seen});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
}

TEST_F(CliLogTest, ATamperedCopyOfTheServedLogFails) {
  append(data_, 0, 70000);
  Server server(data_);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::string copy = tmp_.path() + "/copy";
  mirror(server.log_url(), copy);
  ProgramOutcome clean = run_medseal({"log", "verify", "--dir", copy, "--vkey", vkey_file()});
  ASSERT_EQ(clean.status, 0) << clean.err;
  for (std::string file : {"tile/0/010", "tile/0/273.p/112", "tile/entries/000",
                           "tile/entries/273.p/112", "tile/1/000", "tile/1/001.p/17",
                           "tile/2/000.p/1", "checkpoint"}) {
    std::string path = copy + "/" + file;
    std::string original = read_file(path);
    ASSERT_FALSE(original.empty()) << file;
    std::string changed = original;
    changed[changed.size() / 2] ^= 0x01;
    write_file(path, changed);
    ProgramOutcome r = run_medseal({"log", "verify", "--dir", copy, "--vkey", vkey_file()});
    EXPECT_EQ(r.status, 1) << file << " was changed and still verified";
    EXPECT_TRUE(one_line(r.err)) << r.err;
    write_file(path, original);
  }
}

TEST(CliLogVerify, TheTesseraLogAtEveryCheckpointAndEveryPair) {
  const std::string dir = shared_dir() + "/testdata/tessera-log";
  const std::string vkey = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
  for (int n2 = 0; n2 <= 15; ++n2) {
    std::string cp = dir + "/checkpoint." + std::to_string(n2);
    ProgramOutcome r = run_medseal({"log", "verify", "--dir", dir, "--checkpoint", cp, "--vkey", vkey});
    ASSERT_EQ(r.status, 0) << n2 << ": " << r.err;
    EXPECT_NE(r.out.find("at size " + std::to_string(n2) + ","), std::string::npos) << r.out;
    for (int n1 = 0; n1 <= 15; ++n1) {
      std::string old = dir + "/checkpoint." + std::to_string(n1);
      ProgramOutcome pair = run_medseal({"log", "verify", "--dir", dir, "--checkpoint", cp, "--old", old, "--vkey", vkey});
      EXPECT_EQ(pair.status, n1 <= n2 ? 0 : 1) << n1 << " -> " << n2 << ": " << pair.err;
    }
  }
}

}  // namespace
}  // namespace medseal::cli
