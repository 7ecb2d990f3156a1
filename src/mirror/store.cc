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
  staged_.clear();
  return Status::ok();
}

void MirrorStore::discard_staged() {
  for (const std::string& path : staged_) ::unlink(path.c_str());
  staged_.clear();
}

void MirrorStore::remove_tile(const merkle::TileId& id) { ::unlink(path_of(id).c_str()); }

}  // namespace medseal::mirror
