// What every subcommand needs: one-line failure reports and reading its input files and keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "note/keys.h"
#include "util/status.h"

namespace medseal::cli {

// Prints "medseal <command>: <reason>" on stderr and returns `code`.
int fail(std::string_view command, const std::string& reason, int code);
// The same for a Status: kInvalidArgument is a usage error (kExitUsage), anything else kExitFailure.
int fail(std::string_view command, const Status& status);

// A verifier key given as its text, or the name of a file holding one (as log.vkey does).
// kInvalidArgument if it is neither.
Result<note::VerifierKey> load_vkey(const std::string& text_or_file);

// The whole of a file of at most `max_bytes`; kInvalidArgument if it cannot be read or is larger.
Result<std::string> read_input_file(const std::string& path, size_t max_bytes);

}  // namespace medseal::cli
