// What the benchmark files share: a fixed log key, scratch directories, file sizes, fatal errors.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "note/keys.h"
#include "util/status.h"

namespace medseal::bench {

// A fixed log key, so cached benchmark logs can be reopened.
note::SignerKey bench_key();

// A fresh directory under the system temp dir, removed with the object.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir();
  ~ScratchDir();
};

// The bytes of a SQLite database with its -wal and -shm files.
uint64_t file_bytes(const std::filesystem::path& db);

// Benchmarks have no one to return an error to: print it and abort.
[[noreturn]] void die(const Status& s);

// sqlite3_exec or die.
void exec(sqlite3* db, const char* sql);

// ../shared beside the checkout (test data for benchmarks).
std::string shared_dir();

}  // namespace medseal::bench
