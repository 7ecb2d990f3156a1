// Identities and bearer tokens: issuing, finding a token issued by another process without a
// restart, refusing unknown and malformed tokens, the file's privacy and strictness, concurrent
// issuers, the admin token written on first start, expiry, and revocation (also by another
// process, seen by a running store).
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "identity/identity.h"
#include "identity/token_store.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::identity {
namespace {

using medseal::testing::read_file;
using medseal::testing::TempDir;

// Longer than the interval at which a store looks at its file again after a miss.
constexpr auto kAfterRecheck = std::chrono::milliseconds(150);

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
}

std::unique_ptr<TokenStore> open_store(const std::string& path) {
  auto store = TokenStore::open(path);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  return store.is_ok() ? std::move(*store) : nullptr;
}

const Identity kClinician{"dr.house", Role::kClinician, ""};
const Identity kPatient{"jane@example.org", Role::kPatient, "Patient/p-1"};

TEST(Identity, RoleNamesRoundTripAndCaseMatters) {
  for (Role r : {Role::kAdmin, Role::kClinician, Role::kAuditor, Role::kPatient}) {
    auto parsed = parse_role(role_name(r));
    ASSERT_TRUE(parsed.is_ok()) << role_name(r);
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_EQ(role_name(Role::kAuditor), "auditor");
  for (std::string bad : {"", "Admin", "root", "admin ", "patients"}) {
    EXPECT_EQ(parse_role(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Identity, CheckIdentityNamesAndCompartments) {
  EXPECT_TRUE(check_identity(kClinician).is_ok());
  EXPECT_TRUE(check_identity(kPatient).is_ok());
  EXPECT_TRUE(check_identity({std::string(64, 'a'), Role::kAuditor, ""}).is_ok());
  const std::vector<Identity> bad = {
      {"", Role::kAdmin, ""},
      {std::string(65, 'a'), Role::kAdmin, ""},
      {"has space", Role::kClinician, ""},
      {"quote\"", Role::kClinician, ""},
      {"caf\xc3\xa9", Role::kClinician, ""},
      {"jane", Role::kPatient, ""},                        // a patient needs a compartment
      {"jane", Role::kPatient, "Patient/"},
      {"jane", Role::kPatient, "Observation/1"},
      {"jane", Role::kPatient, "Patient/a_b"},             // not a FHIR id
      {"jane", Role::kPatient, "Patient/" + std::string(65, '1')},
      {"dr.who", Role::kClinician, "Patient/1"},           // only patients have one
  };
  for (const Identity& who : bad) {
    EXPECT_EQ(check_identity(who).code(), Code::kInvalidArgument) << who.name << " " << who.patient;
  }
}

class TokenStoreTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  std::string path_ = tmp_.path() + "/tokens";
};

TEST_F(TokenStoreTest, IssuedTokensAuthenticateAndHaveTheDocumentedShape) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(testing::file_mode(path_), 0600u);
  auto token = store->issue(kPatient);
  ASSERT_TRUE(token.is_ok()) << token.status().to_string();
  ASSERT_EQ(token->size(), 4u + 43u);
  EXPECT_EQ(token->substr(0, 4), "mst_");
  EXPECT_EQ(token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4),
            std::string::npos);
  auto who = store->authenticate(*token);
  ASSERT_TRUE(who.is_ok()) << who.status().to_string();
  EXPECT_EQ(who->name, kPatient.name);
  EXPECT_EQ(who->role, Role::kPatient);
  EXPECT_EQ(who->patient, "Patient/p-1");

  auto other = store->issue(kPatient);
  ASSERT_TRUE(other.is_ok());
  EXPECT_NE(*other, *token) << "every token is fresh";
  EXPECT_EQ(testing::file_mode(path_), 0600u);
}

TEST_F(TokenStoreTest, TheFileHoldsHashesNotTokens) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  auto token = store->issue(kClinician);
  ASSERT_TRUE(token.is_ok());
  std::string text = read_file(path_);
  EXPECT_EQ(text.find(token->substr(4)), std::string::npos) << text;
  EXPECT_EQ(text.rfind(R"({"sha256":")", 0), 0u) << text;
  EXPECT_NE(text.find(R"(","name":"dr.house","role":"clinician","patient":"","created":)"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST_F(TokenStoreTest, ATokenIssuedByAnotherStoreIsFoundWithoutRestart) {
  auto server = open_store(path_);
  auto cli = open_store(path_);
  ASSERT_TRUE(server && cli);
  auto first = cli->issue(kClinician);
  ASSERT_TRUE(first.is_ok());
  auto who = server->authenticate(*first);
  ASSERT_TRUE(who.is_ok()) << who.status().to_string();
  EXPECT_EQ(who->name, "dr.house");

  // A flood of unknown tokens does not stop a later one from being found.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(server->authenticate("mst_" + std::string(43, 'A')).is_ok());
  }
  auto second = cli->issue(kPatient);
  ASSERT_TRUE(second.is_ok());
  std::this_thread::sleep_for(kAfterRecheck);
  who = server->authenticate(*second);
  ASSERT_TRUE(who.is_ok()) << who.status().to_string();
  EXPECT_EQ(who->patient, "Patient/p-1");
  EXPECT_TRUE(server->authenticate(*first).is_ok()) << "a re-read keeps the earlier tokens";
}

TEST_F(TokenStoreTest, AReopenedStoreKnowsEveryToken) {
  std::vector<std::string> tokens;
  {
    auto store = open_store(path_);
    ASSERT_TRUE(store);
    for (int i = 0; i < 5; ++i) tokens.push_back(*store->issue(kClinician));
  }
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  for (const std::string& t : tokens) EXPECT_TRUE(store->authenticate(t).is_ok()) << t;
}

TEST_F(TokenStoreTest, UnknownAndMalformedTokensAreNotFound) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  std::string token = *store->issue(kClinician);
  std::string changed = token;
  changed[10] = changed[10] == 'A' ? 'B' : 'A';
  for (std::string bad : {std::string(), std::string("mst_"), token.substr(0, token.size() - 1),
                          token + "A", "MST_" + token.substr(4), "xyz_" + token.substr(4),
                          token.substr(0, 20) + "+" + token.substr(21), token.substr(4) + "====",
                          std::string("Bearer ") + token, changed}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(store->authenticate(bad).status().code(), Code::kNotFound) << bad;
  }
  EXPECT_TRUE(store->authenticate(token).is_ok());
}

TEST_F(TokenStoreTest, IssueChecksTheIdentity) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->issue({"jane", Role::kPatient, ""}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store->issue({"has space", Role::kAdmin, ""}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(read_file(path_), "") << "nothing written for a refused identity";
}

TEST_F(TokenStoreTest, ADamagedFileIsRefusedNamingTheLine) {
  {
    auto store = open_store(path_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->issue(kClinician).is_ok());
    ASSERT_TRUE(store->issue(kPatient).is_ok());
  }
  const std::string good = read_file(path_);
  const std::string first = good.substr(0, good.find('\n') + 1);
  const std::string hash(64, 'a');
  const std::vector<std::string> damaged = {
      good + "\n",                                            // an empty line
      good + "not json\n",
      good + good.substr(0, 30),                              // a cut-short line
      good + first,                                           // the same token twice
      good + R"({"sha256":")" + hash + R"(","name":"x","role":"root","patient":"","created":1})" "\n",
      good + R"({"sha256":")" + hash + R"(","name":"x","role":"admin","patient":"","created":-1})" "\n",
      good + R"({"sha256":")" + hash + R"(","name":"x","role":"admin","patient":"","created":1,"extra":1})" "\n",
      good + R"({"sha256":")" + hash + R"(","name":"x","role":"admin","patient":"","created":1,"name":"y"})" "\n",
      good + R"({"sha256":")" + hash.substr(1) + R"(","name":"x","role":"admin","patient":"","created":1})" "\n",
      good + R"({"sha256":")" + std::string(64, 'A') + R"(","name":"x","role":"admin","patient":"","created":1})" "\n",
      good + R"({"sha256":")" + hash + R"(","name":"x","role":"patient","patient":"","created":1})" "\n",
      good + R"({"sha256":")" + hash + R"(","name":"x","role":"admin","patient":"","created":"1"})" "\n",
      good + R"(["sha256"])" "\n",
  };
  for (const std::string& text : damaged) {
    write_file(path_, text);
    auto store = TokenStore::open(path_);
    ASSERT_FALSE(store.is_ok()) << text;
    EXPECT_EQ(store.status().code(), Code::kInvalidArgument) << text;
    EXPECT_NE(store.status().message().find("line 3"), std::string::npos) << store.status().message();
    EXPECT_EQ(store.status().message().find('\n'), std::string::npos);
  }
  write_file(path_, good + R"({"sha256":")" + hash + R"(","name":"x","role":"admin","patient":"","created":1})" "\n");
  EXPECT_TRUE(TokenStore::open(path_).is_ok()) << "the variations above differ from a good line only where meant";
}

TEST_F(TokenStoreTest, AFileOthersCanReadOrWriteIsRefused) {
  ASSERT_TRUE(open_store(path_));
  for (mode_t mode : {0640, 0604, 0620, 0660}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto store = TokenStore::open(path_);
    EXPECT_EQ(store.status().code(), Code::kFailedPrecondition) << std::oct << mode;
    EXPECT_NE(store.status().message().find("chmod 600"), std::string::npos);
  }
}

TEST_F(TokenStoreTest, ConcurrentIssuersAllLand) {
  auto a = open_store(path_);
  auto b = open_store(path_);
  ASSERT_TRUE(a && b);
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::vector<std::string>> issued(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    TokenStore* store = (t % 2 ? a : b).get();  // two stores: as two processes would
    threads.emplace_back([store, t, &issued] {
      Identity who{"user" + std::to_string(t), Role::kClinician, ""};
      for (int i = 0; i < kEach; ++i) {
        auto token = store->issue(who);
        if (token.is_ok()) issued[t].push_back(*token);
      }
    });
  }
  for (auto& th : threads) th.join();
  auto fresh = open_store(path_);
  ASSERT_TRUE(fresh);
  std::set<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(issued[t].size(), size_t{kEach});
    for (const std::string& token : issued[t]) {
      all.insert(token);
      auto who = fresh->authenticate(token);
      ASSERT_TRUE(who.is_ok()) << token;
      EXPECT_EQ(who->name, "user" + std::to_string(t));
    }
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kEach});
  std::string text = read_file(path_);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), kThreads * kEach);
}

TEST_F(TokenStoreTest, AuthenticateIsThreadSafeWhileTokensAreIssued) {
  auto server = open_store(path_);
  auto cli = open_store(path_);
  ASSERT_TRUE(server && cli);
  std::string known = *cli->issue(kClinician);
  ASSERT_TRUE(server->authenticate(known).is_ok());  // from now on it must never be refused
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        if (!server->authenticate(known).is_ok()) ++failures;
        server->authenticate("mst_" + std::string(43, 'z')).status();
      }
    });
  }
  std::vector<std::string> later;
  for (int i = 0; i < 20; ++i) later.push_back(*cli->issue(kPatient));
  std::this_thread::sleep_for(kAfterRecheck);
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  std::this_thread::sleep_for(kAfterRecheck);
  for (const std::string& t : later) EXPECT_TRUE(server->authenticate(t).is_ok()) << t;
}

TEST_F(TokenStoreTest, EnsureAdminTokenWritesOncePrivately) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  const std::string admin_path = tmp_.path() + "/admin.token";
  auto token = ensure_admin_token(*store, admin_path);
  ASSERT_TRUE(token.is_ok()) << token.status().to_string();
  EXPECT_EQ(testing::file_mode(admin_path), 0600u);
  EXPECT_EQ(read_file(admin_path), *token + "\n");
  auto who = store->authenticate(*token);
  ASSERT_TRUE(who.is_ok());
  EXPECT_EQ(who->name, "admin");
  EXPECT_EQ(who->role, Role::kAdmin);

  auto again = ensure_admin_token(*store, admin_path);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, *token);
  std::string text = read_file(path_);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << "no second admin token issued";
  for (const auto& entry : std::filesystem::directory_iterator(tmp_.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }

  ASSERT_EQ(::chmod(admin_path.c_str(), 0644), 0);
  EXPECT_EQ(ensure_admin_token(*store, admin_path).status().code(), Code::kFailedPrecondition);
  write_file(admin_path, "not a token\n");
  EXPECT_EQ(ensure_admin_token(*store, admin_path).status().code(), Code::kInvalidArgument);
}

class ManualClock : public Clock {
 public:
  uint64_t now_ms() const override { return now_.load(); }
  void set(uint64_t ms) { now_ = ms; }

 private:
  std::atomic<uint64_t> now_{1'700'000'000'000};
};

TEST_F(TokenStoreTest, ATokenExpiresAtItsTimeAndSaysSo) {
  ManualClock clock;
  auto opened = TokenStore::open(path_, clock);
  ASSERT_TRUE(opened.is_ok());
  auto& store = *opened;
  const uint64_t start = clock.now_ms();
  auto short_lived = store->issue(kClinician, start + 60'000);
  auto forever = store->issue(kPatient);
  ASSERT_TRUE(short_lived.is_ok() && forever.is_ok());
  EXPECT_TRUE(store->authenticate(*short_lived).is_ok());
  clock.set(start + 59'999);
  EXPECT_TRUE(store->authenticate(*short_lived).is_ok());
  clock.set(start + 60'000);
  auto expired = store->authenticate(*short_lived);
  ASSERT_FALSE(expired.is_ok());
  EXPECT_EQ(expired.status().code(), Code::kNotFound);
  EXPECT_EQ(expired.status().message(), "token expired");
  clock.set(start + 100ull * 365 * 86'400'000);
  EXPECT_TRUE(store->authenticate(*forever).is_ok()) << "kNeverExpires does not expire";
  EXPECT_NE(read_file(path_).find("\"expires\":" + std::to_string(start + 60'000) + "}"), std::string::npos);

  // Reopened, the expiry is read back from the file.
  auto reopened = TokenStore::open(path_, clock);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ((*reopened)->authenticate(*short_lived).status().message(), "token expired");
}

TEST_F(TokenStoreTest, RevokedByIdPrefixOrNameAndListed) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  std::string a = *store->issue(kClinician), b = *store->issue(kClinician), c = *store->issue(kPatient);
  const std::string id_a = token_id(a);
  ASSERT_EQ(id_a.size(), 12u);
  auto by_id = store->revoke(id_a.substr(0, 8));
  ASSERT_TRUE(by_id.is_ok()) << by_id.status().to_string();
  EXPECT_EQ(*by_id, std::vector<std::string>{id_a});
  EXPECT_EQ(store->authenticate(a).status().message(), "token revoked");
  EXPECT_TRUE(store->authenticate(b).is_ok());
  EXPECT_EQ(store->revoke(id_a).status().code(), Code::kNotFound) << "already revoked";

  auto by_name = store->revoke(kPatient.name);
  ASSERT_TRUE(by_name.is_ok());
  EXPECT_EQ(*by_name, std::vector<std::string>{token_id(c)});
  EXPECT_FALSE(store->authenticate(c).is_ok());
  EXPECT_TRUE(store->authenticate(b).is_ok());
  EXPECT_EQ(store->revoke("nobody").status().code(), Code::kNotFound);

  auto listed = store->list();
  ASSERT_TRUE(listed.is_ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].id, id_a);
  EXPECT_TRUE((*listed)[0].revoked);
  EXPECT_FALSE((*listed)[1].revoked);
  EXPECT_TRUE((*listed)[2].revoked);
  EXPECT_EQ((*listed)[2].who.patient, kPatient.patient);
  std::string text = read_file(path_);
  EXPECT_EQ(text.find(a.substr(4)), std::string::npos) << "revocations name hashes, not tokens";
  EXPECT_TRUE(TokenStore::open(path_).is_ok()) << "revocation lines parse";
}

TEST_F(TokenStoreTest, AnIdPrefixHasAtLeastEightDigits) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  // Seven digits are taken as a name, which nobody has.
  std::string a = *store->issue(kClinician);
  EXPECT_EQ(store->revoke(token_id(a).substr(0, 7)).status().code(), Code::kNotFound);
  EXPECT_TRUE(store->authenticate(a).is_ok());
}

TEST_F(TokenStoreTest, ARevocationByAnotherProcessTakesEffectInARunningStore) {
  auto server = open_store(path_);
  auto cli = open_store(path_);
  ASSERT_TRUE(server && cli);
  std::string token = *cli->issue(kClinician);
  std::this_thread::sleep_for(kAfterRecheck);
  ASSERT_TRUE(server->authenticate(token).is_ok());
  ASSERT_TRUE(cli->revoke(token_id(token)).is_ok());
  std::this_thread::sleep_for(kAfterRecheck);
  EXPECT_EQ(server->authenticate(token).status().message(), "token revoked");
}

TEST_F(TokenStoreTest, RevocationLinesAreStrict) {
  auto store = open_store(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->issue(kClinician).is_ok());
  const std::string good = read_file(path_);
  const std::string hash = good.substr(11, 64);
  for (const std::string& bad : {R"({"revoked":")" + std::string(64, 'a') + R"(","at":1})",  // no such token
                                 R"({"revoked":")" + hash + R"(","at":"1"})",
                                 R"({"revoked":")" + hash + R"(","at":1,"x":1})",
                                 R"({"revoked":")" + hash + R"("})"}) {
    write_file(path_, good + bad + "\n");
    auto opened = TokenStore::open(path_);
    ASSERT_FALSE(opened.is_ok()) << bad;
    EXPECT_NE(opened.status().message().find("line 2"), std::string::npos) << opened.status().message();
  }
  write_file(path_, good + R"({"revoked":")" + hash + R"(","at":1})" "\n");
  EXPECT_TRUE(TokenStore::open(path_).is_ok());
}

// `medseal token issue --expires-in` and `medseal token revoke` against a running server.
TEST(TokenCommands, ExpiryAndRevocationTakeEffectInARunningServer) {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  testing::Server server(data);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  auto issue = [&](const std::string& name, const std::string& expires_in) {
    return testing::run_medseal({"token", "issue", "--data", data, "--role", "clinician", "--name", name,
                                 "--expires-in", expires_in});
  };
  auto short_lived = issue("short", "2s");
  auto kept = issue("kept", "90d");
  auto revoked = issue("gone", "never");
  ASSERT_EQ(short_lived.status, 0) << short_lived.err;
  ASSERT_EQ(kept.status, 0) << kept.err;
  ASSERT_EQ(revoked.status, 0) << revoked.err;
  auto token_of = [](const testing::ProgramOutcome& r) { return r.out.substr(0, r.out.find('\n')); };
  EXPECT_NE(kept.err.find("token id " + token_id(token_of(kept))), std::string::npos) << kept.err;
  EXPECT_EQ(kept.err.find(token_of(kept)), std::string::npos) << "stderr shows the id, not the token";

  httplib::Client client(server.base());
  auto status = [&](const std::string& token) {
    auto res = client.Get("/fhir/Patient", {{"Accept", "application/fhir+json"}, {"Authorization", "Bearer " + token}});
    return res ? std::to_string(res->status) + (res->status == 401 ? " " + res->body : "") : "no answer";
  };
  std::this_thread::sleep_for(kAfterRecheck);
  EXPECT_EQ(status(token_of(short_lived)), "200");
  EXPECT_EQ(status(token_of(revoked)), "200");

  auto revoke = testing::run_medseal({"token", "revoke", "--data", data, "gone"});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  EXPECT_EQ(revoke.out, "revoked " + token_id(token_of(revoked)) + "\n");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_NE(status(token_of(revoked)).find("401 {\"resourceType\":\"OperationOutcome\""), std::string::npos);
  EXPECT_NE(status(token_of(revoked)).find("token revoked"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_NE(status(token_of(short_lived)).find("token expired"), std::string::npos);
  EXPECT_EQ(status(token_of(kept)), "200");

  auto by_id = testing::run_medseal({"token", "revoke", "--data", data, token_id(token_of(kept)).substr(0, 8)});
  EXPECT_EQ(by_id.status, 0) << by_id.err;
  EXPECT_EQ(testing::run_medseal({"token", "revoke", "--data", data, "nobody"}).status, 1);
  for (const char* bad : {"0d", "5", "1w", "-1d", "d", "999999999d"}) {
    EXPECT_EQ(issue("x", bad).status, 2) << bad;
  }
}

}  // namespace
}  // namespace medseal::identity
