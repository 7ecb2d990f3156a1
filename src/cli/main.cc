// medseal: flag parsing only; each subcommand is a function in cli/commands.h.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/anomaly_flags.h"
#include "cli/commands.h"
#include "ledger/keyfile.h"

namespace {

using namespace medseal::cli;

struct Args {
  KeygenArgs keygen{std::string(medseal::ledger::kDefaultOrigin), ""};
  ServeArgs serve;
  WitnessArgs witness;
  LogAppendArgs append;
  LogVerifyArgs verify;
  TokenIssueArgs token;
  TokenRevokeArgs revoke;
  UserArgs user;
  VerifyArgs receipt;
  PublishArgs publish;
  ExtendArgs extend;
  MirrorArgs mirror;
  MonitorArgs monitor;
  ForensicsArgs forensics;
  bool no_sentinel = false;
};

constexpr const char* kExitCodes =
    "Exit codes: 0 verified; 1 did not verify (one line on stderr says why); 2 usage error or malformed input.";

void add_keygen(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand("keygen", "Write a new log key pair: DIR/log.key (mode 0600) and DIR/log.vkey");
  cmd->add_option("--origin", a.keygen.origin, "The log's origin, its key name")->capture_default_str();
  cmd->add_option("--out", a.keygen.out_dir, "Directory for the key files (created if absent)")->required();
}

// What one client may hold (server/http_listener.h): slow or idle clients cannot hold the server.
void add_serve_limits(CLI::App& cmd, ServeArgs& s) {
  cmd.add_option("--max-header-bytes", s.max_header_bytes, "Request line and headers, bytes (1024..1048576; over: 431)")
      ->capture_default_str();
  cmd.add_option("--request-timeout", s.request_timeout_s,
                 "Seconds from a request's first byte to its last (1..3600; over: 408)")
      ->capture_default_str();
  cmd.add_option("--idle-timeout", s.idle_timeout_s,
                 "Seconds a kept-alive connection may wait for its next request (1..3600)")
      ->capture_default_str();
  cmd.add_option("--max-connections-per-client", s.max_connections_per_client,
                 "Connections served at once from one address (IPv6: one /64); 0: no limit")
      ->capture_default_str();
}

void add_serve(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand("serve", "Serve the ledger over HTTP (creates keys and store on first start)");
  cmd->add_option("--data", a.serve.data_dir, "Data directory: keys and the embedded store")->required();
  cmd->add_option("--store", a.serve.store,
                  "postgresql://... : keep the ledger in PostgreSQL instead of DATA (keys stay in DATA); "
                  "several nodes may share one database (README, Three nodes on one PostgreSQL)");
  cmd->add_option("--advertise", a.serve.advertise,
                  "With --store: the http(s)://HOST:PORT other nodes forward requests to while this node "
                  "leads (default: the listen address, https with --tls-cert)");
  cmd->add_option("--cluster-ca", a.serve.cluster_ca,
                  "With --store over https: PEM certificates the leader's certificate must chain to "
                  "(besides the system's CAs; default: this node's --tls-cert chain)");
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
  cmd->add_option("--alert-webhook", a.serve.alert_webhooks,
                  "POST every alert as JSON to this http(s) URL, retried until acknowledged (repeatable)");
  cmd->add_option("--alert-syslog", a.serve.alert_syslogs,
                  "Send every alert as RFC 5424 syslog to udp://HOST:PORT or tcp://HOST:PORT (repeatable)");
  cmd->add_option("--tls-cert", a.serve.tls_cert, "PEM server certificate (and chain): serve HTTPS, TLS 1.2+");
  cmd->add_option("--tls-key", a.serve.tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--client-ca", a.serve.client_cas,
                  "PEM CA bundle for client certificates (mutual TLS; repeatable)");
  cmd->add_option("--crl", a.serve.crl, "PEM revocation list(s) of the client CAs");
  cmd->add_option("--identity-field", a.serve.identity_field,
                  "Client certificate subject field naming the person (serialNumber, CN, UID, ...)")
      ->capture_default_str();
  cmd->add_flag("--allow-plain-http", a.serve.allow_plain_http,
                "Allow plain HTTP on an address other machines can reach");
  cmd->add_option("--auth-failure-limit", a.serve.auth_failure_limit,
                  "Failed authentications per minute per address or identity before 429 (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--disk-reserve", a.serve.disk_reserve_mib,
                  "MiB kept free in DATA/disk.reserve: when the disk fills, writes answer 503 and the "
                  "reserve is freed so reads (each one recorded) go on (0: off; embedded store only)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--no-sentinel", a.no_sentinel,
                "Do not run the tamper sentinel (on by default; alerts as JSON lines on stderr); "
                "the access-anomaly rules below run inside it");
  add_anomaly_flags(cmd, a.serve.anomalies);
  add_serve_limits(*cmd, a.serve);
}

void add_monitor(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "monitor", "Watch a running server's store for tampering (same host, read-only), alerting "
                 "within a second; --full verifies the whole store once and reports MB/s; --url "
                 "watches a server from a distance through its public log and an auditor account");
  cmd->footer(
      "With --url URL --token-file F --vkey K --state DIR it watches a server from a distance: it "
      "follows the public log like a mirror (log-rollback, fork, bad-signature) and, through an "
      "auditor's GET /ledger/statements pages, checks every entry's statement and salt against the "
      "verified leaf and every record version's stored bytes against its statement "
      "(content-mismatch, missing-entry, missing-row, unexpected-row), and the store's head against "
      "the verified size (log-rollback). New entries are checked as they appear; older ones again "
      "by a rolling re-check, one page of 1000 entries per --recheck-ms. Each page read is one "
      "access entry on the server. It cannot see: rows inserted beyond the log's head, foreign "
      "writes that change nothing a statement commits to, reads made directly on the store, or a "
      "server process that lies about its own store (see the README).");
  auto* data = cmd->add_option("--data", a.monitor.data_dir, "The server's data directory (same host)");
  auto* url = cmd->add_option("--url", a.monitor.url,
                              "A server's base URL, e.g. http://127.0.0.1:8080: the remote monitor");
  data->excludes(url);
  cmd->add_option("--store", a.monitor.store,
                  "With --data: the server's PostgreSQL store (postgresql://...), as serve --store took it")
      ->excludes(url);
  cmd->add_option("--vkey", a.monitor.vkey, "The log's verifier key (default DIR/log.vkey; required with --url)");
  cmd->add_option("--token-file", a.monitor.token_file, "With --url: a file holding an auditor's bearer token");
  cmd->add_option("--witness", a.monitor.witnesses,
                  "With --url: a witness cosignature verifier key (or a file holding one); repeatable");
  cmd->add_option("--quorum", a.monitor.quorum, "With --url: cosignatures a checkpoint needs (default: all witnesses)");
  cmd->add_option("--recheck-ms", a.monitor.recheck_ms,
                  "With --url: re-check one older page of entries per interval (0: never)")
      ->capture_default_str();
  cmd->add_option("--alert-webhook", a.monitor.alert_webhooks,
                  "With --url: POST every alert as JSON to this http(s) URL, retried until "
                  "acknowledged, from a durable outbox in the state directory (repeatable)");
  cmd->add_option("--alert-syslog", a.monitor.alert_syslogs,
                  "With --url: send every alert as RFC 5424 syslog to udp://HOST:PORT or tcp://HOST:PORT (repeatable)");
  cmd->add_option("--alerts", a.monitor.alerts_file, "Also append alerts to this JSON-lines file");
  cmd->add_option("--state", a.monitor.state_file,
                  "Where to keep the newest verified checkpoint (default DIR/monitor.state); with "
                  "--url a directory (required) for the verified log and the monitor's cursor");
  cmd->add_option("--poll-ms", a.monitor.poll_ms, "How often to look for changes")->capture_default_str();
  cmd->add_flag("--full", a.monitor.full, "One whole pass with progress, then exit 0 (clean) or 1");
  add_anomaly_flags(cmd, a.monitor.anomalies);
}

void add_forensics(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "forensics", "What data was stolen or tampered with: every altered entry (what the ledger "
                   "committed, what the store holds now) and every access in a window, from the "
                   "store, read-only (a running server is not disturbed)");
  cmd->footer("Exit codes: 0 nothing altered; 1 altered entries found (or the store could not be read); "
              "2 usage error.");
  cmd->add_option("--data", a.forensics.data_dir, "The server's data directory")->required();
  cmd->add_option("--store", a.forensics.store,
                  "The server's PostgreSQL store (postgresql://...), as serve --store took it");
  cmd->add_option("--vkey", a.forensics.vkey, "The log's verifier key (default DIR/log.vkey)");
  cmd->add_option("--state", a.forensics.state_file,
                  "The sentinel state to check against, read only (default DIR/sentinel.state)");
  cmd->add_option("--since", a.forensics.since, "Accesses at or after T (RFC 3339 or Unix ms)");
  cmd->add_option("--until", a.forensics.until, "Accesses at or before T (RFC 3339 or Unix ms)");
  auto* who = cmd->add_option("--identity", a.forensics.identity,
                              "Only this identity's accesses, and the patients it touched");
  auto* patient = cmd->add_option("--patient", a.forensics.patient,
                                  "Only accesses to Patient/ID, and the identities that touched it");
  who->excludes(patient);
  cmd->add_flag("--json", a.forensics.json, "The report as JSON (the shape GET /forensics serves)");
}

void add_witness(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "witness", "Serve a tlog-witness (POST /add-checkpoint) for the given logs; creates "
                 "DIR/witness.key and DIR/witness.vkey on first start");
  cmd->add_option("--data", a.witness.data_dir, "Data directory: the witness key and its store")->required();
  cmd->add_option("--listen", a.witness.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--log", a.witness.logs, "A watched log's verifier key, or a file holding one (repeatable)")
      ->required();
  cmd->add_option("--name", a.witness.name,
                  "The witness's key name, e.g. witness.example.org/w1 (required for a new key; "
                  "must match an existing key)");
  cmd->add_option("--threads", a.witness.threads, "Connections served at once")->capture_default_str();
}

void add_log(CLI::App& app, Args& a) {
  auto* log = app.add_subcommand("log", "Work with a tlog-tiles log");
  log->require_subcommand(1);
  auto* append = log->add_subcommand(
      "append", "Append one system entry per line of standard input (the line is the statement); "
                "the data directory must not be in use by a server");
  append->add_option("--data", a.append.data_dir, "Data directory")->required();
  append->add_option("--store", a.append.store, "postgresql://... : the ledger's PostgreSQL store");
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
      "issue", "Add a bearer token to DIR/tokens and print it (its id on stderr); works while a server runs");
  issue->add_option("--data", a.token.data_dir, "Data directory")->required();
  issue->add_option("--role", a.token.role, "admin, clinician, auditor or patient")->required();
  issue->add_option("--name", a.token.name, "The identity's name in ledger statements")->required();
  issue->add_option("--patient", a.token.patient, "With --role patient: their compartment, Patient/<id>");
  issue->add_option("--expires-in", a.token.expires_in, "Lifetime: N followed by s, m, h or d, or never")
      ->capture_default_str();
  auto* revoke = token->add_subcommand(
      "revoke", "Revoke a token by id (or 8+ hex digits of it) or every token of a name; a running server "
                "refuses it within about 100 ms");
  revoke->add_option("--data", a.revoke.data_dir, "Data directory")->required();
  revoke->add_option("id_or_name", a.revoke.id_or_name, "A token id (prefix) or an identity name")->required();
}

void add_user(CLI::App& app, Args& a) {
  auto* user = app.add_subcommand("user", "Manage the people who log in with a client certificate (DIR/users)");
  user->require_subcommand(1);
  auto* add = user->add_subcommand("add", "Map a certificate's person (e.g. PNOEE-38001085718) to an identity");
  add->add_option("--data", a.user.data_dir, "Data directory")->required();
  add->add_option("--person", a.user.person, "The certificate subject's identity field value")->required();
  add->add_option("--role", a.user.role, "admin, clinician, auditor or patient")->required();
  add->add_option("--name", a.user.name, "The identity's name in ledger statements")->required();
  add->add_option("--patient", a.user.patient, "With --role patient: their compartment, Patient/<id>");
  auto* list = user->add_subcommand("list", "One line per person: PERSON NAME ROLE [PATIENT] active|revoked");
  list->add_option("--data", a.user.data_dir, "Data directory")->required();
  auto* revoke = user->add_subcommand("revoke", "End a person's access; a running server refuses them within 100 ms");
  revoke->add_option("--data", a.user.data_dir, "Data directory")->required();
  revoke->add_option("--person", a.user.person, "The person to revoke")->required();
}

void add_witness_policy(CLI::App* cmd, std::vector<std::string>& witnesses, size_t& quorum) {
  cmd->add_option("--witness", witnesses, "A witness's verifier key (or a file holding one); repeatable");
  cmd->add_option("--quorum", quorum, "How many of the --witness keys must have cosigned (default: all)")
      ->check(CLI::PositiveNumber);
}

void add_verify(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Verify, offline where possible:\n"
      "  a receipt:    --receipt F --vkey LOG [--witness W ... [--quorum K]] [--resource R]\n"
      "                (commitment, inclusion proof, log signature, K of the witnesses' cosignatures)\n"
      "  with no key:  --receipt F --publication CODE   (a receipt extended to a published size)\n"
      "  consistency:  --old CHECKPOINT [--new CHECKPOINT] (--url LOG_URL | --dir DIR) --vkey LOG\n"
      "  a whole log:  --url LOG_URL | --dir DIR --vkey LOG   (as medseal log verify)");
  cmd->footer(kExitCodes);
  cmd->add_option("--receipt", a.receipt.receipt, "A receipt file (from /ledger/receipts/N or $receipt)");
  cmd->add_option("--resource", a.receipt.resource, "The resource's exact bytes as served");
  cmd->add_option("--vkey", a.receipt.vkey, "The log's verifier key, or a file holding it");
  add_witness_policy(cmd, a.receipt.witnesses, a.receipt.quorum);
  cmd->add_option("--publication", a.receipt.publication, "A publication code, as printed (quote it)");
  cmd->add_option("--old", a.receipt.old_checkpoint, "An older checkpoint file the log must extend");
  cmd->add_option("--new", a.receipt.new_checkpoint, "A newer checkpoint file (default: the log's current one)");
  auto* url = cmd->add_option("--url", a.receipt.url, "The log's tlog-tiles prefix, e.g. http://127.0.0.1:8080/log");
  auto* dir = cmd->add_option("--dir", a.receipt.dir, "A directory laid out as tlog-tiles");
  url->excludes(dir);
}

void add_publish(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "publish", "Print a publication code for the log's current checkpoint once its signature and witness "
                 "quorum verify; with --append-to, add it to a publications file if it extends the last one");
  cmd->footer(kExitCodes);
  cmd->add_option("--url", a.publish.url, "The log's tlog-tiles prefix, e.g. https://log.example.org/log")->required();
  cmd->add_option("--vkey", a.publish.vkey, "The log's verifier key, or a file holding it")->required();
  add_witness_policy(cmd, a.publish.witnesses, a.publish.quorum);
  cmd->add_option("--append-to", a.publish.append_to, "A publications file (JSON lines; created if absent)");
}

void add_extend(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "extend", "Re-prove a receipt against a published tree size, so that medseal verify --publication CODE "
                "checks it with no key; proofs come from the log's tiles and are checked against the publication");
  cmd->footer(kExitCodes);
  cmd->add_option("--receipt", a.extend.receipt, "The receipt to extend")->required();
  cmd->add_option("--url", a.extend.url, "The log's tlog-tiles prefix")->required();
  cmd->add_option("--publication", a.extend.publication,
                  "The publication code; alone, the log's current checkpoint must be the published one");
  cmd->add_option("--publications", a.extend.publications,
                  "A publications file: the code's record, or without a code the first that covers the receipt");
  cmd->add_option("--vkey", a.extend.vkey, "Optional: also check the receipt's log signature");
  cmd->add_option("--out", a.extend.out, "Where to write the extended receipt")->required();
}

void add_mirror(CLI::App& app, Args& a) {
  auto* cmd = app.add_subcommand(
      "mirror", "Follow a log: verify every new checkpoint and its consistency, keep and serve the "
                "verified tiles, alert on rollback, fork and bad signatures");
  cmd->add_option("--url", a.mirror.url, "The log's tlog-tiles prefix, e.g. http://127.0.0.1:8080/log")->required();
  cmd->add_option("--vkey", a.mirror.vkey, "The log's verifier key, or a file holding it")->required();
  cmd->add_option("--data", a.mirror.data_dir, "Directory for the verified tiles and alerts.jsonl")->required();
  cmd->add_option("--listen", a.mirror.listen, "HOST:PORT to serve the mirror on")->capture_default_str();
  cmd->add_option("--interval-ms", a.mirror.interval_ms, "Time between polls")->capture_default_str();
  add_witness_policy(cmd, a.mirror.witnesses, a.mirror.quorum);
  cmd->add_option("--peer", a.mirror.peers, "Another view of the log (a mirror's /log URL); repeatable");
  cmd->add_flag("--once", a.mirror.once, "One round, then exit 0 if verified, 1 on an alert or error");
}

int dispatch(CLI::App& app, Args& a, const char* program) {
  if (CLI::App* token = app.get_subcommand("token"); token->parsed()) {
    return token->got_subcommand("issue") ? run_token_issue(a.token) : run_token_revoke(a.revoke);
  }
  if (CLI::App* user = app.get_subcommand("user"); user->parsed()) {
    if (user->got_subcommand("add")) return run_user_add(a.user);
    if (user->got_subcommand("list")) return run_user_list(a.user);
    return run_user_revoke(a.user);
  }
  if (app.got_subcommand("verify")) return run_verify(a.receipt);
  if (app.got_subcommand("publish")) return run_publish(a.publish);
  if (app.got_subcommand("extend")) return run_extend(a.extend);
  if (app.got_subcommand("keygen")) return run_keygen(a.keygen);
  if (app.got_subcommand("mirror")) return run_mirror(a.mirror);
  if (app.got_subcommand("monitor")) return run_monitor(a.monitor);
  if (app.got_subcommand("forensics")) return run_forensics(a.forensics);
  if (app.got_subcommand("witness")) return run_witness(a.witness);
  if (app.got_subcommand("serve")) {
    a.serve.program = program;
    a.serve.sentinel = !a.no_sentinel;
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
  add_witness(app, args);
  add_log(app, args);
  add_token(app, args);
  add_user(app, args);
  add_verify(app, args);
  add_publish(app, args);
  add_extend(app, args);
  add_mirror(app, args);
  add_monitor(app, args);
  add_forensics(app, args);
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
