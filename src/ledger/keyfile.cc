#include "ledger/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/file_io.h"

namespace medseal::ledger {
namespace {

constexpr size_t kMaxKeyFileSize = 4096;  // a key line is < 200 bytes; anything big is not a key

std::string errno_text() { return std::strerror(errno); }

// The key text without one trailing newline; key files are written as a single line.
std::string_view key_line(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return text;
}

// Writes `text` to a new file with exactly `mode` (umask does not apply) and fsyncs it.
Status write_new_file(const std::string& path, std::string_view text, mode_t mode, bool exclusive) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : O_TRUNC);
  Fd fd(::open(path.c_str(), flags, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) return Status::precondition(path + " already exists; not overwriting it");
    return Status::io("cannot create " + path + ": " + errno_text());
  }
  if (::fchmod(fd.get(), mode) != 0) return Status::io("cannot chmod " + path + ": " + errno_text());
  MEDSEAL_RETURN_IF_ERROR(write_all(fd.get(), text, path));
  if (::fsync(fd.get()) != 0) return Status::io("cannot fsync " + path + ": " + errno_text());
  return Status::ok();
}

std::string join(const std::string& dir, std::string_view name) {
  return (std::filesystem::path(dir) / name).string();
}

// DIR/log.vkey must describe DIR/log.key; it is rewritten when missing (a crash between the two
// writes of write_key_files), and a different one is refused rather than trusted or replaced.
Status check_vkey_file(const std::string& dir, const note::SignerKey& key) {
  std::string path = join(dir, kLogVkeyFile);
  std::string expected = note::format_verifier_key(note::verifier_of(key));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    MEDSEAL_RETURN_IF_ERROR(write_new_file(path, expected + "\n", 0644, false));
    return fsync_dir(dir);
  }
  auto vkey = read_verifier_key_file(path);
  if (!vkey) return vkey.status();
  if (note::format_verifier_key(*vkey) != expected) {
    return Status::precondition(path + " does not match " + join(dir, kLogKeyFile));
  }
  return Status::ok();
}

}  // namespace

Result<note::SignerKey> read_signer_key_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::not_found(path + " does not exist");
    return Status::io("cannot open " + path + ": " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::io("cannot stat " + path + ": " + errno_text());
  MEDSEAL_RETURN_IF_ERROR(check_private_file(st, path));
  auto text = read_bounded(fd, path, kMaxKeyFileSize);
  if (!text) return text.status();
  auto key = note::parse_signer_key(key_line(*text));
  if (!key) return Status::invalid(path + ": " + key.status().message());
  return key;
}

Result<note::VerifierKey> read_verifier_key_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::not_found(path + " does not exist");
    return Status::io("cannot open " + path + ": " + errno_text());
  }
  auto text = read_bounded(fd, path, kMaxKeyFileSize);
  if (!text) return text.status();
  auto key = note::parse_verifier_key(key_line(*text));
  if (!key) return Status::invalid(path + ": " + key.status().message());
  return key;
}

Status write_key_files(const std::string& dir, const note::SignerKey& key) {
  // The private key first: a crash before the vkey is written is repaired on the next load.
  MEDSEAL_RETURN_IF_ERROR(
      write_new_file(join(dir, kLogKeyFile), note::format_signer_key(key) + "\n", 0600, true));
  std::string vkey = note::format_verifier_key(note::verifier_of(key)) + "\n";
  MEDSEAL_RETURN_IF_ERROR(write_new_file(join(dir, kLogVkeyFile), vkey, 0644, false));
  return fsync_dir(dir);
}

Result<note::SignerKey> load_or_create_log_key(const std::string& dir, std::string_view origin) {
  auto existing = read_signer_key_file(join(dir, kLogKeyFile));
  if (existing) {
    if (!origin.empty() && existing->name != origin) {
      return Status::precondition("the log key in " + dir + " is for origin " + existing->name +
                                  ", not " + std::string(origin));
    }
    MEDSEAL_RETURN_IF_ERROR(check_vkey_file(dir, *existing));
    return existing;
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();

  std::string name(origin.empty() ? kDefaultOrigin : origin);
  if (!note::valid_key_name(name)) return Status::invalid("invalid origin: " + name);
  note::SignerKey key = note::generate_signer_key(name);
  MEDSEAL_RETURN_IF_ERROR(write_key_files(dir, key));
  return key;
}

}  // namespace medseal::ledger
