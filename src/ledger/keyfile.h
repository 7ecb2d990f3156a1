// The log's signing key on disk (DESIGN.md section 5): DIR/log.key holds the signer key in its
// "PRIVATE+KEY+name+hex8+base64" form with mode 0600, DIR/log.vkey the public verifier key that
// clients pin. The key name is the log's origin.
#pragma once

#include <string>
#include <string_view>

#include "note/keys.h"
#include "util/status.h"

namespace medseal::ledger {

inline constexpr std::string_view kDefaultOrigin = "localhost/medseal";
inline constexpr std::string_view kLogKeyFile = "log.key";
inline constexpr std::string_view kLogVkeyFile = "log.vkey";

// Reads a signer key file. Refuses (kFailedPrecondition) a file that is not a regular file or
// that its group or others may read or write: a leaked log key lets anyone sign checkpoints.
Result<note::SignerKey> read_signer_key_file(const std::string& path);

// Reads a verifier key file (one line; a trailing newline is allowed).
Result<note::VerifierKey> read_verifier_key_file(const std::string& path);

// The two files of a key pair in a directory: the log's (log.key, log.vkey) or another
// signer's, such as a witness's.
struct KeyFileNames {
  std::string_view key;
  std::string_view vkey;
};
inline constexpr KeyFileNames kLogKeyFiles{kLogKeyFile, kLogVkeyFile};

// Writes DIR/<files.key> (mode 0600, created exclusively: an existing key is never overwritten)
// and DIR/<files.vkey>, and makes both durable. DIR must exist.
Status write_key_files(const std::string& dir, const note::SignerKey& key,
                       KeyFileNames files = kLogKeyFiles);

// Loads DIR/<files.key> (repairing a missing vkey file and refusing one that does not match), or
// generates a fresh key of `type` and writes both files when DIR has none. The new key is named
// `name`, or `default_name` when `name` is empty; both empty is kInvalidArgument. A non-empty
// `name` that differs from the stored key's, or a stored key of another type, is
// kFailedPrecondition: a signer never silently changes identity.
Result<note::SignerKey> load_or_create_key(const std::string& dir, KeyFileNames files,
                                           note::KeyType type, std::string_view name,
                                           std::string_view default_name);

// Loads DIR/log.key, or generates a fresh Ed25519 key named `origin` and writes it (and
// DIR/log.vkey) when DIR has none. An empty `origin` means: whatever the existing key says, or
// kDefaultOrigin for a new key. A non-empty `origin` that differs from the stored key's name is
// kFailedPrecondition, so a log never silently changes identity.
Result<note::SignerKey> load_or_create_log_key(const std::string& dir, std::string_view origin);

}  // namespace medseal::ledger
