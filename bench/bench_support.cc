#include "bench_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

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

}  // namespace medseal::bench
