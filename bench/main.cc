// medseal_bench: runs every Google Benchmark in bench/, then prints the DESIGN.md section 8 summary
// (each figure with its unit, the baseline measured in the same run, the ratio and the target) and
// writes it as JSON to the file given with --summary.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

// Remembers every run's figures by benchmark name while the console reporter prints as usual.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  struct Figures {
    double ns_per_op = 0;
    std::map<std::string, double> counters;
  };

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) not_run_[run.benchmark_name()] = run.error_message;
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      Figures f;
      f.ns_per_op = run.GetAdjustedRealTime() *
                    (1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit));
      for (const auto& [name, counter] : run.counters) f.counters[name] = counter.value;
      figures_[run.benchmark_name()] = f;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // A figure of the benchmark run named exactly `name` (as the console prints it): its time per
  // operation in microseconds ("us") or one of its counters. Exact, because a prefix such as
  // "BM_VerifyInclusion" would also pick up "BM_VerifyInclusion10M".
  std::optional<double> figure(const std::string& name, const std::string& what) const {
    auto run = figures_.find(name);
    if (run == figures_.end()) return std::nullopt;
    if (what == "us") return run->second.ns_per_op / 1000.0;
    auto it = run->second.counters.find(what);
    if (it == run->second.counters.end()) return std::nullopt;
    return it->second;
  }

  // Why the benchmark named `name` gave no figures ("" if it did or was not selected).
  std::string not_run(const std::string& name) const {
    auto it = not_run_.find(name);
    return it == not_run_.end() ? "" : it->second;
  }

 private:
  std::map<std::string, Figures> figures_;
  std::map<std::string, std::string> not_run_;
};

// One line of the summary. With a baseline, the ratio figure/baseline is compared with `target`;
// without one, the figure itself is (lower_is_better decides the direction).
struct SummaryRow {
  const char* title;
  const char* benchmark;
  const char* what;  // "us" or a counter name
  const char* unit;
  const char* baseline_benchmark;  // nullptr: no baseline
  double target;
  bool lower_is_better;
  const char* target_text;
};

constexpr const char* kPg1x64 = "BM_PgHttpCreate/nodes:1/clients:64/iterations:1/manual_time";
constexpr const char* kPg3x64 = "BM_PgHttpCreate/nodes:3/clients:64/iterations:1/manual_time";
constexpr const char* kPg1x256 = "BM_PgHttpCreate/nodes:1/clients:256/iterations:1/manual_time";
constexpr const char* kPg3x256 = "BM_PgHttpCreate/nodes:3/clients:256/iterations:1/manual_time";
constexpr const char* kPlain16 = "BM_PgPlainInsert/connections:16/iterations:1/manual_time";
constexpr const char* kPlain64 = "BM_PgPlainInsert/connections:64/iterations:1/manual_time";
constexpr const char* kPlain256 = "BM_PgPlainInsert/connections:256/iterations:1/manual_time";

const SummaryRow kRows[] = {
    {"Merkle node hash (65 B) vs raw SHA-256", "BM_NodeHash", "bytes_per_second", "B/s",
     "BM_RawSha256Ctx_65", 0.8, false, ">= 0.8 x raw OpenSSL"},
    {"Merkle leaf hash (43 B) vs raw SHA-256", "BM_LeafHash", "bytes_per_second", "B/s",
     "BM_RawSha256Ctx_43", 0.8, false, ">= 0.8 x raw OpenSSL"},
    {"durable appends, 1 caller, batches of 4096", "BM_LedgerAppendDurable/real_time/threads:1",
     "items_per_second", "entries/s", nullptr, 500000, false, ">= 500,000 entries/s"},
    {"durable appends, 2 callers, batches of 4096", "BM_LedgerAppendDurable/real_time/threads:2",
     "items_per_second", "entries/s", nullptr, 500000, false, ">= 500,000 entries/s"},
    {"durable appends (2 callers) vs SQLite inserts", "BM_LedgerAppendDurable/real_time/threads:2",
     "items_per_second", "entries/s", "BM_SqliteBaselineInsert/real_time", 0.0, false,
     "(reported)"},
    {"inclusion proof from store, 10^6 entries", "BM_InclusionProofFromStore/1000000", "us", "us",
     nullptr, 50, true, "< 50 us"},
    {"inclusion proof from store, 10^7 entries", "BM_InclusionProofFromStore/10000000", "us", "us",
     nullptr, 50, true, "< 50 us"},
    {"whole receipt from store, 10^7 entries", "BM_ReceiptFromStore/10000000", "us", "us", nullptr,
     0.0, true, "(reported)"},
    {"inclusion proof verification, 10^7 entries", "BM_VerifyInclusion10M", "us", "us", nullptr, 10,
     true, "< 10 us"},
    {"receipt verification, Ed25519 included", "BM_VerifyReceipt", "us", "us", nullptr, 0.0, true,
     "(reported)"},
    {"storage per entry (100 B statements) vs SQLite", "BM_LedgerStoragePerEntry/iterations:1/real_time",
     "bytes_per_entry", "B", "BM_SqliteBaselineInsert/real_time", 0.0, true, "(reported)"},
    {"record ingest (Synthea bundles) vs SQLite inserts", "BM_RecordIngestSynthea/min_time:3.000/real_time",
     "items_per_second", "resources/s", "BM_SqliteResourceInsert/min_time:3.000/real_time", 0.7, false,
     ">= 0.7 x plain SQLite"},
    {"HTTP FHIR creates, 64 clients", "BM_HttpFhirCreate/iterations:1/manual_time",
     "items_per_second", "req/s", nullptr, 20000, false, ">= 20,000 req/s"},
    {"HTTP FHIR creates vs GET /healthz", "BM_HttpFhirCreate/iterations:1/manual_time",
     "items_per_second", "req/s", "BM_HttpHealthz/iterations:1/manual_time", 0.0, false,
     "(reported)"},
    {"HTTP FHIR creates p99", "BM_HttpFhirCreate/iterations:1/manual_time", "p99_ms", "ms",
     nullptr, 50, true, "< 50 ms"},
    {"HTTP FHIR reads, 64 clients", "BM_HttpFhirRead/iterations:1/manual_time",
     "items_per_second", "req/s", nullptr, 20000, false, ">= 20,000 req/s"},
    {"HTTP FHIR reads vs GET /healthz", "BM_HttpFhirRead/iterations:1/manual_time",
     "items_per_second", "req/s", "BM_HttpHealthz/iterations:1/manual_time", 0.0, false,
     "(reported)"},
    {"HTTP FHIR reads p99", "BM_HttpFhirRead/iterations:1/manual_time", "p99_ms", "ms", nullptr,
     50, true, "< 50 ms"},
    // PostgreSQL (issue 7 section 5; pg_bench.cc, pg_nodes_bench.cc): the baselines are plain
    // inserts of the same rows from as many connections, same durability, same run.
    {"PG appends (batches of 4096) vs plain inserts", "BM_LedgerAppendPostgres/min_time:3.000/real_time",
     "items_per_second", "entries/s", "BM_PostgresBaselineInsert/min_time:3.000/real_time", 0.0, false,
     "(reported)"},
    {"PG HTTP creates, 1 node, 64 clients vs plain", kPg1x64, "items_per_second", "writes/s", kPlain64,
     0.0, false, "(reported)"},
    {"PG HTTP creates, 2 nodes, 64 clients vs plain", "BM_PgHttpCreate/nodes:2/clients:64/iterations:1/manual_time",
     "items_per_second", "writes/s", kPlain64, 0.0, false, "(reported)"},
    {"PG HTTP creates, 3 nodes, 64 clients vs plain", kPg3x64, "items_per_second", "writes/s", kPlain64,
     0.0, false, "(reported)"},
    {"PG HTTP creates, 1 node, 16 clients vs plain", "BM_PgHttpCreate/nodes:1/clients:16/iterations:1/manual_time",
     "items_per_second", "writes/s", kPlain16, 0.0, false, "(reported)"},
    {"PG HTTP creates, 3 nodes, 16 clients vs plain", "BM_PgHttpCreate/nodes:3/clients:16/iterations:1/manual_time",
     "items_per_second", "writes/s", kPlain16, 0.0, false, "(reported)"},
    {"PG HTTP creates, 1 node, 256 clients vs plain", kPg1x256, "items_per_second", "writes/s", kPlain256,
     0.0, false, "(reported)"},
    {"PG HTTP creates, 3 nodes, 256 clients vs plain", kPg3x256, "items_per_second", "writes/s", kPlain256,
     0.0, false, "(reported)"},
    {"PG HTTP creates p99, 3 nodes, 64 clients", kPg3x64, "p99_ms", "ms", nullptr, 0.0, true, "(reported)"},
    {"PG leader CPU per write, 1 node, 64 clients", kPg1x64, "leader_cpu_us", "us", nullptr, 0.0, true,
     "(reported)"},
    {"PG leader CPU per write, 3 nodes, 64 clients", kPg3x64, "leader_cpu_us", "us", nullptr, 0.0, true,
     "(reported)"},
    {"PG followers' CPU per write, 3 nodes, 64 cl.", kPg3x64, "followers_cpu_us", "us", nullptr, 0.0, true,
     "(reported)"},
    {"PG server CPU per write, 1 node vs plain", kPg1x64, "pg_cpu_us", "us", kPlain64, 0.0, true,
     "(reported)"},
    {"PG server CPU per write, 3 nodes vs plain", kPg3x64, "pg_cpu_us", "us", kPlain64, 0.0, true,
     "(reported)"},
    {"PG WAL bytes per write, 1 node vs plain", kPg1x64, "wal_bytes", "B", kPlain64, 0.0, true,
     "(reported)"},
    {"PG writes per WAL fsync, 1 node vs plain", kPg1x64, "writes_per_fsync", "writes", kPlain64, 0.0,
     false, "(reported)"},
    {"PG sequencer thread busy, 1 node, 256 cl.", kPg1x256, "seq_busy", "fraction", nullptr, 0.0, true,
     "(reported)"},
    {"PG busiest server process busy, 1 node, 256", kPg1x256, "pg_busiest_busy", "fraction", nullptr, 0.0,
     true, "(reported)"},
    {"PG cores kept busy, 1 node, 256 cl. vs plain", kPg1x256, "cores_used", "cores", kPlain256, 0.0,
     false, "(reported)"},
    {"PG ceiling: the leader's sequencer thread", kPg1x256, "seq_ceiling", "writes/s", nullptr, 0.0,
     false, "(reported)"},
    {"PG ceiling: the busiest server process", kPg1x256, "pg_busiest_ceiling", "writes/s", kPlain256, 0.0,
     false, "(reported)"},
    {"PG ceiling: writes/s per leader core", kPg1x256, "leader_writes_per_core", "writes/s", nullptr, 0.0,
     false, "(reported)"},
    {"PG ceiling: writes/s per PostgreSQL core", kPg1x256, "pg_writes_per_core", "writes/s", kPlain256,
     0.0, false, "(reported)"},
};

nlohmann::json summarize(const RecordingReporter& reporter) {
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\n%-46s %16s %-10s %16s %8s  %-22s %s\n", "figure", "value", "unit", "baseline",
              "ratio", "target", "met");
  for (const SummaryRow& row : kRows) {
    nlohmann::json j = {{"figure", row.title}, {"unit", row.unit}, {"target", row.target_text}};
    auto value = reporter.figure(row.benchmark, row.what);
    std::optional<double> baseline;
    if (row.baseline_benchmark) baseline = reporter.figure(row.baseline_benchmark, row.what);
    std::optional<double> ratio;
    if (value && baseline && *baseline > 0) ratio = *value / *baseline;
    const bool reported_only = row.target == 0.0;
    std::optional<bool> met;
    if (!reported_only) {
      double compared = row.baseline_benchmark ? ratio.value_or(-1) : value.value_or(-1);
      if (compared >= 0) met = row.lower_is_better ? compared < row.target : compared >= row.target;
    }
    j["value"] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    j["baseline"] = baseline ? nlohmann::json(*baseline) : nlohmann::json(nullptr);
    j["ratio"] = ratio ? nlohmann::json(*ratio) : nlohmann::json(nullptr);
    j["met"] = met ? nlohmann::json(*met) : nlohmann::json(nullptr);
    std::string why_not = reporter.not_run(row.benchmark);
    if (why_not.empty() && row.baseline_benchmark) why_not = reporter.not_run(row.baseline_benchmark);
    if (!value) j["not_run"] = why_not.empty() ? "not selected" : why_not;
    rows.push_back(j);
    auto num = [](std::optional<double> v) {
      char buf[32];
      if (!v) return std::string("-");
      std::snprintf(buf, sizeof buf, *v >= 1000 ? "%.0f" : "%.3f", *v);
      return std::string(buf);
    };
    std::printf("%-46s %16s %-10s %16s %8s  %-22s %s\n", row.title, num(value).c_str(), row.unit,
                num(baseline).c_str(), num(ratio).c_str(), row.target_text,
                !value ? ("not run" + (why_not.empty() ? "" : ": " + why_not)).c_str()
                : reported_only ? "" : (met && *met) ? "yes" : "NO");
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  std::string summary_path;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--summary") == 0 && i + 1 < argc) {
      summary_path = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  nlohmann::json rows = summarize(reporter);
  if (!summary_path.empty()) {
    std::ofstream(summary_path) << nlohmann::json{{"summary", rows}}.dump(2) << "\n";
    std::printf("\nsummary written to %s\n", summary_path.c_str());
  }
  benchmark::Shutdown();
  return 0;
}
