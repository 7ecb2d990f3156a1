#include "support/acked_writes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "ledger/receipt.h"
#include "records/resource.h"
#include "records/statement.h"
#include "support/process.h"
#include "tlog_client/tile_source.h"
#include "tlog_client/verify.h"
#include "util/bytes.h"

namespace medseal::testing {

std::optional<AckedWrite> acked_write(const httplib::Result& res, const std::string& type) {
  if (!res || (res->status != 200 && res->status != 201)) return std::nullopt;
  const std::string index = res->get_header_value("X-Medseal-Ledger-Index");
  auto version = records::parse_version_etag(res->get_header_value("ETag"));
  auto resource = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (index.empty() || !version || !resource.is_object() || !resource.contains("id") ||
      !resource["id"].is_string()) {
    return std::nullopt;
  }
  return AckedWrite{std::stoull(index), type, resource["id"].get<std::string>(), *version, res->body};
}

namespace {

std::string check_statement(const ledger::VerifiedReceipt& receipt, const AckedWrite& w) {
  auto statement = records::parse_statement(receipt.statement);
  if (!statement) return "the statement does not parse: " + statement.status().message();
  if (statement->op != "create" && statement->op != "update") return "the statement's op is " + statement->op;
  const auto& names = statement->resources;
  if (std::find(names.begin(), names.end(), w.name()) == names.end()) return "the statement names other resources";
  if (statement->sha256 != hex_encode(crypto::sha256(w.body))) return "the statement's SHA-256 is not the bytes'";
  return "";
}

}  // namespace

std::string check_acked_write(httplib::Client& client, const httplib::Headers& auth,
                              const note::VerifierKey& vkey, const AckedWrite& w) {
  const std::string where = w.name() + " (entry " + std::to_string(w.index) + "): ";
  auto read = client.Get("/fhir/" + w.name(), auth);
  if (!read) return where + "vread: no answer";
  if (read->status != 200) return where + "vread: status " + std::to_string(read->status);
  if (read->body != w.body) return where + "vread: other bytes than acknowledged";
  auto receipt = client.Get("/fhir/" + w.name() + "/$receipt", auth);
  if (!receipt || receipt->status != 200) return where + "$receipt: no 200 answer";
  auto verified = ledger::verify_receipt(receipt->body, vkey);
  if (!verified) return where + "receipt: " + verified.status().to_string();
  if (verified->index != w.index) return where + "receipt for entry " + std::to_string(verified->index);
  std::string statement = check_statement(*verified, w);
  return statement.empty() ? "" : where + statement;
}

std::string verify_served_log(const std::string& log_url, const note::VerifierKey& vkey,
                              const std::string& old_checkpoint, std::string* why) {
  auto source = tlog_client::open_http_source(log_url);
  if (!source) {
    *why = source.status().to_string();
    return "";
  }
  tlog_client::VerifyOptions options;
  if (!old_checkpoint.empty()) options.old_checkpoint = old_checkpoint;
  auto report = tlog_client::verify_log(**source, vkey, options);
  if (!report) {
    *why = report.status().to_string();
    return "";
  }
  return report->checkpoint_note;
}

httplib::Headers issue_bearer(const std::string& data, const std::string& role, const std::string& name) {
  ProgramOutcome t = run_medseal({"token", "issue", "--data", data, "--role", role, "--name", name});
  EXPECT_EQ(t.status, 0) << t.err;
  return {{"Authorization", "Bearer " + t.out.substr(0, t.out.find('\n'))}};
}

std::string observation_json(const std::string& patient, int client, int n, const std::string& id) {
  std::string body = R"({"resourceType":"Observation",)";
  if (!id.empty()) body += R"("id":")" + id + R"(",)";
  return body + R"("status":"final","code":{"text":"heart rate"},"subject":{"reference":")" + patient +
         R"("},"valueQuantity":{"value":)" + std::to_string(60 + n % 60) +
         R"(,"unit":"beats/min"},"note":[{"text":"client )" + std::to_string(client) + " write " +
         std::to_string(n) + R"("}]})";
}

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::atoi(text) : fallback;
}

size_t alert_lines(const std::string& stderr_text) {
  size_t n = 0;
  for (size_t at = stderr_text.find("{\"alert\""); at != std::string::npos; at = stderr_text.find("{\"alert\"", at + 1)) ++n;
  return n;
}

}  // namespace medseal::testing
