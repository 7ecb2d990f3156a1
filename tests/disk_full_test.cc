// A full disk through the API (issue 9 section 3): a real `medseal serve` with its data directory on
// a size-limited tmpfs the test mounts (root or CAP_SYS_ADMIN; skipped, saying so, without). A
// filler file takes the free space, then writes through /fhir go on until the store cannot grow.
//  - Writes answer 503 with an OperationOutcome, and keep doing so while the disk is full.
//  - Reads of records are ledger entries ("recorded before the answer leaves"): they go on after
//    writes are refused, since an access entry is far smaller than a record, and answer 503 too
//    once not even that fits — never other bytes, never unrecorded. The public log, /alerts,
//    /healthz and metadata keep answering.
//  - Nothing is corrupted: the log verifies, every acknowledged write keeps its bytes and receipt,
//    and the sentinel raises no alert.
//  - Once the filler is deleted writes resume, and a restart finds the store whole.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/common.h"
#include "support/acked_writes.h"
#include "support/eventually.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace medseal::testing {
namespace {

constexpr const char* kTmpfsSize = "size=32m,mode=0700";
constexpr size_t kPayloadBytes = 48 << 10;  // per Observation: the store fills in a few hundred writes
constexpr int kMaxWrites = 5000;
constexpr size_t kMaxReads = 100000;
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

bool is_outcome_503(const httplib::Result& res) {
  if (!res || res->status != 503) return false;
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  return body.is_object() && body.value("resourceType", "") == "OperationOutcome" &&
         body["issue"].is_array() && !body["issue"].empty() && body["issue"][0].value("severity", "") == "error";
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
  std::string checkpoint_;
};

TEST_F(DiskFull, WritesAnswer503ReadsAreRecordedOrRefusedNothingBreaksAndWritesResume) {
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

  // Full: writes keep failing cleanly; reads are recorded (same bytes) or refused with 503.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(is_outcome_503(post(http, n + i)));
  EXPECT_TRUE(is_outcome_503(http.Put("/fhir/Patient/full-p1", clinician_,
                                      R"({"resourceType":"Patient","id":"full-p1","gender":"other"})",
                                      "application/fhir+json")));
  // Reads go on while their small access entries still fit, then are refused too.
  int read_ok = 0, read_refused = 0, read_refused_in_row = 0;
  for (size_t i = 0; i < kMaxReads && read_refused_in_row < kFullAfterRefusals; ++i) {
    const AckedWrite& w = acked_[i % acked_.size()];
    auto read = http.Get("/fhir/" + w.name(), clinician_);
    ASSERT_TRUE(read);
    if (read->status == 200) {
      ASSERT_EQ(read->body, w.body) << w.name();
      ++read_ok;
      read_refused_in_row = 0;
      continue;
    }
    ASSERT_TRUE(is_outcome_503(read)) << read->status << " " << read->body.substr(0, 200);
    ++read_refused;
    ++read_refused_in_row;
  }
  std::printf("[ disk full ] while full: %d reads recorded and answered, then %d refused with 503\n", read_ok, read_refused);
  EXPECT_EQ(read_refused_in_row, kFullAfterRefusals) << "reads were never refused";
  for (const char* path : {"/log/checkpoint", "/healthz", "/fhir/metadata"}) {
    auto pub = http.Get(path);
    EXPECT_TRUE(pub && pub->status == 200) << path;
  }
  auto alerts = http.Get("/alerts", auditor_);
  ASSERT_TRUE(alerts);
  EXPECT_EQ(alerts->status, 200);
  std::string why;
  checkpoint_ = verify_served_log(server->log_url(), vkey_, "", &why);
  EXPECT_FALSE(checkpoint_.empty()) << why;

  // Space freed: writes resume, everything acknowledged is intact, nothing was reported.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  EXPECT_TRUE(eventually([&] {
    auto w = post(http, ++n);
    if (auto acked = acked_write(w, "Observation")) acked_.push_back(*acked);
    return w && w->status == 201;
  }));
  check_all_acked(*server);
  EXPECT_EQ(alert_lines(server->stderr_text()), 0u) << server->stderr_text();
  auto listed = nlohmann::json::parse(http.Get("/alerts", auditor_)->body, nullptr, false);
  EXPECT_TRUE(listed.is_object() && listed["alerts"].empty()) << listed.dump();

  // And after a restart the store is whole: the sentinel's start-up verification finds nothing.
  EXPECT_EQ(server->stop(), 0);
  server = std::make_unique<Server>(data);
  ASSERT_TRUE(server->ready()) << server->stderr_text();
  check_all_acked(*server);
  server.reset();
  ProgramOutcome full = run_medseal({"monitor", "--data", data, "--full", "--state", dir.path() + "/full.state"});
  EXPECT_EQ(full.status, 0) << full.out << full.err;
  EXPECT_EQ(alert_lines(read_file(data + ".serve.err")), 0u);
}

}  // namespace
}  // namespace medseal::testing
