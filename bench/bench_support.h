// What the benchmark files share: a fixed log key, scratch directories, file sizes, fatal errors.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

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

// R4's Patient "example" without its narrative, contacts and extra names: 585 bytes.
inline constexpr std::string_view kPatient =
    R"({"resourceType":"Patient","identifier":[{"use":"usual","type":{"coding":[{"system":)"
    R"("http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":)"
    R"("urn:oid:1.2.36.146.595.217.0.1","value":"12345","assigner":{"display":"Acme Healthcare"}}],)"
    R"("active":true,"name":[{"use":"official","family":"Chalmers","given":["Peter","James"]}],)"
    R"("telecom":[{"system":"phone","value":"(03) 5555 6473","use":"work","rank":1}],)"
    R"("gender":"male","birthDate":"1974-12-25","address":[{"use":"home","line":["534 Erewhon St"],)"
    R"("city":"PleasantVille","district":"Rainbow","state":"Vic","postalCode":"3999"}]})";

// CPU time (user + system) of this process, in seconds.
double own_cpu_seconds();
// CPU time (user + system) of a process or thread from its /proc/.../stat file, in clock ticks, if
// its command is `want_comm` (any when empty); -1 if it is gone or is another command.
int64_t stat_ticks(const std::string& stat_path, const std::string& want_comm = "");
// The same for process `pid`.
int64_t cpu_ticks(pid_t pid);
double ticks_to_seconds(int64_t ticks);

// ../shared beside the checkout (test data for benchmarks).
std::string shared_dir();

}  // namespace medseal::bench
