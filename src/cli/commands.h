// The medseal subcommands behind main.cc's flag parsing. Each returns the process exit code and
// reports failure as one line on stderr ("medseal <command>: <reason>").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/anomaly_flags.h"

namespace medseal::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the work failed (verification, I/O, state)
inline constexpr int kExitUsage = 2;    // the command line or an input file is malformed

struct KeygenArgs {
  std::string origin;
  std::string out_dir;
};
int run_keygen(const KeygenArgs& args);

struct ServeArgs {
  std::string program;      // argv[0], for the usage hints printed at start
  std::string data_dir;
  std::string store;        // a postgresql:// URL; empty: the embedded store in data_dir
  std::string listen = "127.0.0.1:8080";
  std::string advertise;    // with store: where other nodes reach this one; empty: the listen address
  std::string cluster_ca;   // with store: PEM certificates an https leader's may chain to; empty: tls_cert's chain
  std::string origin;       // empty: the stored key's, or the default for a new key
  size_t threads = 128;
  bool access_log = false;
  // "URL=VKEY" per witness (split at the first '='; VKEY a cosignature key or a file holding one).
  std::vector<std::string> witnesses;
  size_t witness_quorum = 0;  // 1..witnesses; 0: all of them
  // Where alerts go besides stderr, the ledger, DATA/alerts.db and GET /alerts (alerts/pipeline.h).
  std::vector<std::string> alert_webhooks;  // http(s) URLs
  std::vector<std::string> alert_syslogs;   // udp://HOST:PORT or tcp://HOST:PORT
  // TLS (server/tls.h): both or neither of cert and key; client CAs turn on mutual TLS.
  std::string tls_cert, tls_key;
  std::vector<std::string> client_cas;
  std::string crl;
  std::string identity_field = "serialNumber";
  bool allow_plain_http = false;   // plain HTTP on an address other machines can reach
  uint32_t auth_failure_limit = 20;  // failed authentications per minute per address or identity; 0: off
  uint64_t disk_reserve_mib = 16;  // DATA/disk.reserve, spent on reads when the disk fills; 0: off
  bool sentinel = true;       // --no-sentinel turns the tamper sentinel off
  AnomalyFlags anomalies;     // the sentinel's access-anomaly rules
  // What one client may hold (server/http_listener.h ConnectionLimits, whose defaults these are).
  size_t max_header_bytes = 32 << 10;
  uint32_t request_timeout_s = 30;
  uint32_t idle_timeout_s = 5;
  size_t max_connections_per_client = 64;
};
int run_serve(const ServeArgs& args);

// A tlog-witness (witness/witness.h) over HTTP, with its key in DIR/witness.key and DIR/witness.vkey
// (created on first start) and its state in DIR/witness.db.
struct WitnessArgs {
  std::string data_dir;
  std::string listen = "127.0.0.1:7380";
  std::string name;               // the witness's key name: required for a new key
  std::vector<std::string> logs;  // the watched logs' verifier keys, or files holding them
  size_t threads = 16;
};
int run_witness(const WitnessArgs& args);

struct LogAppendArgs {
  std::string data_dir;
  std::string store;  // as ServeArgs::store
  std::string origin;
};
int run_log_append(const LogAppendArgs& args);

struct LogVerifyArgs {
  std::string url;
  std::string dir;
  std::string checkpoint;   // with dir: a checkpoint file other than DIR/checkpoint
  std::string vkey;         // a verifier key, or a file holding one
  std::string old;          // an older checkpoint file the log must be consistent with
  std::string save;         // where to write the verified checkpoint (the next --old)
};
int run_log_verify(const LogVerifyArgs& args);

// Adds a bearer token to DIR/tokens and prints it (the only line on stdout). Works while a server
// holds the data directory: it takes no store lock, only the token file's own.
// The token expires after --expires-in (default 90d; "never" for none); its id goes to stderr.
struct TokenIssueArgs {
  std::string data_dir;
  std::string role;
  std::string name;
  std::string patient;  // role patient only: "Patient/<id>"
  std::string expires_in = "90d";  // N followed by s, m, h or d; or "never"
};
int run_token_issue(const TokenIssueArgs& args);

// Revokes a token by its id (or an unambiguous prefix of 8+ hex digits) or every token of a name;
// a running server refuses it within about 100 ms. Prints the ids revoked.
struct TokenRevokeArgs {
  std::string data_dir;
  std::string id_or_name;
};
int run_token_revoke(const TokenRevokeArgs& args);

// "90d", "12h", "30m", "45s" -> milliseconds; 0 for "never". False for anything else.
bool parse_duration_ms(const std::string& text, uint64_t* ms);

// medseal user add|list|revoke: the people who log in with a client certificate (DATA/users).
struct UserArgs {
  std::string data_dir;
  std::string person;  // the certificate's identity field, e.g. PNOEE-38001085718
  std::string role;
  std::string name;
  std::string patient;
};
int run_user_add(const UserArgs& args);
int run_user_list(const UserArgs& args);
int run_user_revoke(const UserArgs& args);

// medseal verify, in one of four modes (exit kExitOk verified, kExitFailure did not verify, with
// one line on stderr saying why, kExitUsage for a bad command line or malformed input):
//  - a receipt (DESIGN.md 4.4) against the log key, and optionally k of n witness keys that must
//    have cosigned its checkpoint; with --resource, the resource's bytes against the statement;
//  - a receipt against a publication code: no key at all, the code pins origin, size and root;
//  - consistency of an old checkpoint with a new one (a file, or the log's current checkpoint),
//    by a proof computed from the log's tiles at --url or --dir;
//  - with only --url or --dir: the whole log, as `medseal log verify`.
struct VerifyArgs {
  std::string receipt;   // a receipt file
  std::string resource;  // optional: the resource's exact bytes
  std::string vkey;      // a verifier key, or a file holding one
  std::vector<std::string> witnesses;  // witness verifier keys (or files)
  size_t quorum = 0;                   // witnesses that must have cosigned; 0: all given
  std::string publication;             // a publication code
  std::string old_checkpoint;          // consistency: the older checkpoint file
  std::string new_checkpoint;          // consistency: the newer one (default: the log's current)
  std::string url, dir;                // the log's tiles
};
int run_verify(const VerifyArgs& args);
int run_verify_consistency(const VerifyArgs& args);

// medseal publish: the log's current checkpoint, once its log signature and witness quorum
// verify, as a publication code on stdout; appended to a publications file after checking that it
// extends the file's last publication of the same log.
struct PublishArgs {
  std::string url;
  std::string vkey;
  std::vector<std::string> witnesses;
  size_t quorum = 0;
  std::string append_to;  // a publications file (created if absent)
};
int run_publish(const PublishArgs& args);

// medseal extend: a receipt re-proven against a published tree size (proofs from the log's tiles,
// checked against the publication's root), carrying the published checkpoint note.
struct ExtendArgs {
  std::string receipt;
  std::string url;
  std::string publication;   // a code; with --publications, which record to use
  std::string publications;  // a publications file
  std::string vkey;          // optional: also check the old receipt's log signature
  std::string out;
};
int run_extend(const ExtendArgs& args);

// Follows a log, verifying and storing every new checkpoint and the tiles that changed, serves
// what it verified like the log, and raises alerts (stderr and DIR/alerts.jsonl) on rollback,
// fork (also against --peer views) and bad signatures. --once: one round, then exit 0 if the
// round verified without alert or error, 1 otherwise.
struct MirrorArgs {
  std::string url;       // the log's tlog-tiles prefix
  std::string vkey;      // the log's verifier key, or a file holding it
  std::string data_dir;
  std::string listen = "127.0.0.1:8081";
  uint64_t interval_ms = 5000;
  std::vector<std::string> witnesses;  // cosignature verifier keys, or files holding them
  size_t quorum = 0;                   // witnesses that must have cosigned to adopt; 0: all given
  std::vector<std::string> peers;      // other views of the same log (tlog-tiles prefixes)
  bool once = false;
};
int run_mirror(const MirrorArgs& args);

// medseal monitor --data DIR: the sentinel (sentinel/sentinel.h) beside a running server, alerts
// as JSON lines on stderr (and --alerts FILE); with --full, one whole pass with progress and its
// MB/s, exit 0 if it raised no alert, 1 otherwise.
struct MonitorArgs {
  std::string data_dir;
  std::string store;        // with data_dir: a postgresql:// store instead of DIR/medseal.db
  std::string vkey;         // default DIR/log.vkey
  std::string alerts_file;  // also append alerts here
  std::string state_file;   // default DIR/monitor.state (another user: a file of its own)
  uint64_t poll_ms = 50;
  bool full = false;
  AnomalyFlags anomalies;   // the access-anomaly rules (not with --full)
  // --url: the remote monitor (sentinel/remote_monitor.h); state_file is then a directory.
  std::string url;                    // the server's base URL (http[s]://host:port)
  std::string token_file;             // an auditor's bearer token
  std::vector<std::string> witnesses; // witness verifier keys (or files)
  size_t quorum = 0;                  // 0: all witnesses given
  uint64_t recheck_ms = 1000;         // one older statements page per interval; 0: never
  std::vector<std::string> alert_webhooks;  // with --url: through a durable outbox in the state dir
  std::vector<std::string> alert_syslogs;
};
int run_monitor(const MonitorArgs& args);

// medseal forensics --data DIR: what was altered and what was read by whom (sentinel/forensics.h),
// from the store, read-only (no state file is written; a running server is not disturbed). A
// table, or with --json the report's JSON. Exit kExitOk when nothing was altered (erasures are
// not alterations), kExitFailure when something was (or the store could not be read), kExitUsage
// for a bad command line. Reading the report here is not recorded in the ledger (the store is
// not written): GET /forensics is the recorded way.
struct ForensicsArgs {
  std::string data_dir;
  std::string store;    // postgresql://...: the store serve --store keeps; "" for DIR's embedded store
  std::string vkey;     // default DIR/log.vkey
  std::string state_file;  // default DIR/sentinel.state (read if present)
  std::string since, until;  // RFC 3339 or Unix ms
  std::string identity, patient;
  bool json = false;
};
int run_forensics(const ForensicsArgs& args);

// "HOST:PORT" or "[IPV6]:PORT" with a port of 0..65535 (0: any free port).
struct ListenAddress {
  std::string host;
  int port = 0;
};
bool parse_listen_address(const std::string& text, ListenAddress* out);

}  // namespace medseal::cli
