#include "bench_support.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace medseal::bench {

namespace fs = std::filesystem;

note::SignerKey bench_key() {
  crypto::Ed25519Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(0x5a ^ i);
  return note::signer_key_from_seed("localhost/medseal", seed);
}

ScratchDir::ScratchDir() {
  std::string t = (fs::temp_directory_path() / "medseal-bench-XXXXXX").string();
  if (mkdtemp(t.data()) == nullptr) std::abort();
  path = t;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

uint64_t file_bytes(const fs::path& db) {
  uint64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    const auto n = fs::file_size(db.string() + suffix, ec);
    if (!ec) total += n;
  }
  return total;
}

void die(const Status& s) {
  std::fprintf(stderr, "medseal_bench: %s\n", s.to_string().c_str());
  std::abort();
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    die(Status::io(sqlite3_errmsg(db)));
  }
}

std::string shared_dir() { return MEDSEAL_SOURCE_DIR "/../shared"; }

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

int64_t stat_ticks(const std::string& stat_path, const std::string& want_comm) {
  std::ifstream in(stat_path);
  std::string line;
  if (!std::getline(in, line)) return -1;
  // "pid (comm) state ppid ...": comm may hold spaces, so fields count from the last ')'.
  const size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return -1;
  if (!want_comm.empty() && line.compare(open + 1, close - open - 1, want_comm) != 0) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  return utime + stime;
}

int64_t cpu_ticks(pid_t pid) { return stat_ticks("/proc/" + std::to_string(pid) + "/stat"); }

double ticks_to_seconds(int64_t ticks) { return double(ticks) / double(sysconf(_SC_CLK_TCK)); }

}  // namespace medseal::bench
