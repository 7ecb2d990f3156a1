// medseal witness: a tlog-witness v1.0.0 server for the logs given with --log.
#include <pthread.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/data_dir.h"
#include "ledger/keyfile.h"
#include "server/json_log.h"
#include "server/witness_http.h"
#include "witness/sqlite_witness_store.h"
#include "witness/witness.h"

namespace medseal::cli {
namespace {

constexpr std::string_view kWitnessStoreFile = "witness.db";
constexpr ledger::KeyFileNames kWitnessKeyFiles{"witness.key", "witness.vkey"};

Result<std::vector<note::VerifierKey>> load_log_keys(const std::vector<std::string>& logs) {
  if (logs.empty()) return Status::invalid("at least one --log is required");
  std::vector<note::VerifierKey> keys;
  for (const std::string& text : logs) {
    auto key = load_vkey(text, "--log");
    if (!key) return key.status();
    keys.push_back(*key);
  }
  MEDSEAL_RETURN_IF_ERROR(witness::Witness::check_log_keys(keys));
  return keys;
}

void print_start(const std::string& base, const DataDir& dir, const note::SignerKey& key,
                 const std::vector<note::VerifierKey>& logs) {
  std::printf("listening on %s\n", base.c_str());
  std::printf("  witness name:  %s\n", key.name.c_str());
  std::printf("  witness vkey:  %s\n", note::format_verifier_key(note::verifier_of(key)).c_str());
  std::printf("  key files:     %s (private, mode 0600) and %s\n",
              dir.file(kWitnessKeyFiles.key).c_str(), dir.file(kWitnessKeyFiles.vkey).c_str());
  for (const auto& log : logs) {
    std::printf("  log:           %s\n", note::format_verifier_key(log).c_str());
  }
  std::printf("  submit:        POST %s/add-checkpoint (tlog-witness v1.0.0)\n", base.c_str());
  std::printf("  stop:          Ctrl-C (or SIGTERM)\n");
  std::fflush(stdout);
}

}  // namespace

int run_witness(const WitnessArgs& args) {
  ListenAddress addr;
  if (!parse_listen_address(args.listen, &addr)) {
    return fail("witness", "--listen must be HOST:PORT (IPv6 as [ADDR]:PORT): " + args.listen, kExitUsage);
  }
  if (args.threads < 1 || args.threads > 4096) return fail("witness", "--threads must be 1..4096", kExitUsage);
  auto logs = load_log_keys(args.logs);
  if (!logs) return fail("witness", logs.status());
  // Before any thread exists, so every thread inherits the mask.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto dir = DataDir::open(args.data_dir);
  if (!dir) return fail("witness", dir.status());
  auto key = ledger::load_or_create_key(dir->path(), kWitnessKeyFiles, note::KeyType::kCosignatureV1,
                                        args.name, "");
  if (!key) return fail("witness", key.status());
  auto store = witness::open_sqlite_witness_store(dir->file(kWitnessStoreFile));
  if (!store) return fail("witness", store.status());
  auto w = witness::Witness::create(*key, *logs, **store, system_clock());
  if (!w) return fail("witness", w.status());

  auto http = server::make_witness_server(*w, args.threads);
  auto port = http->bind(addr.host, addr.port);
  if (!port) return fail("witness", port.status());
  std::string base = "http://" + url_host(addr.host) + ":" + std::to_string(*port);
  print_start(base, *dir, *key, *logs);
  server::log_json("info", "witnessing", {{"url", base}, {"name", key->name}, {"logs", logs->size()}});
  return serve_until_signal("witness", [&http] { return http->run(); }, [&http] { http->stop(); });
}

}  // namespace medseal::cli
