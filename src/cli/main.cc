// medseal: flag parsing only; each subcommand is a function in cli/commands.h.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "ledger/keyfile.h"

namespace {

using namespace medseal::cli;

struct Args {
  KeygenArgs keygen{std::string(medseal::ledger::kDefaultOrigin), ""};
  ServeArgs serve;
  LogAppendArgs append;
  LogVerifyArgs verify;
  TokenIssueArgs token;
  VerifyArgs receipt;
};

void add_keygen(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand("keygen", "Write a new log key pair: DIR/log.key (mode 0600) and DIR/log.vkey");
  cmd->add_option("--origin", a.keygen.origin, "The log's origin, its key name")->capture_default_str();
  cmd->add_option("--out", a.keygen.out_dir, "Directory for the key files (created if absent)")->required();
}

void add_serve(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand("serve", "Serve the ledger over HTTP (creates keys and store on first start)");
  cmd->add_option("--data", a.serve.data_dir, "Data directory: keys and the embedded store")->required();
  cmd->add_option("--listen", a.serve.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--origin", a.serve.origin,
                  "Log origin for a new key (default localhost/medseal); must match an existing key");
  cmd->add_option("--threads", a.serve.threads, "Connections served at once")->capture_default_str();
  cmd->add_flag("--access-log", a.serve.access_log, "Log every request as a JSON line on stderr");
  cmd->add_option("--witness", a.serve.witnesses,
                  "URL=VKEY: a tlog-witness submission prefix and its cosignature verifier key (or a "
                  "file holding it); repeatable");
  cmd->add_option("--witness-quorum", a.serve.witness_quorum,
                  "Cosignatures a checkpoint needs before it is served (1..witnesses; default: all)");
}

void add_log(CLI::App& app, Args& a) {
  auto* log = app.add_subcommand("log", "Work with a tlog-tiles log");
  log->require_subcommand(1);
  auto* append = log->add_subcommand(
      "append", "Append one system entry per line of standard input (the line is the statement); "
                "the data directory must not be in use by a server");
  append->add_option("--data", a.append.data_dir, "Data directory")->required();
  append->add_option("--origin", a.append.origin, "Log origin for a new key");

  auto* verify = log->add_subcommand(
      "verify", "Verify a log's checkpoint, every tile and entry bundle, and consistency with --old");
  auto* url = verify->add_option("--url", a.verify.url, "The log's tlog-tiles prefix, e.g. http://127.0.0.1:8080/log");
  auto* dir = verify->add_option("--dir", a.verify.dir, "A directory laid out as tlog-tiles");
  url->excludes(dir);
  verify->add_option("--checkpoint", a.verify.checkpoint, "With --dir: verify this checkpoint file instead of DIR/checkpoint");
  verify->add_option("--vkey", a.verify.vkey, "The log's verifier key, or a file holding it")->required();
  verify->add_option("--old", a.verify.old, "An earlier checkpoint of this log that it must extend");
  verify->add_option("--save", a.verify.save, "Write the verified checkpoint here (the next --old)");
}

void add_token(CLI::App& app, Args& a) {
  auto* token = app.add_subcommand("token", "Manage bearer tokens");
  token->require_subcommand(1);
  auto* issue = token->add_subcommand(
      "issue", "Add a bearer token to DIR/tokens and print it; works while a server runs");
  issue->add_option("--data", a.token.data_dir, "Data directory")->required();
  issue->add_option("--role", a.token.role, "admin, clinician, auditor or patient")->required();
  issue->add_option("--name", a.token.name, "The identity's name in ledger statements")->required();
  issue->add_option("--patient", a.token.patient, "With --role patient: their compartment, Patient/<id>");
}

void add_verify(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "verify", "Verify a receipt offline: the entry's commitment, the inclusion proof and the "
                "checkpoint's log signature; with --resource, the resource's SHA-256 too");
  cmd->add_option("--receipt", a.receipt.receipt, "A receipt file (from /ledger/receipts/N or $receipt)")->required();
  cmd->add_option("--resource", a.receipt.resource, "The resource's exact bytes as served");
  cmd->add_option("--vkey", a.receipt.vkey, "The log's verifier key, or a file holding it")->required();
}

int dispatch(CLI::App& app, Args& a, const char* program) {
  if (app.got_subcommand("token")) return run_token_issue(a.token);
  if (app.got_subcommand("verify")) return run_verify(a.receipt);
  if (app.got_subcommand("keygen")) return run_keygen(a.keygen);
  if (app.got_subcommand("serve")) {
    a.serve.program = program;
    return run_serve(a.serve);
  }
  CLI::App* log = app.get_subcommand("log");
  if (log->got_subcommand("append")) return run_log_append(a.append);
  return run_log_verify(a.verify);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"medseal: a tamper-evident health-record ledger"};
  app.require_subcommand(1);
  Args args;
  add_keygen(app, args);
  add_serve(app, args);
  add_log(app, args);
  add_token(app, args);
  add_verify(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // One line, not CLI11's two: say what is wrong and where help is.
    std::fprintf(stderr, "medseal: %s (see --help)\n", e.what());
    return kExitUsage;
  }
  return dispatch(app, args, argv[0]);
}
