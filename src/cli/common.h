// What every subcommand needs: one-line failure reports and reading its input files and keys.
#pragma once

#include <signal.h>

#include <cstddef>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "note/checkpoint.h"
#include "note/keys.h"
#include "tlog_client/tile_source.h"
#include "util/status.h"

namespace medseal::cli {

// Prints "medseal <command>: <reason>" on stderr and returns `code`.
int fail(std::string_view command, const std::string& reason, int code);
// The same for a Status: kInvalidArgument is a usage error (kExitUsage), anything else kExitFailure.
int fail(std::string_view command, const Status& status);

// A verifier key given as its text, or the name of a file holding one (as log.vkey does).
// kInvalidArgument if it is neither; the message names the command-line `flag` it came from.
Result<note::VerifierKey> load_vkey(const std::string& text_or_file, std::string_view flag = "--vkey");

// Each of `texts` through load_vkey.
Result<std::vector<note::VerifierKey>> load_vkeys(const std::vector<std::string>& texts);

// The whole of a file of at most `max_bytes`; kInvalidArgument if it cannot be read or is larger.
Result<std::string> read_input_file(const std::string& path, size_t max_bytes);

// A checkpoint note signed by `vkey` (origin = its name) and, if `witnesses` is not empty,
// cosigned by `quorum` of them (0: all). kInvalidArgument for an impossible policy,
// kVerificationFailed for a note that does not meet it.
Result<note::Checkpoint> open_checkpoint_with_quorum(std::string_view checkpoint_note, const note::VerifierKey& vkey,
                                                     const std::vector<note::VerifierKey>& witnesses, size_t quorum);

// Replaces the file's contents with `text`, or with `append` adds it at the end (creating the file).
Status write_text_file(const std::string& path, const std::string& text, bool append = false);

// A log's tiles at `url` (its tlog-tiles prefix) or in directory `dir`: exactly one of them.
Result<std::unique_ptr<tlog_client::TileSource>> open_tile_source(const std::string& url, const std::string& dir);
// A host as it appears in a URL: an IPv6 address in brackets.
std::string url_host(const std::string& host);

// SIGINT and SIGTERM: block them in every thread (before starting any) for serve_until_signal.
sigset_t shutdown_signals();

// Runs a server to its end: `run` (its run()) on this thread while another waits for SIGINT or
// SIGTERM and then calls `stop` (which must make run() return), so shutdown runs as ordinary
// code rather than in a signal handler. Logs "stopped"; returns kExitOk, or reports run()'s
// failure as `command`'s.
int serve_until_signal(std::string_view command, const std::function<Status()>& run,
                       const std::function<void()>& stop);

}  // namespace medseal::cli
