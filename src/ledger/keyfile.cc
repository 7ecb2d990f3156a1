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

// DIR/<vkey> must describe DIR/<key>; it is rewritten when missing (a crash between the two
// writes of write_key_files), and a different one is refused rather than trusted or replaced.
Status check_vkey_file(const std::string& dir, const note::SignerKey& key, KeyFileNames files) {
  std::string path = join(dir, files.vkey);
  std::string expected = note::format_verifier_key(note::verifier_of(key));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    MEDSEAL_RETURN_IF_ERROR(write_new_file(path, expected + "\n", 0644, false));
    return fsync_dir(dir);
  }
  auto vkey = read_verifier_key_file(path);
  if (!vkey) return vkey.status();
  if (note::format_verifier_key(*vkey) != expected) {
    return Status::precondition(path + " does not match " + join(dir, files.key));
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

Status write_key_files(const std::string& dir, const note::SignerKey& key, KeyFileNames files) {
  // The private key first: a crash before the vkey is written is repaired on the next load.
  MEDSEAL_RETURN_IF_ERROR(
      write_new_file(join(dir, files.key), note::format_signer_key(key) + "\n", 0600, true));
  std::string vkey = note::format_verifier_key(note::verifier_of(key)) + "\n";
  MEDSEAL_RETURN_IF_ERROR(write_new_file(join(dir, files.vkey), vkey, 0644, false));
  return fsync_dir(dir);
}

Result<note::SignerKey> load_or_create_key(const std::string& dir, KeyFileNames files,
                                           note::KeyType type, std::string_view name,
                                           std::string_view default_name) {
  std::string key_path = join(dir, files.key);
  auto existing = read_signer_key_file(key_path);
  if (existing) {
    if (!name.empty() && existing->name != name) {
      return Status::precondition("the key in " + key_path + " is named " + existing->name +
                                  ", not " + std::string(name));
    }
    if (existing->type != type) return Status::precondition(key_path + " holds a key of another type");
    MEDSEAL_RETURN_IF_ERROR(check_vkey_file(dir, *existing, files));
    return existing;
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();

  std::string new_name(name.empty() ? default_name : name);
  if (new_name.empty()) return Status::invalid(key_path + " does not exist and no key name was given");
  if (!note::valid_key_name(new_name)) return Status::invalid("invalid key name: " + new_name);
  note::SignerKey key = note::generate_signer_key(new_name, type);
  MEDSEAL_RETURN_IF_ERROR(write_key_files(dir, key, files));
  return key;
}

Result<note::SignerKey> load_or_create_log_key(const std::string& dir, std::string_view origin) {
  return load_or_create_key(dir, kLogKeyFiles, note::KeyType::kEd25519, origin, kDefaultOrigin);
}

}  // namespace medseal::ledger
