// The proof a follower adds to a forwarded request (cluster/forwarded_identity.h): accepted once,
// within the time window, with the cluster's secret; refused when any signed part of the request
// was changed, when replayed, stale or from the future, when made with another secret, and when a
// client wrote the headers itself. Only an accepted proof changes the request's source and person.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cluster/forwarded_identity.h"
#include "support/manual_clock.h"

namespace medseal::cluster {
namespace {

constexpr uint64_t kNow = 1'800'000'000'000;
const std::string kSecret(32, 's');
constexpr std::string_view kTarget = "/fhir/Observation?patient=Patient/p1";

server::fhir::Request client_request() {
  server::fhir::Request r;
  r.method = "PUT";
  r.body = R"({"resourceType":"Observation"})";
  r.host = "node1.example:8443";
  r.authorization = "Bearer abc";
  r.accept = "application/fhir+json";
  r.content_type = "application/fhir+json";
  r.if_match = "W/\"1\"";
  r.purpose = "treatment";
  r.break_glass = "";
  r.source = "10.1.2.3";
  r.certificate_person = "PNOEE-38001085718";
  return r;
}

// The request as the leader receives it: the follower's address, no certificate, and the headers.
struct Arrived {
  server::fhir::Request request;
  std::map<std::string, std::string> headers;
  HeaderLookup lookup() const {
    return [this](std::string_view name) {
      auto it = headers.find(std::string(name));
      return it == headers.end() ? std::string() : it->second;
    };
  }
};

Arrived forwarded(const ForwardedIdentity& follower, const server::fhir::Request& r) {
  Arrived a{r, {}};
  for (auto& [name, value] : follower.sign(r, kTarget)) a.headers[name] = value;
  a.request.source = "127.0.0.7";
  a.request.certificate_person = "";
  return a;
}

TEST(ForwardedIdentity, AValidProofGivesTheClientsAddressAndPersonOnce) {
  testing::ManualClock clock(kNow);
  ForwardedIdentity follower(kSecret, clock), leader(kSecret, clock);
  Arrived a = forwarded(follower, client_request());
  Arrived again = a;
  ASSERT_TRUE(leader.accept(a.request, kTarget, a.lookup()).is_ok());
  EXPECT_EQ(a.request.source, "10.1.2.3");
  EXPECT_EQ(a.request.certificate_person, "PNOEE-38001085718");
  Status replay = leader.accept(again.request, kTarget, again.lookup());
  EXPECT_EQ(replay.code(), Code::kVerificationFailed) << replay.message();
  EXPECT_EQ(again.request.source, "127.0.0.7");
  // Two identical requests forwarded at the same millisecond are two proofs.
  Arrived twin1 = forwarded(follower, client_request()), twin2 = forwarded(follower, client_request());
  EXPECT_TRUE(leader.accept(twin1.request, kTarget, twin1.lookup()).is_ok());
  EXPECT_TRUE(leader.accept(twin2.request, kTarget, twin2.lookup()).is_ok());
}

TEST(ForwardedIdentity, WithoutACertificateOnlyTheAddressIsForwarded) {
  testing::ManualClock clock(kNow);
  ForwardedIdentity node(kSecret, clock);
  server::fhir::Request r = client_request();
  r.certificate_person = "";
  Arrived a = forwarded(node, r);
  EXPECT_EQ(a.headers.count(std::string(kForwardedPersonHeader)), 0u);
  ASSERT_TRUE(node.accept(a.request, kTarget, a.lookup()).is_ok());
  EXPECT_EQ(a.request.source, "10.1.2.3");
  EXPECT_EQ(a.request.certificate_person, "");
}

TEST(ForwardedIdentity, AnyChangedPartIsRefusedAndChangesNothing) {
  testing::ManualClock clock(kNow);
  ForwardedIdentity node(kSecret, clock);
  using Change = void (*)(Arrived&);
  const std::map<std::string, Change> changes = {
      {"method", [](Arrived& a) { a.request.method = "DELETE"; }},
      {"body", [](Arrived& a) { a.request.body += " "; }},
      {"authorization", [](Arrived& a) { a.request.authorization = "Bearer other"; }},
      {"accept", [](Arrived& a) { a.request.accept = "text/html"; }},
      {"content type", [](Arrived& a) { a.request.content_type = "text/plain"; }},
      {"if-match", [](Arrived& a) { a.request.if_match = "W/\"2\""; }},
      {"purpose", [](Arrived& a) { a.request.purpose = "research"; }},
      {"break-glass", [](Arrived& a) { a.request.break_glass = "emergency"; }},
      {"address", [](Arrived& a) { a.headers[std::string(kForwardedForHeader)] = "10.9.9.9"; }},
      {"person", [](Arrived& a) { a.headers[std::string(kForwardedPersonHeader)] = "PNOEE-49002124277"; }},
      {"person dropped", [](Arrived& a) { a.headers.erase(std::string(kForwardedPersonHeader)); }},
      {"proof dropped", [](Arrived& a) { a.headers.erase(std::string(kForwardedProofHeader)); }},
      {"time", [](Arrived& a) { a.headers[std::string(kForwardedProofHeader)].replace(3, 1, "9"); }},
  };
  for (const auto& [what, change] : changes) {
    Arrived a = forwarded(node, client_request());
    change(a);
    Status s = node.accept(a.request, kTarget, a.lookup());
    EXPECT_FALSE(s.is_ok()) << what;
    EXPECT_NE(s.code(), Code::kNotFound) << what;
    EXPECT_EQ(a.request.source, "127.0.0.7") << what;
    EXPECT_EQ(a.request.certificate_person, "") << what;
  }
  Arrived other_target = forwarded(node, client_request());
  EXPECT_FALSE(node.accept(other_target.request, "/fhir/Observation", other_target.lookup()).is_ok());
}

TEST(ForwardedIdentity, StaleFutureAndForeignProofsAreRefused) {
  testing::ManualClock clock(kNow);
  ForwardedIdentity node(kSecret, clock), stranger(std::string(32, 't'), clock);
  const uint64_t window = static_cast<uint64_t>(kForwardedWindow.count());
  for (uint64_t leader_time : {kNow + window + 1, kNow - window - 1}) {
    Arrived a = forwarded(node, client_request());
    testing::ManualClock leader_clock(leader_time);
    ForwardedIdentity leader(kSecret, leader_clock);
    EXPECT_EQ(leader.accept(a.request, kTarget, a.lookup()).code(), Code::kVerificationFailed) << leader_time;
    EXPECT_EQ(a.request.source, "127.0.0.7");
  }
  Arrived edge = forwarded(node, client_request());
  clock.set(kNow + window);
  EXPECT_TRUE(node.accept(edge.request, kTarget, edge.lookup()).is_ok()) << "the window's edge is inside";
  clock.set(kNow);
  Arrived foreign = forwarded(stranger, client_request());
  EXPECT_EQ(node.accept(foreign.request, kTarget, foreign.lookup()).code(), Code::kVerificationFailed);
}

TEST(ForwardedIdentity, HeadersAClientWritesItselfAreRefused) {
  testing::ManualClock clock(kNow);
  ForwardedIdentity node(kSecret, clock);
  Arrived a{client_request(), {}};
  a.request.source = "192.0.2.1";
  a.request.certificate_person = "";
  const std::string zeros(64, '0');
  for (const std::string& proof : {std::string(), "v1 " + std::to_string(kNow) + " " + std::string(32, 'a') + " " + zeros,
                                   std::string("v2 1 2 3"), std::string("garbage")}) {
    a.headers = {{std::string(kForwardedForHeader), "10.0.0.1"},
                 {std::string(kForwardedPersonHeader), "PNOEE-38001085718"}};
    if (!proof.empty()) a.headers[std::string(kForwardedProofHeader)] = proof;
    Status s = node.accept(a.request, kTarget, a.lookup());
    EXPECT_FALSE(s.is_ok()) << proof;
    EXPECT_NE(s.code(), Code::kNotFound) << proof;
    EXPECT_EQ(a.request.source, "192.0.2.1");
    EXPECT_EQ(a.request.certificate_person, "");
  }
  a.headers.clear();
  EXPECT_EQ(node.accept(a.request, kTarget, a.lookup()).code(), Code::kNotFound);
}

}  // namespace
}  // namespace medseal::cluster
