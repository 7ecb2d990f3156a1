// A full disk through the API (issue 9 section 3): a real `medseal serve` with its data directory on
// a size-limited tmpfs the test mounts (root or CAP_SYS_ADMIN; skipped, saying so, without). A
// filler file takes the free space, then writes through /fhir go on until the store cannot grow.
//  - Writes answer 503 with an OperationOutcome, and keep doing so while the disk is full (code
//    "transient" once serve is in disk-low: server/disk_guard.h).
//  - Reads of records are ledger entries ("recorded before the answer leaves"), and they go on:
//    serve gave its 16 MiB disk reserve back when the disk filled, so every read answers 200 with
//    the acknowledged bytes, and its access entry is in the log: its receipt verifies and names
//    the read. /healthz says disk-low, /metrics counts it, the public log keeps answering.
//  - Nothing is corrupted: the log verifies, every acknowledged write keeps its bytes and receipt,
//    and the only alert is the one disk-full alert (no tamper alert; medseal_integrity_ok stays 1).
//  - Once the filler is deleted writes resume without a restart (the reserve is made again), and a
//    restart finds the store whole.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/common.h"
#include "ledger/receipt.h"
#include "records/statement.h"
#include "support/acked_writes.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::testing {
namespace {

// 16 MiB of it is the disk reserve; writes resume when 20 MiB are free (server/disk_guard.h).
constexpr const char* kTmpfsSize = "size=48m,mode=0700";
constexpr size_t kPayloadBytes = 48 << 10;  // per Observation: the store fills in a few hundred writes
constexpr int kMaxWrites = 5000;
// Reads made on the full disk, each checked to be in the log (MEDSEAL_DISK_FULL_READS: more, to
// measure how many the reserve holds; the run then stops at the first refusal).
size_t full_disk_reads() {
  const char* env = std::getenv("MEDSEAL_DISK_FULL_READS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 200;
}
constexpr int kFullAfterRefusals = 20;  // writes refused in a row that count as a full store

// A tmpfs mounted on `dir` for the object's life.
class Tmpfs {
 public:
  explicit Tmpfs(std::string dir) : dir_(std::move(dir)) {
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, kTmpfsSize) != 0) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (error_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }

 private:
  std::string dir_, error_;
};

// Writes `path` until the filesystem has no space left; returns the bytes written.
size_t fill(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  size_t total = 0;
  for (size_t block : {size_t{1} << 20, size_t{4096}, size_t{512}}) {
    std::string bytes(block, 'f');
    ssize_t n = 0;
    while ((n = ::write(fd, bytes.data(), bytes.size())) > 0) total += static_cast<size_t>(n);
  }
  ::close(fd);
  return total;
}

std::string observation(int n) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"disk full"},)"
         R"("subject":{"reference":"Patient/full-p1"},"valueString":")" +
         std::string(kPayloadBytes, static_cast<char>('a' + n % 26)) + R"("})";
}

// A 503 with an OperationOutcome whose issue has `code` (any code when empty).
bool is_outcome_503(const httplib::Result& res, const std::string& code = "") {
  if (!res || res->status != 503) return false;
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  return body.is_object() && body.value("resourceType", "") == "OperationOutcome" &&
         body["issue"].is_array() && !body["issue"].empty() && body["issue"][0].value("severity", "") == "error" &&
         (code.empty() || body["issue"][0].value("code", "") == code);
}

// "" when the receipt of entry `index` verifies and records `who` reading `name`; else why not.
std::string check_read_receipt(httplib::Client& http, const httplib::Headers& auditor, const note::VerifierKey& vkey,
                               uint64_t index, const std::string& name, const std::string& who) {
  const std::string where = "read entry " + std::to_string(index) + ": ";
  auto res = http.Get("/ledger/receipts/" + std::to_string(index), auditor);
  if (!res || res->status != 200) return where + "no receipt (" + (res ? std::to_string(res->status) : "no answer") + ")";
  auto verified = ledger::verify_receipt(res->body, vkey);
  if (!verified) return where + verified.status().to_string();
  auto statement = records::parse_statement(verified->statement);
  if (!statement) return where + statement.status().to_string();
  const auto& names = statement->resources;
  if (verified->index != index || statement->op != "vread" || statement->who != who ||
      std::find(names.begin(), names.end(), name) == names.end()) {
    return where + "the receipt records another event";
  }
  return "";
}

// The value of a Prometheus sample line `name value` in `text`, or -1.
long metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::strtol(text.c_str() + at + name.size() + 2, nullptr, 10);
}

class DiskFull : public ::testing::Test {
 protected:
  httplib::Result post(httplib::Client& http, int n) {
    return http.Post("/fhir/Observation", clinician_, observation(n), "application/fhir+json");
  }

  void check_all_acked(Server& server) {
    httplib::Client http(server.base());
    for (const AckedWrite& w : acked_) EXPECT_EQ(check_acked_write(http, clinician_, vkey_, w), "");
    std::string why;
    checkpoint_ = verify_served_log(server.log_url(), vkey_, checkpoint_, &why);
    EXPECT_FALSE(checkpoint_.empty()) << why;
  }

  httplib::Headers clinician_, auditor_;
  note::VerifierKey vkey_;
  std::vector<AckedWrite> acked_;
  std::vector<std::pair<uint64_t, std::string>> read_indexes_;  // access entry, record read
  std::string checkpoint_;
};

TEST_F(DiskFull, WritesAnswer503ReadsAreRecordedAndAnsweredNothingBreaksAndWritesResume) {
  // The tmpfs is the data directory itself, so the server's stderr (DATA.serve.err) stays outside.
  TempDir dir;
  const std::string data = dir.path() + "/data", filler = data + "/filler";
  ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
  Tmpfs tmpfs(data);
  if (!tmpfs.error().empty()) GTEST_SKIP() << "cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): " << tmpfs.error();
  auto server = std::make_unique<Server>(data);
  ASSERT_TRUE(server->ready()) << server->stderr_text();
  clinician_ = issue_bearer(data, "clinician", "dr.full@full-hospital");
  auditor_ = issue_bearer(data, "auditor", "full.audit");
  auto vkey = cli::load_vkey(data + "/log.vkey");
  ASSERT_TRUE(vkey);
  vkey_ = *vkey;
  httplib::Client http(server->base());
  http.set_read_timeout(30);
  auto patient = http.Put("/fhir/Patient/full-p1", clinician_, R"({"resourceType":"Patient","id":"full-p1"})",
                          "application/fhir+json");
  ASSERT_TRUE(acked_write(patient, "Patient"));
  acked_.push_back(*acked_write(patient, "Patient"));

  const size_t filled = fill(filler);
  ASSERT_GT(filled, 0u);
  // SQLite fails a commit when it cannot grow the file or its WAL; a checkpoint that copies the WAL
  // into pages the file already has can make room for a few more, so "full" is a run of refusals.
  int n = 0, refused_in_row = 0, refused = 0;
  for (; n < kMaxWrites && refused_in_row < kFullAfterRefusals; ++n) {
    httplib::Result res = post(http, n);
    if (auto acked = acked_write(res, "Observation")) {
      acked_.push_back(*acked);
      refused_in_row = 0;
      continue;
    }
    ASSERT_TRUE(is_outcome_503(res)) << "write " << n << ": " << (res ? res->body.substr(0, 300) : "no answer");
    ++refused_in_row;
    ++refused;
  }
  ASSERT_EQ(refused_in_row, kFullAfterRefusals) << "never full after " << n << " writes";
  std::printf("[ disk full ] filler %zu MB; full after %d writes of %zu KB (%zu acknowledged, %d refused with 503)\n",
              filled >> 20, n, kPayloadBytes >> 10, acked_.size() - 1, refused);

  // Full: serve is in disk-low, and writes are refused at once.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(is_outcome_503(post(http, n + i), "transient"));
  EXPECT_TRUE(is_outcome_503(http.Put("/fhir/Patient/full-p1", clinician_,
                                      R"({"resourceType":"Patient","id":"full-p1","gender":"other"})",
                                      "application/fhir+json"),
                             "transient"));
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(health->body.starts_with("disk-low")) << health->body;

  // Reads go on, each recorded: the same bytes, and an access entry whose receipt names the read.
  const size_t want_reads = full_disk_reads();
  size_t read_ok = 0;
  std::string refusal;
  const auto reads_started = std::chrono::steady_clock::now();
  for (size_t i = 0; i < want_reads; ++i) {
    const AckedWrite& w = acked_[i % acked_.size()];
    auto read = http.Get("/fhir/" + w.name(), clinician_);
    ASSERT_TRUE(read);
    if (read->status != 200) {
      refusal = std::to_string(read->status) + " " + read->body.substr(0, 200);
      break;
    }
    ASSERT_EQ(read->body, w.body) << w.name();
    const std::string index = read->get_header_value("X-Medseal-Ledger-Index");
    ASSERT_FALSE(index.empty()) << w.name();
    if (i < 200) read_indexes_.emplace_back(std::stoull(index), w.name());
    ++read_ok;
  }
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - reads_started).count();
  std::printf("[ disk full ] while full: %zu reads recorded and answered in %.1f s%s\n", read_ok, read_s,
              refusal.empty() ? "" : (", then refused: " + refusal).c_str());
  if (want_reads <= 200) {
    EXPECT_EQ(read_ok, want_reads) << refusal;
  }
  // Fetching a receipt is an access too: once a long measuring run has used the whole reserve,
  // they are checked after the space is freed.
  auto check_reads = [&] {
    for (const auto& [index, name] : read_indexes_) {
      EXPECT_EQ(check_read_receipt(http, auditor_, vkey_, index, name, "dr.full@full-hospital"), "");
    }
  };
  if (refusal.empty()) check_reads();
  for (const char* path : {"/log/checkpoint", "/fhir/metadata"}) {
    auto pub = http.Get(path);
    EXPECT_TRUE(pub && pub->status == 200) << path;
  }
  auto metrics = http.Get("/metrics", auditor_);
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_EQ(metric(metrics->body, "medseal_disk_low"), 1) << metrics->body;
  EXPECT_GE(metric(metrics->body, "medseal_disk_low_refused_writes_total"), 6);
  EXPECT_EQ(metric(metrics->body, "medseal_integrity_ok"), 1);
  std::string why;
  checkpoint_ = verify_served_log(server->log_url(), vkey_, "", &why);
  EXPECT_FALSE(checkpoint_.empty()) << why;

  // Space freed: writes resume, everything acknowledged is intact, the one alert is disk-full.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  EXPECT_TRUE(eventually([&] {
    auto w = post(http, ++n);
    if (auto acked = acked_write(w, "Observation")) acked_.push_back(*acked);
    return w && w->status == 201;
  }));
  if (!refusal.empty()) check_reads();
  struct stat reserve{};
  EXPECT_EQ(::stat((data + "/disk.reserve").c_str(), &reserve), 0) << "the reserve is made again";
  EXPECT_EQ(http.Get("/healthz")->body, "ok\n");
  check_all_acked(*server);
  EXPECT_EQ(alert_lines(server->stderr_text()), 1u) << server->stderr_text();
  auto listed = nlohmann::json::parse(http.Get("/alerts", auditor_)->body, nullptr, false);
  ASSERT_TRUE(listed.is_object() && listed["alerts"].is_array() && listed["alerts"].size() == 1) << listed.dump();
  EXPECT_EQ(listed["alerts"][0].value("kind", ""), "disk-full") << listed.dump();
  EXPECT_EQ(metric(http.Get("/metrics", auditor_)->body, "medseal_disk_low"), 0);

  // And after a restart the store is whole: the sentinel's start-up verification finds nothing.
  EXPECT_EQ(server->stop(), 0);
  server = std::make_unique<Server>(data);
  ASSERT_TRUE(server->ready()) << server->stderr_text();
  check_all_acked(*server);
  server.reset();
  ProgramOutcome full = run_medseal({"monitor", "--data", data, "--full", "--state", dir.path() + "/full.state"});
  EXPECT_EQ(full.status, 0) << full.out << full.err;
  EXPECT_EQ(alert_lines(full.err), 0u) << full.err;
}

}  // namespace
}  // namespace medseal::testing
