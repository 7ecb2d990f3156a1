// The medseal subcommands behind main.cc's flag parsing. Each returns the process exit code and
// reports failure as one line on stderr ("medseal <command>: <reason>").
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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
  std::string listen = "127.0.0.1:8080";
  std::string origin;       // empty: the stored key's, or the default for a new key
  size_t threads = 128;
  bool access_log = false;
  // "URL=VKEY" per witness (split at the first '='; VKEY a cosignature key or a file holding one).
  std::vector<std::string> witnesses;
  size_t witness_quorum = 0;  // 1..witnesses; 0: all of them
};
int run_serve(const ServeArgs& args);

struct LogAppendArgs {
  std::string data_dir;
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
struct TokenIssueArgs {
  std::string data_dir;
  std::string role;
  std::string name;
  std::string patient;  // role patient only: "Patient/<id>"
};
int run_token_issue(const TokenIssueArgs& args);

// Verifies a receipt offline (DESIGN.md 4.4) and, given the resource's bytes, that they are the
// ones the entry's statement names. One line on stdout when it verifies; one line on stderr
// saying what failed (kExitFailure) otherwise.
struct VerifyArgs {
  std::string receipt;   // a receipt file
  std::string resource;  // optional: the resource's exact bytes
  std::string vkey;      // a verifier key, or a file holding one
};
int run_verify(const VerifyArgs& args);

// "HOST:PORT" or "[IPV6]:PORT" with a port of 0..65535 (0: any free port).
struct ListenAddress {
  std::string host;
  int port = 0;
};
bool parse_listen_address(const std::string& text, ListenAddress* out);

}  // namespace medseal::cli
