// The server's request handling below the HTTP library (server/http_server.cc dispatches to these):
// the FHIR API (fhir::Api::handle), receipts (Api::ledger_receipt) and the public log
// (PublicLog::get), over a real ledger on an in-memory store, with bearer tokens of every role.
//
// An input is a request in HTTP's shape:
//   <METHOD> <target>\n  then <Name>: <value>\n lines, an empty line, and the body.
// In the Authorization header "@admin", "@clinician", "@patient" and "@auditor" stand for tokens
// of those identities (the patient is Patient/p1), so the fuzzer gets past authentication.
// The world is rebuilt every kRequestsPerWorld inputs, which bounds the memory the ledger grows.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "fuzz_input.h"
#include "identity/token_store.h"
#include "ledger/ledger.h"
#include "note/keys.h"
#include "records/resource.h"
#include "records/service.h"
#include "server/fhir_api.h"
#include "server/public_log.h"
#include "support/manual_clock.h"
#include "support/memory_store.h"

namespace {

using namespace medseal;

constexpr int kRequestsPerWorld = 5000;

struct World {
  testing::ManualClock clock{1'704'067'200'000};  // 2024-01-01
  testing::MemoryStore store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<identity::TokenStore> tokens;
  std::unique_ptr<records::RecordService> records;
  std::unique_ptr<server::fhir::Api> api;
  std::unique_ptr<server::PublicLog> public_log;
  std::map<std::string, std::string, std::less<>> token_of;  // "@clinician" -> token

  explicit World(const std::string& dir) {
    std::filesystem::remove(dir + "/tokens");
    ledger::LedgerOptions options;
    options.batch_window = std::chrono::microseconds(50);
    options.clock = &clock;
    auto opened = ledger::Ledger::open(store, note::signer_key_from_seed("fuzz.example/log", {}), options);
    FUZZ_CHECK(opened.is_ok());
    ledger = std::move(*opened);
    auto token_store = identity::TokenStore::open(dir + "/tokens", clock);
    FUZZ_CHECK(token_store.is_ok());
    tokens = std::move(*token_store);
    issue("@admin", {"admin", identity::Role::kAdmin, ""});
    issue("@clinician", {"dr.who", identity::Role::kClinician, ""});
    issue("@patient", {"p1", identity::Role::kPatient, "Patient/p1"});
    issue("@auditor", {"audit.team", identity::Role::kAuditor, ""});
    records = std::make_unique<records::RecordService>(*ledger, store, clock);
    api = std::make_unique<server::fhir::Api>(*records, *tokens, records::r4_resource_types(), clock);
    public_log = std::make_unique<server::PublicLog>(*ledger, 1 << 20);
  }

  void issue(const std::string& placeholder, const identity::Identity& who) {
    auto token = tokens->issue(who);
    FUZZ_CHECK(token.is_ok());
    token_of[placeholder] = *token;
  }
};

const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string path = (std::filesystem::temp_directory_path() / "medseal-fuzz-XXXXXX").string();
    FUZZ_CHECK(mkdtemp(path.data()) != nullptr);
    return path;
  }();
  return dir;
}

World& world() {
  static std::unique_ptr<World> current;
  static int served = 0;
  if (!current || ++served % kRequestsPerWorld == 0) {
    current.reset();
    current = std::make_unique<World>(scratch_dir());
  }
  return *current;
}

// Case-insensitive header lookup over the "Name: value" lines.
struct Parsed {
  std::string method, target;
  std::map<std::string, std::string> headers;  // lower-case names; the last of repeated ones
  std::string body;
};

Parsed parse_request(std::string_view input) {
  Parsed p;
  auto [head, body] = fuzz::split_once(input, "\n\n");
  p.body = std::string(body);
  auto [request_line, header_lines] = fuzz::split_once(head, "\n");
  auto [method, target] = fuzz::split_once(request_line, " ");
  p.method = std::string(method);
  p.target = std::string(target);
  while (!header_lines.empty()) {
    auto [line, rest] = fuzz::split_once(header_lines, "\n");
    header_lines = rest;
    auto [name, value] = fuzz::split_once(line, ":");
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p.headers[lower] = std::string(value.starts_with(' ') ? value.substr(1) : value);
  }
  return p;
}

std::string header(const Parsed& p, const std::string& name) {
  auto it = p.headers.find(name);
  return it == p.headers.end() ? "" : it->second;
}

server::fhir::Request fhir_request(const Parsed& p, std::string_view path, const World& w) {
  const std::string_view target = p.target;
  const size_t question = target.find('?');
  server::fhir::Request r;
  r.method = p.method;
  r.path = std::string(path);
  r.query = question == std::string_view::npos ? "" : std::string(target.substr(question + 1));
  r.body = p.body;
  r.host = header(p, "host");
  r.authorization = header(p, "authorization");
  for (const auto& [placeholder, token] : w.token_of) {
    if (const size_t at = r.authorization.find(placeholder); at != std::string::npos) {
      r.authorization.replace(at, placeholder.size(), token);
    }
  }
  r.accept = header(p, "accept");
  r.content_type = header(p, "content-type");
  r.if_match = header(p, "if-match");
  r.purpose = header(p, "x-medseal-purpose");
  r.break_glass = header(p, "x-medseal-break-glass");
  r.certificate_person = header(p, "x-fuzz-certificate-person");
  r.source = "127.0.0.1";
  return r;
}

void check_status(int status) { FUZZ_CHECK(status >= 200 && status < 600 && status != 500); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const Parsed p = parse_request(fuzz::as_text(data, size));
  const std::string_view target = p.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/fhir" || path.starts_with("/fhir/")) {
    check_status(w.api->handle(fhir_request(p, path.substr(5), w)).status);
  } else if (path.starts_with("/ledger/receipts/")) {
    const std::string_view index = path.substr(std::string_view("/ledger/receipts/").size());
    check_status(w.api->ledger_receipt(fhir_request(p, "", w), index).status);
  } else if (path.starts_with("/log/")) {
    check_status(w.public_log->get(path.substr(5)).status);
  }
  w.clock.set(w.clock.now_ms() + 1000);
  return 0;
}
