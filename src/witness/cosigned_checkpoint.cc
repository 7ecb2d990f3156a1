#include "witness/cosigned_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/file_io.h"

namespace medseal::witness {
namespace {

Status io_error(const std::string& what, const std::string& path) {
  return Status::io(what + " " + path + ": " + std::strerror(errno));
}

bool is_key_of(const note::VerifiedSignature& sig, std::span<const note::VerifierKey> keys) {
  for (const note::VerifierKey& k : keys) {
    if (k.name == sig.key.name && k.id == sig.key.id) return true;
  }
  return false;
}

}  // namespace

Result<std::string> add_cosignatures(std::string_view log_note,
                                     std::span<const note::NoteSignature> cosignatures) {
  auto parsed = note::parse_note(log_note);
  if (!parsed) return parsed.status();
  if (parsed->signatures.size() + cosignatures.size() > note::kMaxSignatures) {
    return Status::invalid("too many signatures for one note");
  }
  parsed->signatures.insert(parsed->signatures.end(), cosignatures.begin(), cosignatures.end());
  return note::format_note(*parsed);
}

Result<CosignedCheckpoint> open_cosigned(std::string_view cosigned_note,
                                         const note::VerifierKey& log_key,
                                         std::span<const note::VerifierKey> witnesses,
                                         size_t quorum) {
  std::vector<note::VerifierKey> known(witnesses.begin(), witnesses.end());
  known.push_back(log_key);
  auto opened = note::open_note(cosigned_note, known);
  if (!opened) return Status::verification("cosigned checkpoint: " + opened.status().message());
  bool log_signed = false;
  size_t witness_count = 0;
  for (const note::VerifiedSignature& sig : opened->verified) {
    if (sig.key.name == log_key.name && sig.key.id == log_key.id) log_signed = true;
    else if (is_key_of(sig, witnesses)) ++witness_count;
  }
  if (!log_signed) return Status::verification("cosigned checkpoint is not signed by the log key");
  auto cp = note::parse_checkpoint(opened->text);
  if (!cp) return cp.status();
  if (cp->origin != log_key.name) return Status::verification("cosigned checkpoint is for another log");
  if (witness_count < quorum) {
    return Status::verification("cosigned checkpoint has " + std::to_string(witness_count) +
                                " witness cosignatures, fewer than the quorum of " +
                                std::to_string(quorum));
  }
  return CosignedCheckpoint{std::move(*cp), std::string(cosigned_note), witness_count};
}

Status save_cosigned(const std::string& path, std::string_view cosigned_note) {
  const std::string tmp = path + ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.ok()) return io_error("cannot create", tmp);
    MEDSEAL_RETURN_IF_ERROR(write_all(fd.get(), cosigned_note, tmp));
    if (::fsync(fd.get()) != 0) return io_error("cannot fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path);
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);
}

Result<std::string> load_cosigned(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    if (errno == ENOENT) return Status::not_found(path + " does not exist");
    return io_error("cannot open", path);
  }
  return read_bounded(fd, path, note::kMaxNoteSize);
}

}  // namespace medseal::witness
