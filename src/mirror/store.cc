#include "mirror/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tlog_client/tile_source.h"
#include "util/file_io.h"

namespace medseal::mirror {
namespace {

namespace fs = std::filesystem;

Status make_dirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io("cannot create " + dir + ": " + ec.message());
  return Status::ok();
}

// Writes `bytes` to `path` through a temporary file and a rename, so a reader sees the old file or
// the whole new one. Durability is the caller's (syncfs or fsync).
Status replace_file(const std::string& path, std::string_view bytes, bool sync) {
  std::string tmp = path + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.ok()) return Status::io("cannot create " + tmp + ": " + std::strerror(errno));
  MEDSEAL_RETURN_IF_ERROR(write_all(fd.get(), bytes, tmp));
  if (sync && ::fsync(fd.get()) != 0) return Status::io("cannot fsync " + tmp + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::io("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Result<std::string> read_file_bounded(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    if (errno == ENOENT) return Status::not_found(path + " does not exist");
    return Status::io("cannot open " + path + ": " + std::strerror(errno));
  }
  return read_bounded(fd, path, max_bytes);
}

}  // namespace

Result<MirrorStore> MirrorStore::open(const std::string& dir) {
  MirrorStore store(dir);
  MEDSEAL_RETURN_IF_ERROR(make_dirs(store.log_dir()));
  return store;
}

std::string MirrorStore::path_of(const merkle::TileId& id) const {
  return log_dir() + "/" + merkle::tile_path(id);  // canonical: no "..", stays inside DIR/log
}

Result<std::optional<std::string>> MirrorStore::read_checkpoint() const {
  auto text = read_file_bounded(log_dir() + "/checkpoint", tlog_client::kMaxCheckpointBytes);
  if (text) return std::optional<std::string>(std::move(*text));
  if (text.status().code() == Code::kNotFound) return std::optional<std::string>();
  return text.status();
}

Result<std::string> MirrorStore::read_tile(const merkle::TileId& id, uint64_t size) const {
  uint32_t width = merkle::tile_width(id.level, id.index, size);
  if (width == 0 || id.width > width) return Status::not_found(merkle::tile_path(id) + " is not in the tree");
  merkle::TileId stored = id;
  stored.width = width;
  size_t limit = id.entries ? tlog_client::kMaxBundleBytes : tlog_client::kMaxHashTileBytes;
  auto bytes = read_file_bounded(path_of(stored), limit);
  if (!bytes || stored.width == id.width) return bytes;
  return tlog_client::cut_tile(id, std::move(*bytes));
}

Status MirrorStore::stage_tile(const merkle::TileId& id, std::string_view bytes) {
  std::string path = path_of(id);
  MEDSEAL_RETURN_IF_ERROR(make_dirs(fs::path(path).parent_path().string()));
  MEDSEAL_RETURN_IF_ERROR(replace_file(path, bytes, false));
  staged_.push_back(std::move(path));
  return Status::ok();
}

Status MirrorStore::commit(std::string_view checkpoint_note) {
  if (!staged_.empty()) {
    // One syncfs makes every staged file and directory entry durable, instead of an fsync per
    // file and per directory.
    Fd fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.ok() || ::syncfs(fd.get()) != 0) {
      return Status::io("cannot sync " + dir_ + ": " + std::strerror(errno));
    }
  }
  MEDSEAL_RETURN_IF_ERROR(replace_file(log_dir() + "/checkpoint", checkpoint_note, true));
  MEDSEAL_RETURN_IF_ERROR(fsync_dir(log_dir()));
  staged_.clear();
  return Status::ok();
}

void MirrorStore::discard_staged() {
  for (const std::string& path : staged_) ::unlink(path.c_str());
  staged_.clear();
}

void MirrorStore::remove_tile(const merkle::TileId& id) { ::unlink(path_of(id).c_str()); }

}  // namespace medseal::mirror
