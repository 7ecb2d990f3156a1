// Statements (records/statement.h): one spelling per statement, fields in the documented order,
// and a parser that takes back exactly what format_statement writes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>

#include "records/statement.h"

namespace medseal::records {
namespace {

const std::string kHash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

Statement write_statement() {
  Statement s;
  s.op = "create";
  s.time_ms = 1767139200123;
  s.who = "dr.house";
  s.role = "clinician";
  s.purpose = "TREAT";
  s.resources = {"Observation/o-1/_history/1"};
  s.sha256 = kHash;
  s.patients = {"Patient/p-1"};
  return s;
}

Statement every_field() {
  Statement s = write_statement();
  s.op = "erase";
  s.denied = true;
  s.reason = "caf\xc3\xa9 \"quoted\" \\ \x01 tab\t";
  s.erased = {0, 7, 18446744073709551615ull};
  s.patients = {"Patient/p-1", "Patient/p-2"};
  return s;
}

void expect_same(const Statement& a, const Statement& b) {
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.denied, b.denied);
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.who, b.who);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.purpose, b.purpose);
  EXPECT_EQ(a.resources, b.resources);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.patients, b.patients);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.erased, b.erased);
}

TEST(Statement, AWriteHasThisExactText) {
  EXPECT_EQ(format_statement(write_statement()),
            R"({"v":1,"op":"create","outcome":"ok","time":1767139200123,"who":"dr.house",)"
            R"("role":"clinician","purpose":"TREAT","resources":["Observation/o-1/_history/1"],)"
            R"("sha256":")" + kHash + R"(","patients":["Patient/p-1"]})");
}

TEST(Statement, EveryFieldInTheDocumentedOrderWithUtf8AndEscapes) {
  EXPECT_EQ(format_statement(every_field()),
            R"({"v":1,"op":"erase","outcome":"denied","time":1767139200123,"who":"dr.house",)"
            R"("role":"clinician","purpose":"TREAT","resources":["Observation/o-1/_history/1"],)"
            R"("sha256":")" + kHash + R"(","patients":["Patient/p-1","Patient/p-2"],)"
            "\"reason\":\"caf\xc3\xa9 \\\"quoted\\\" \\\\ \\u0001 tab\\t\","
            R"("erased":[0,7,18446744073709551615]})");
}

// Plain ASCII statements are written without the general serializer; they must come out the same,
// with a rule, several resources and patients, erased indexes and characters next to the escaped
// ones ('!', '#', '~', '/').
TEST(Statement, EveryFieldInPlainAsciiHasThisExactText) {
  Statement s = every_field();
  s.denied = false;
  s.rule = "break-glass";
  s.reason = "!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~";
  s.resources.push_back("Patient/p-2/_history/3");
  EXPECT_EQ(format_statement(s),
            R"({"v":1,"op":"erase","outcome":"ok","time":1767139200123,"who":"dr.house",)"
            R"("role":"clinician","purpose":"TREAT","resources":["Observation/o-1/_history/1",)"
            R"("Patient/p-2/_history/3"],"sha256":")" + kHash + R"(","patients":["Patient/p-1",)"
            R"("Patient/p-2"],"rule":"break-glass","reason":"!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~",)"
            R"("erased":[0,7,18446744073709551615]})");
  // DEL is printable to nlohmann but not plain here: it takes the general path, unescaped.
  s.reason = "a\x7f";
  EXPECT_NE(format_statement(s).find("\"reason\":\"a\x7f\""), std::string::npos);
}

TEST(Statement, AbsentFieldsAreLeftOut) {
  Statement s;
  s.op = "read";
  s.denied = true;
  s.time_ms = 5;
  s.resources = {"Patient"};
  s.reason = "no token";
  EXPECT_EQ(format_statement(s),
            R"({"v":1,"op":"read","outcome":"denied","time":5,"resources":["Patient"],"reason":"no token"})");
}

TEST(Statement, RoundTrips) {
  Statement minimal;
  minimal.op = "token";
  for (const Statement& s : {write_statement(), every_field(), minimal}) {
    std::string text = format_statement(s);
    auto parsed = parse_statement(text);
    ASSERT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
    expect_same(*parsed, s);
    EXPECT_EQ(format_statement(*parsed), text);
  }
}

TEST(Statement, ParsesEveryOperation) {
  for (std::string op : {"create", "update", "delete", "read", "vread", "history", "search", "audit",
                         "receipt", "erase", "token"}) {
    Statement s = write_statement();
    s.op = op;
    EXPECT_TRUE(parse_statement(format_statement(s)).is_ok()) << op;
  }
}

TEST(Statement, ADeniedRequestMayNameAnyOperation) {
  Statement s = write_statement();
  s.denied = true;
  s.reason = "no token";
  for (std::string op : {"transaction", "$receipt", "batch"}) {
    s.op = op;
    EXPECT_TRUE(parse_statement(format_statement(s)).is_ok()) << op;
  }
  for (std::string op : {std::string(), std::string(65, 'x')}) {
    s.op = op;
    EXPECT_FALSE(parse_statement(format_statement(s)).is_ok()) << op;
  }
  s.denied = false;
  s.op = "transaction";
  EXPECT_FALSE(parse_statement(format_statement(s)).is_ok()) << "only a refused transaction is an entry";
}

TEST(Statement, RefusesAnythingElse) {
  const std::string good = format_statement(write_statement());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "[]",
      "null",
      good + " ",
      " " + good,
      good + "{}",
      with(R"("v":1)", R"("v":2)"),
      with(R"("v":1)", R"("v":"1")"),
      with(R"("v":1,)", ""),
      with(R"("op":"create")", R"("op":"drop")"),
      with(R"("op":"create")", R"("op":1)"),
      with(R"("outcome":"ok")", R"("outcome":"fine")"),
      with(R"("outcome":"ok",)", ""),
      with(R"("time":1767139200123)", R"("time":-1)"),
      with(R"("time":1767139200123)", R"("time":1.5)"),
      with(R"("time":1767139200123)", R"("time":"1767139200123")"),
      with(R"("time":1767139200123,)", ""),
      with(R"("role":"clinician")", R"("role":"surgeon")"),
      with(R"("who":"dr.house")", R"("who":["dr.house"])"),
      with(R"("resources":["Observation/o-1/_history/1"])", R"("resources":"Observation/o-1")"),
      with(R"("resources":["Observation/o-1/_history/1"])", R"("resources":[1])"),
      with(R"("resources":["Observation/o-1/_history/1"])", R"("resources":[])"),
      with(kHash, kHash.substr(1)),
      with(kHash, "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"),
      with(R"("patients":["Patient/p-1"])", R"("patients":[["Patient/p-1"]])"),
      with(R"("who":"dr.house")", R"("who":"")"),
      with(R"("who":"dr.house")", R"("who":"dr.house","who":"dr.house")"),
      with(R"("who":"dr.house")", R"("who":"dr.house","extra":1)"),
      with(R"("who":"dr.house","role":"clinician")", R"("role":"clinician","who":"dr.house")"),
      with(R"("op":"create",)", R"("op": "create",)"),
      with(R"("who":"dr.house")", R"("who":"dr.hous\u0065")"),
      with(R"("purpose":"TREAT")", "\"purpose\":\"\xff\""),
      with(R"("purpose":"TREAT")", R"("purpose":"TREAT",)"),
      R"({"v":1,"op":"audit","outcome":"ok","time":1,"erased":[-1]})",
      R"({"v":1,"op":"audit","outcome":"ok","time":1,"erased":{"0":1}})",
  };
  for (const std::string& text : bad) {
    auto parsed = parse_statement(text);
    ASSERT_FALSE(parsed.is_ok()) << text;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
    EXPECT_EQ(parsed.status().message().find("dr.house"), std::string::npos) << "no content in errors";
  }
  EXPECT_TRUE(parse_statement(good).is_ok()) << "the variations differ from a good statement only where meant";
}

// What format_statement wrote when it built an ordered_json: the ledger holds statements written
// that way, and their commitments cover every byte, so the spelling must never change.
std::string nlohmann_spelling(const Statement& s) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["op"] = s.op;
  j["outcome"] = s.denied ? "denied" : "ok";
  j["time"] = s.time_ms;
  if (!s.who.empty()) j["who"] = s.who;
  if (!s.role.empty()) j["role"] = s.role;
  if (!s.purpose.empty()) j["purpose"] = s.purpose;
  if (!s.resources.empty()) j["resources"] = s.resources;
  if (!s.sha256.empty()) j["sha256"] = s.sha256;
  if (!s.patients.empty()) j["patients"] = s.patients;
  if (!s.rule.empty()) j["rule"] = s.rule;
  if (!s.reason.empty()) j["reason"] = s.reason;
  if (!s.erased.empty()) j["erased"] = s.erased;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

TEST(Statement, SpelledExactlyAsNlohmannDumpsIt) {
  std::mt19937_64 rng(7);
  // Every byte value, UTF-8 sequences of each length, and invalid ones (overlong, surrogate,
  // truncated, above U+10FFFF), which are replaced.
  const std::vector<std::string> pieces = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                           "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80",
                                           "\x7f", "\"", "\\", "/"};
  auto text = [&] {
    std::string t;
    for (int n = static_cast<int>(rng() % 6); n > 0; --n) {
      if (rng() % 3 == 0) t.push_back(static_cast<char>(rng() % 256));
      else t += pieces[rng() % pieces.size()];
    }
    return t;
  };
  for (int i = 0; i < 3000; ++i) {
    Statement s;
    s.op = text();
    s.denied = rng() % 2 == 0;
    s.time_ms = rng() >> (rng() % 64);
    s.who = text();
    s.role = text();
    s.purpose = text();
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) s.resources.push_back(text());
    s.sha256 = text();
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) s.patients.push_back(text());
    s.rule = text();
    s.reason = text();
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) s.erased.push_back(rng() >> (rng() % 64));
    ASSERT_EQ(format_statement(s), nlohmann_spelling(s)) << i;
  }
  for (int c = 0; c < 256; ++c) {
    Statement s = write_statement();
    s.reason = std::string(1, static_cast<char>(c));
    ASSERT_EQ(format_statement(s), nlohmann_spelling(s)) << c;
  }
}

}  // namespace
}  // namespace medseal::records
