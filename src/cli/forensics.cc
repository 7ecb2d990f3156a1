// medseal forensics --data DIR [--store postgresql://...]: the forensic report
// (sentinel/forensics.h) on a terminal or as JSON. Reads the store like `medseal monitor` (no
// lock, no writes): DIR's embedded store, or the PostgreSQL store serve --store keeps.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "ledger/keyfile.h"
#include "sentinel/forensics.h"
#include "storage/postgres/pg_store.h"
#include "util/clock.h"
#include "util/time_format.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kCommand = "forensics";

std::string joined(const std::vector<std::string>& items, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) out += (i ? " " : "") + items[i];
  if (items.size() > max_items) out += " (+" + std::to_string(items.size() - max_items) + " more)";
  return out;
}

std::string or_dash(const std::optional<std::string>& s) { return s ? *s : "-"; }

void print_altered(const sentinel::ForensicsReport& r) {
  std::printf("ALTERED (%zu findings, %zu erasures)\n", r.findings(), r.altered.size() - r.findings());
  if (r.altered.empty()) std::printf("  nothing: every entry verifies against the ledger\n");
  for (const sentinel::AlteredRow& a : r.altered) {
    std::printf("  %-8s %-17s %s\n    %s\n    committed %s\n    found     %s\n",
                a.index ? std::to_string(*a.index).c_str() : "-", a.kind.c_str(),
                or_dash(a.resource).c_str(), a.summary.c_str(), or_dash(a.committed).c_str(),
                a.found ? a.found->c_str() : (a.erased() ? "- (erased)" : "- (missing)"));
  }
}

void print_accesses(const sentinel::ForensicsReport& r) {
  std::printf("\nACCESSES (%zu)\n", r.accesses.size());
  std::printf("  %-8s %-24s %-20s %-10s %-9s %-7s %-16s %s\n", "INDEX", "TIME", "WHO", "ROLE", "OP",
              "OUTCOME", "RULE", "PATIENTS / RESOURCES");
  for (const sentinel::AccessRow& a : r.accesses) {
    const bool glass = a.rule == "break-glass";
    std::printf("  %-8llu %-24s %-20s %-10s %-9s %-7s %-16s %s | %s | purpose %s\n",
                static_cast<unsigned long long>(a.index), format_instant(a.time_ms).c_str(),
                a.who.c_str(), a.role.c_str(), a.op.c_str(), a.denied ? "denied" : "ok",
                (glass ? "BREAK-GLASS" : a.rule).c_str(), joined(a.patients, 5).c_str(),
                joined(a.resources, 3).c_str(), a.purpose.c_str());
  }
}

void print_touches(const char* title, const std::vector<sentinel::Touches>& rows, bool with_role) {
  std::printf("\n%s (%zu; allowed accesses)\n", title, rows.size());
  for (const sentinel::Touches& t : rows) {
    std::printf("  %-40s %-10s %6llu  %s .. %s\n", t.who.c_str(), with_role ? t.role.c_str() : "",
                static_cast<unsigned long long>(t.accesses), format_instant(t.first_ms).c_str(),
                format_instant(t.last_ms).c_str());
  }
}

Result<sentinel::ForensicsQuery> query_of(const ForensicsArgs& args) {
  sentinel::ForensicsQuery q;
  q.identity = args.identity;
  q.patient = args.patient;
  for (auto [text, flag, out] : {std::tuple{&args.since, "--since", &q.since_ms},
                                 std::tuple{&args.until, "--until", &q.until_ms}}) {
    if (text->empty()) continue;
    *out = sentinel::parse_time(*text);
    if (!*out) return Status::invalid(std::string(flag) + " must be RFC 3339 or Unix milliseconds");
  }
  MEDSEAL_RETURN_IF_ERROR(sentinel::check_query(q));
  return q;
}

}  // namespace

int run_forensics(const ForensicsArgs& args) {
  Result<sentinel::ForensicsQuery> query = query_of(args);
  if (!query) return fail(kCommand, query.status());
  if (!args.store.empty() && !storage::is_postgres_url(args.store)) {
    return fail(kCommand, "--store must be a postgresql:// URL", kExitUsage);
  }
  const std::string dir = args.data_dir;
  Result<note::VerifierKey> vkey =
      load_vkey(args.vkey.empty() ? dir + "/" + std::string(ledger::kLogVkeyFile) : args.vkey);
  if (!vkey) return fail(kCommand, vkey.status());
  sentinel::SentinelOptions store;
  store.db_path = args.store.empty() ? dir + "/" + std::string(kStoreFile) : args.store;
  store.state_path = args.state_file.empty() ? dir + "/" + std::string(kSentinelStateFile) : args.state_file;
  store.vkey = *vkey;
  Result<sentinel::ForensicsReport> report =
      sentinel::build_forensics(store, *query, system_clock().now_ms());
  if (!report) return fail(kCommand, report.status().message(), kExitFailure);
  if (args.json) {
    std::printf("%s\n", sentinel::to_json(*report).dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace).c_str());
  } else {
    print_altered(*report);
    print_accesses(*report);
    print_touches("PATIENTS TOUCHED", report->patients, false);
    print_touches("IDENTITIES", report->identities, true);
  }
  return report->findings() == 0 ? kExitOk : kExitFailure;
}

}  // namespace medseal::cli
